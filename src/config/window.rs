//! `[window]`: the span the aligner cuts and the encoder sees. The defaults match
//! the default encoder: 5.12 s at 25 Hz (L = 128 IMU samples) and 8 frames.
//! `params` hands the section to the aligner as `align::WindowParams`; every
//! window this section accepts is one `align::WindowSpec::new` accepts too.

use super::check::{float_text, Bound, Checker};
use super::error::ConfigErrors;
use super::raw::RawWindow;
use crate::align::WindowParams;
use std::path::Path;

pub const DEFAULT_SECONDS: f64 = 5.12;
pub const DEFAULT_STRIDE_SECONDS: f64 = 1.0;
pub const DEFAULT_IMU_RATE_HZ: u32 = 25;
pub const DEFAULT_FRAMES: usize = 8;
pub const DEFAULT_MIN_COVERAGE: f64 = 0.8;
pub const DEFAULT_MAX_GAP_SECONDS: f64 = 0.5;
pub const MAX_SECONDS: f64 = 60.0;
/// The aligner resamples the IMU onto L grid points and refuses L < 2 (one
/// point cannot show a signal's shape; `align::WindowSpec::new`).
pub const MIN_IMU_LEN: usize = 2;

/// The validated `[window]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowConfig {
    seconds: f64,
    stride_seconds: f64,
    imu_rate_hz: u32,
    frames: usize,
    min_coverage: f64,
    max_gap_seconds: f64,
}

impl Default for WindowConfig {
    fn default() -> WindowConfig {
        WindowConfig {
            seconds: DEFAULT_SECONDS,
            stride_seconds: DEFAULT_STRIDE_SECONDS,
            imu_rate_hz: DEFAULT_IMU_RATE_HZ,
            frames: DEFAULT_FRAMES,
            min_coverage: DEFAULT_MIN_COVERAGE,
            max_gap_seconds: DEFAULT_MAX_GAP_SECONDS,
        }
    }
}

impl WindowConfig {
    /// Checks a `[window]` table on its own (for callers that need a window
    /// shape without a whole profile, such as aligner tests and benchmarks).
    pub fn new(raw: &RawWindow) -> Result<WindowConfig, ConfigErrors> {
        let mut c = Checker::new(Path::new(""));
        let built = WindowConfig::from_raw(raw, &mut c);
        c.finish(built).map(|(checked, _warnings)| checked)
    }

    /// Window length in seconds, in (0, 60].
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Seconds between window starts, in (0, seconds]: windows overlap or touch, never leave gaps.
    pub fn stride_seconds(&self) -> f64 {
        self.stride_seconds
    }

    /// The rate the IMU is resampled to, in 1..=2000 Hz.
    pub fn imu_rate_hz(&self) -> u32 {
        self.imu_rate_hz
    }

    /// Video frames sampled per window (T), in 1..=64.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Fraction of the window a modality must cover to count as present, in (0, 1].
    pub fn min_coverage(&self) -> f64 {
        self.min_coverage
    }

    /// Longest hole inside one modality's samples that is still interpolated over, in (0, seconds].
    pub fn max_gap_seconds(&self) -> f64 {
        self.max_gap_seconds
    }

    /// IMU samples per window (L = seconds × imu_rate_hz, a whole number by validation).
    pub fn imu_len(&self) -> usize {
        // In range by validation: at most 60 s × 2000 Hz.
        (self.seconds * f64::from(self.imu_rate_hz)).round() as usize
    }

    pub fn span_nanos(&self) -> u64 {
        secs_to_nanos(self.seconds)
    }

    pub fn stride_nanos(&self) -> u64 {
        secs_to_nanos(self.stride_seconds)
    }

    pub fn max_gap_nanos(&self) -> u64 {
        secs_to_nanos(self.max_gap_seconds)
    }

    /// The aligner's parameters. What a profile does not set (lateness, stall,
    /// empty runs, frame size, audio rate) keeps `WindowParams::default()`;
    /// `Config::window_params` also fills the audio rate from `[sources.audio]`.
    pub fn params(&self) -> WindowParams {
        WindowParams {
            seconds: self.seconds,
            stride_seconds: self.stride_seconds,
            imu_rate_hz: f64::from(self.imu_rate_hz),
            frames: self.frames,
            min_coverage: self.min_coverage,
            max_gap_seconds: self.max_gap_seconds,
            ..WindowParams::default()
        }
    }

