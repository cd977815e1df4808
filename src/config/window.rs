//! `[window]`: how the aligner cuts the streams. The window's shape (length, IMU
//! rate, frames per window) belongs to the encoder: it comes from the model's
//! contract (`WindowShape::of`), never from a default here. A profile sets the
//! stride and the coverage rules, and may state the shape it expects
//! (`seconds`, `imu_rate_hz`, `frames`); `params_for` refuses a mismatch with
//! the encoder, naming both values. Every window this section accepts is one
//! `align::WindowSpec::new` accepts too.

use super::check::{float_text, Bound, Checker};
use super::error::{ConfigErrors, Issue};
use super::raw::RawWindow;
use crate::align::WindowParams;
use crate::encode::ModelContract;
use std::path::Path;

pub const DEFAULT_STRIDE_SECONDS: f64 = 1.0;
pub const DEFAULT_MIN_COVERAGE: f64 = 0.8;
pub const DEFAULT_MAX_GAP_SECONDS: f64 = 0.5;
pub const MAX_SECONDS: f64 = 60.0;
/// The aligner resamples the IMU onto L grid points and refuses L < 2 (one
/// point cannot show a signal's shape; `align::WindowSpec::new`).
pub const MIN_IMU_LEN: usize = 2;

/// The window an encoder takes, read from its contract.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowShape {
    pub seconds: f64,
    pub imu_rate_hz: f64,
    pub frames: usize,
}

impl WindowShape {
    /// The shape `c` declares. Its metadata are f32; they are rounded to
    /// micro-units so 5.12 s stays 5.12 s (not 5.1199998...).
    pub fn of(c: &ModelContract) -> WindowShape {
        let exact = |v: f32| (f64::from(v) * 1e6).round() / 1e6;
        WindowShape {
            seconds: exact(c.window_seconds),
            imu_rate_hz: exact(c.imu_rate_hz),
            frames: c.frames,
        }
    }
}

/// The validated `[window]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowConfig {
    /// The shape the profile expects the encoder to take; `None` follows the encoder.
    seconds: Option<f64>,
    imu_rate_hz: Option<u32>,
    frames: Option<usize>,
    stride_seconds: f64,
    min_coverage: f64,
    max_gap_seconds: f64,
}

impl Default for WindowConfig {
    fn default() -> WindowConfig {
        WindowConfig {
            seconds: None,
            imu_rate_hz: None,
            frames: None,
            stride_seconds: DEFAULT_STRIDE_SECONDS,
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

    /// The window length the profile expects the encoder to take, in (0, 60] s.
    pub fn seconds(&self) -> Option<f64> {
        self.seconds
    }

    /// Seconds between window starts, in (0, window length]: windows overlap or
    /// touch, never leave gaps (checked against the encoder's length by `params_for`).
    pub fn stride_seconds(&self) -> f64 {
        self.stride_seconds
    }

    /// The IMU rate the profile expects the encoder to take, in 1..=2000 Hz.
    pub fn imu_rate_hz(&self) -> Option<u32> {
        self.imu_rate_hz
    }

    /// The frames per window (T) the profile expects the encoder to take, in 1..=64.
    pub fn frames(&self) -> Option<usize> {
        self.frames
    }

    /// Fraction of the window a modality must cover to count as present, in (0, 1].
    pub fn min_coverage(&self) -> f64 {
        self.min_coverage
    }

    /// Longest hole inside one modality's samples that is still interpolated
    /// over, in (0, window length].
    pub fn max_gap_seconds(&self) -> f64 {
        self.max_gap_seconds
    }

    /// The aligner's parameters for an encoder (`encoder` names it in errors)
    /// taking windows of `shape`. Every shape key the profile sets must equal the
    /// encoder's; stride and max gap must fit in its window. What a profile does
    /// not set (lateness, stall, empty runs, frame size, audio rate) keeps
    /// `WindowParams::default()`'s tolerances.
    pub fn params_for(
        &self,
        shape: &WindowShape,
        encoder: &str,
    ) -> Result<WindowParams, Vec<Issue>> {
        let mut issues = Vec::new();
        let mut expect = |key: &str, set: Option<f64>, takes: f64, unit: &str| {
            if let Some(v) = set.filter(|v| (v - takes).abs() > 1e-9 * takes.abs().max(1.0)) {
                let rule = format!(
                    "the encoder {encoder} takes {} {unit} (its contract); remove the key to follow the encoder, or use an encoder built for {} {unit}",
                    float_text(takes),
                    float_text(v)
                );
                issues.push(Issue::new(key, float_text(v), rule));
            }
        };
        expect("window.seconds", self.seconds, shape.seconds, "s windows");
        expect(
            "window.imu_rate_hz",
            self.imu_rate_hz.map(f64::from),
            shape.imu_rate_hz,
            "Hz IMU",
        );
        expect(
            "window.frames",
            self.frames.map(|f| f as f64),
            shape.frames as f64,
            "frames per window",
        );
        for (key, value) in [
            ("window.stride_seconds", self.stride_seconds),
            ("window.max_gap_seconds", self.max_gap_seconds),
        ] {
            if value > shape.seconds {
                let rule = format!(
                    "must be <= the encoder's window length ({} s, {encoder})",
                    float_text(shape.seconds)
                );
                issues.push(Issue::new(key, float_text(value), rule));
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(WindowParams {
            seconds: shape.seconds,
            stride_seconds: self.stride_seconds,
            imu_rate_hz: shape.imu_rate_hz,
            frames: shape.frames,
            min_coverage: self.min_coverage,
            max_gap_seconds: self.max_gap_seconds,
            ..WindowParams::default()
        })
    }

    pub(crate) fn from_raw(raw: &RawWindow, c: &mut Checker) -> Option<WindowConfig> {
        let max = Some(Bound::fixed(MAX_SECONDS));
        let seconds = match raw.seconds {
            Some(s) => c.positive("window.seconds", s, max.clone()).map(Some),
            None => Some(None),
        };
        // Bounded by the stated length when there is one (the encoder's is
        // checked by `params_for`), else by the longest window mmcl cuts.
        let within_window = Some(match raw.seconds {
            Some(s) if seconds.is_some() => Bound::key("window.seconds", s),
            _ => Bound::fixed(MAX_SECONDS),
        });
        let stride = c.positive(
            "window.stride_seconds",
            raw.stride_seconds.unwrap_or(DEFAULT_STRIDE_SECONDS),
            within_window.clone(),
        );
        let rate = match raw.imu_rate_hz {
            Some(r) => c.int_in("window.imu_rate_hz", r, 1, 2000).map(Some),
            None => Some(None),
        };
        let frames = match raw.frames {
            Some(f) => c.int_in("window.frames", f, 1, 64).map(Some),
            None => Some(None),
        };
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
        if let (Some(Some(s)), Some(Some(r))) = (seconds, rate) {
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
            seconds: self.seconds,
            stride_seconds: Some(self.stride_seconds),
            imu_rate_hz: self.imu_rate_hz.map(i64::from),
            frames: self.frames.map(|f| f as i64),
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

#[cfg(test)]
mod tests;