    pub(crate) fn from_raw(raw: &RawWindow, c: &mut Checker) -> Option<WindowConfig> {
        let seconds = c.positive(
            "window.seconds",
            raw.seconds.unwrap_or(DEFAULT_SECONDS),
            Some(Bound::fixed(MAX_SECONDS)),
        );
        // When window.seconds itself is bad, still check the keys bounded by it
        // against it by name, so their own mistakes are reported in the same pass.
        let within_window = Some(match seconds {
            Some(s) => Bound::key("window.seconds", s),
            None => Bound {
                value: f64::MAX,
                label: "window.seconds".into(),
            },
        });
        let stride = c.positive(
            "window.stride_seconds",
            raw.stride_seconds.unwrap_or(DEFAULT_STRIDE_SECONDS),
            within_window.clone(),
        );
        let rate = c.int_in(
            "window.imu_rate_hz",
            raw.imu_rate_hz.unwrap_or(DEFAULT_IMU_RATE_HZ.into()),
            1,
            2000,
        );
        let frames = c.int_in(
            "window.frames",
            raw.frames.unwrap_or(DEFAULT_FRAMES as i64),
            1,
            64,
        );
        let coverage = c.positive(
            "window.min_coverage",
            raw.min_coverage.unwrap_or(DEFAULT_MIN_COVERAGE),
            Some(Bound::fixed(1.0)),
        );
        let max_gap = c.positive(
            "window.max_gap_seconds",
            raw.max_gap_seconds.unwrap_or(DEFAULT_MAX_GAP_SECONDS),
            within_window,
        );
        if let (Some(s), Some(r)) = (seconds, rate) {
            whole_imu_len(s, r, c)?;
        }
        Some(WindowConfig {
            seconds: seconds?,
            stride_seconds: stride?,
            imu_rate_hz: rate?,
            frames: frames?,
            min_coverage: coverage?,
            max_gap_seconds: max_gap?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawWindow {
        RawWindow {
            seconds: Some(self.seconds),
            stride_seconds: Some(self.stride_seconds),
            imu_rate_hz: Some(self.imu_rate_hz.into()),
            frames: Some(self.frames as i64),
            min_coverage: Some(self.min_coverage),
            max_gap_seconds: Some(self.max_gap_seconds),
        }
    }
}

/// The encoder's IMU input has a fixed length L, so a window must hold a whole
/// number of resampled IMU samples (5.12 s × 25 Hz = 128, but 5 s × 25.5 Hz is
/// not), and at least `MIN_IMU_LEN` of them.
fn whole_imu_len(seconds: f64, rate_hz: u32, c: &mut Checker) -> Option<()> {
    let len = seconds * f64::from(rate_hz);
    let product = format!("window.seconds × window.imu_rate_hz ({rate_hz}) = {len}");
    if (len - len.round()).abs() > 1e-6 * len.max(1.0) {
        let rule = format!("{product} must be a whole number of IMU samples");
        return c.error("window.seconds", float_text(seconds), rule);
    }
    if len.round() < MIN_IMU_LEN as f64 {
        let rule = format!("{product} must be at least {MIN_IMU_LEN} IMU samples");
        return c.error("window.seconds", float_text(seconds), rule);
    }
    Some(())
}

fn secs_to_nanos(secs: f64) -> u64 {
    // Validated seconds are finite, positive and at most 60.
    (secs * 1e9).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_default_encoder() {
        let w = WindowConfig::new(&RawWindow::default()).unwrap();
        assert_eq!(w, WindowConfig::default());
        assert_eq!((w.imu_len(), w.frames()), (128, 8));
        assert_eq!(w.span_nanos(), 5_120_000_000);
        // One default, two owners: the aligner's must be the profile's.
        assert_eq!(w.params(), WindowParams::default());
    }

    #[test]
    fn params_carry_every_key() {
        let raw = RawWindow {
            seconds: Some(2.0),
            stride_seconds: Some(0.5),
            imu_rate_hz: Some(50),
            frames: Some(4),
            min_coverage: Some(0.6),
            max_gap_seconds: Some(0.25),
        };
        let w = WindowConfig::new(&raw).unwrap();
        let spec = crate::align::WindowSpec::new(w.params()).unwrap();
        assert_eq!((spec.imu_len(), spec.frames()), (w.imu_len(), 4));
        assert_eq!(
            (spec.len_ns(), spec.stride_ns(), spec.max_gap_ns()),
            (w.span_nanos(), w.stride_nanos(), w.max_gap_nanos())
        );
        assert_eq!(spec.min_coverage(), 0.6);
    }

    #[test]
    fn stride_is_bounded_by_the_window() {
        let raw = RawWindow {
            stride_seconds: Some(0.0),
            ..Default::default()
        };
        let e = WindowConfig::new(&raw).unwrap_err();
        assert_eq!(
            e.errors[0].to_string(),
            "window.stride_seconds = 0: must be > 0 and <= window.seconds (5.12)"
        );
        let raw = RawWindow {
            seconds: Some(2.0),
            stride_seconds: Some(2.5),
            ..Default::default()
        };
        assert!(WindowConfig::new(&raw)
            .unwrap_err()
            .has_key("window.stride_seconds"));
    }

    #[test]
    fn every_bad_key_is_reported() {
        let raw = RawWindow {
            seconds: Some(61.0),
            stride_seconds: Some(-1.0),
            imu_rate_hz: Some(0),
            frames: Some(65),
            min_coverage: Some(1.5),
            max_gap_seconds: Some(0.0),
        };
        let keys: Vec<String> = WindowConfig::new(&raw)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(
            keys,
            [
                "window.seconds",
                "window.stride_seconds",
                "window.imu_rate_hz",
                "window.frames",
                "window.min_coverage",
                "window.max_gap_seconds"
            ]
        );
    }

    #[test]
    fn imu_length_must_be_whole() {
        let raw = RawWindow {
            seconds: Some(5.1),
            ..Default::default()
        };
        let e = WindowConfig::new(&raw).unwrap_err();
        assert!(
            e.errors[0].message.contains("whole number"),
            "{}",
            e.errors[0]
        );
        let raw = RawWindow {
            seconds: Some(2.0),
            imu_rate_hz: Some(100),
            ..Default::default()
        };
        assert_eq!(WindowConfig::new(&raw).unwrap().imu_len(), 200);
    }

    #[test]
    fn one_imu_sample_is_too_few() {
        let raw = RawWindow {
            seconds: Some(0.04),
            stride_seconds: Some(0.04),
            max_gap_seconds: Some(0.04),
            ..Default::default()
        };
        let e = WindowConfig::new(&raw).unwrap_err();
        assert_eq!(e.errors.len(), 1, "{e}");
        assert_eq!(
            e.errors[0].to_string(),
            "window.seconds = 0.04: window.seconds × window.imu_rate_hz (25) = 1 must be at least 2 IMU samples"
        );
        let raw = RawWindow {
            seconds: Some(0.08),
            ..raw
        };
        assert_eq!(WindowConfig::new(&raw).unwrap().imu_len(), 2);
    }
}
