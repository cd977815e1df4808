//! `WindowSpec`: the validated shape of every window (length, stride, IMU grid,
//! frame count) and the tolerances the aligner applies (coverage, gaps,
//! lateness, stalls).
//!
//! `WindowParams` is the raw form (plain numbers, from a config file or a
//! test); `WindowSpec::new` checks it once and converts every duration to
//! whole nanoseconds, so the aligner's arithmetic is exact and deterministic.

/// The longest duration any field may hold; keeps nanosecond arithmetic far
/// from `u64` overflow (a day is 8.64e13 ns).
const MAX_SECONDS: f64 = 86_400.0;
/// Upper bound on grid points per window (IMU or audio): a guard against a
/// rate typo allocating gigabytes per window.
const MAX_GRID_POINTS: usize = 10_000_000;
/// Upper bound on frames per window.
const MAX_FRAMES: usize = 4096;

/// Raw window parameters, before validation. `Default` is the default
/// encoder's contract: 5.12 s windows at 25 Hz (L = 128), T = 8 frames.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowParams {
    /// Window length in seconds.
    pub seconds: f64,
    /// Distance between consecutive window starts, in seconds.
    pub stride_seconds: f64,
    /// IMU grid rate; L = round(seconds * imu_rate_hz) points per window.
    pub imu_rate_hz: f64,
    /// Frames per window (T), one per equal segment (TSN test-time sampling).
    pub frames: usize,
    /// Fraction of IMU/audio grid points that must have a real sample within
    /// one grid period, for the modality to be present.
    pub min_coverage: f64,
    /// Longest span between two consecutive samples that may be bridged by
    /// interpolation, and the furthest a chosen frame may be from its segment centre.
    pub max_gap_seconds: f64,
    /// How far a sample may arrive behind the newest sample of its modality
    /// and still be accepted (reordering bound).
    pub lateness_seconds: f64,
    /// How far another modality's watermark may run ahead of a silent one
    /// before the silent one stops holding windows back.
    pub stall_seconds: f64,
    /// Most consecutive empty windows (no modality present) emitted in a row;
    /// further empty windows are counted and skipped.
    pub max_empty_run: u32,
    /// Required frame size (width, height); `None`: the first frame fixes it.
    pub frame_size: Option<(u32, u32)>,
    /// Audio grid rate; every audio chunk must carry this rate.
    pub audio_rate_hz: u32,
}

impl Default for WindowParams {
    fn default() -> Self {
        WindowParams {
            seconds: 5.12,
            stride_seconds: 1.0,
            imu_rate_hz: 25.0,
            frames: 8,
            min_coverage: 0.8,
            max_gap_seconds: 0.5,
            lateness_seconds: 0.1,
            stall_seconds: 2.0,
            max_empty_run: 2,
            frame_size: None,
            audio_rate_hz: 16_000,
        }
    }
}

/// A field of `WindowParams` that failed validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("window spec: `{field}` = {value} is invalid: expected {expected}")]
pub struct SpecError {
    pub field: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// A validated window shape; every duration is in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    params: WindowParams,
    len_ns: u64,
    stride_ns: u64,
    imu_len: usize,
    audio_len: usize,
    max_gap_ns: u64,
    lateness_ns: u64,
    stall_ns: u64,
}

impl Default for WindowSpec {
    /// The default encoder's spec (the same as `WindowSpec::new(WindowParams::default())`).
    fn default() -> Self {
        let params = WindowParams::default();
        WindowSpec {
            len_ns: 5_120_000_000,
            stride_ns: 1_000_000_000,
            imu_len: 128,
            audio_len: 81_920,
            max_gap_ns: 500_000_000,
            lateness_ns: 100_000_000,
            stall_ns: 2_000_000_000,
            params,
        }
    }
}

impl WindowSpec {
    /// Checks every field of `p`; the error names the first bad field and its value.
    pub fn new(p: WindowParams) -> Result<WindowSpec, SpecError> {
        let len_ns = duration("seconds", p.seconds, false)?;
        let stride_ns = duration("stride_seconds", p.stride_seconds, false)?;
        let max_gap_ns = duration("max_gap_seconds", p.max_gap_seconds, true)?;
        let lateness_ns = duration("lateness_seconds", p.lateness_seconds, true)?;
        let stall_ns = duration("stall_seconds", p.stall_seconds, true)?;
        let imu_len = grid_len("imu_rate_hz", p.imu_rate_hz, p.seconds)?;
        let audio_len = grid_len("audio_rate_hz", f64::from(p.audio_rate_hz), p.seconds)?;
        if p.frames == 0 || p.frames > MAX_FRAMES {
            return Err(bad("frames", p.frames, "1 ..= 4096 frames per window"));
        }
        if !(0.0..=1.0).contains(&p.min_coverage) {
            return Err(bad("min_coverage", p.min_coverage, "a fraction in [0, 1]"));
        }
        if let Some((w, h)) = p.frame_size {
            if w == 0 || h == 0 {
                return Err(bad(
                    "frame_size",
                    format!("{w}x{h}"),
                    "a non-zero width and height",
                ));
            }
        }
        let spec = WindowSpec {
            len_ns,
            stride_ns,
            imu_len,
            audio_len,
            max_gap_ns,
            lateness_ns,
            stall_ns,
            params: p,
        };
        Ok(spec)
    }

    /// The parameters this spec was built from.
    pub fn params(&self) -> &WindowParams {
        &self.params
    }

    /// Window length, nanoseconds.
    pub fn len_ns(&self) -> u64 {
        self.len_ns
    }

    /// Distance between window starts, nanoseconds.
    pub fn stride_ns(&self) -> u64 {
        self.stride_ns
    }

    /// IMU points per window: L = round(seconds * imu_rate_hz).
    pub fn imu_len(&self) -> usize {
        self.imu_len
    }

    /// Audio samples per window: round(seconds * audio_rate_hz).
    pub fn audio_len(&self) -> usize {
        self.audio_len
    }

    /// Frames per window (T).
    pub fn frames(&self) -> usize {
        self.params.frames
    }

    pub fn min_coverage(&self) -> f64 {
        self.params.min_coverage
    }

    pub fn max_gap_ns(&self) -> u64 {
        self.max_gap_ns
    }

    pub fn lateness_ns(&self) -> u64 {
        self.lateness_ns
    }

    pub fn stall_ns(&self) -> u64 {
        self.stall_ns
    }

    pub fn max_empty_run(&self) -> u32 {
        self.params.max_empty_run
    }

    pub fn frame_size(&self) -> Option<(u32, u32)> {
        self.params.frame_size
    }

    pub fn audio_rate_hz(&self) -> u32 {
        self.params.audio_rate_hz
    }
}

fn bad(field: &'static str, value: impl std::fmt::Display, expected: &'static str) -> SpecError {
    SpecError {
        field,
        value: value.to_string(),
        expected,
    }
}

/// Seconds -> whole nanoseconds, checking the value is finite and in range.
fn duration(field: &'static str, secs: f64, zero_ok: bool) -> Result<u64, SpecError> {
    let in_range =
        secs.is_finite() && secs <= MAX_SECONDS && (secs > 0.0 || (zero_ok && secs == 0.0));
    if !in_range {
        let expected = if zero_ok {
            "seconds in [0, 86400]"
        } else {
            "seconds in (0, 86400]"
        };
        return Err(bad(field, secs, expected));
    }
    let ns = (secs * 1e9).round() as u64;
    if ns == 0 && !zero_ok {
        return Err(bad(field, secs, "at least one nanosecond"));
    }
    Ok(ns)
}

/// Grid points per window, round(seconds * rate), checked to be in 2 ..= 10^7
/// (one point cannot show a signal's shape; more is a unit mistake).
fn grid_len(field: &'static str, rate: f64, seconds: f64) -> Result<usize, SpecError> {
    let points = (seconds * rate).round();
    if !rate.is_finite() || rate <= 0.0 || !(2.0..=MAX_GRID_POINTS as f64).contains(&points) {
        return Err(bad(
            field,
            rate,
            "a rate giving 2 ..= 10^7 points per window (seconds * rate)",
        ));
    }
    Ok(points as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matches_validated_default() {
        assert_eq!(
            WindowSpec::new(WindowParams::default()),
            Ok(WindowSpec::default())
        );
        let s = WindowSpec::default();
        assert_eq!(
            (s.imu_len(), s.frames(), s.len_ns()),
            (128, 8, 5_120_000_000)
        );
    }

    #[test]
    fn errors_name_field_and_value() {
        let cases: Vec<(WindowParams, &str, &str)> = vec![
            (
                WindowParams {
                    seconds: 0.0,
                    ..Default::default()
                },
                "seconds",
                "0",
            ),
            (
                WindowParams {
                    stride_seconds: f64::NAN,
                    ..Default::default()
                },
                "stride_seconds",
                "NaN",
            ),
            (
                WindowParams {
                    imu_rate_hz: -25.0,
                    ..Default::default()
                },
                "imu_rate_hz",
                "-25",
            ),
            (
                WindowParams {
                    imu_rate_hz: 0.1,
                    ..Default::default()
                },
                "imu_rate_hz",
                "0.1",
            ),
            (
                WindowParams {
                    frames: 0,
                    ..Default::default()
                },
                "frames",
                "0",
            ),
            (
                WindowParams {
                    min_coverage: 1.5,
                    ..Default::default()
                },
                "min_coverage",
                "1.5",
            ),
            (
                WindowParams {
                    max_gap_seconds: -0.1,
                    ..Default::default()
                },
                "max_gap_seconds",
                "-0.1",
            ),
            (
                WindowParams {
                    lateness_seconds: 1e9,
                    ..Default::default()
                },
                "lateness_seconds",
                "1000000000",
            ),
            (
                WindowParams {
                    frame_size: Some((0, 4)),
                    ..Default::default()
                },
                "frame_size",
                "0x4",
            ),
            (
                WindowParams {
                    audio_rate_hz: 0,
                    ..Default::default()
                },
                "audio_rate_hz",
                "0",
            ),
        ];
        for (params, field, value) in cases {
            let err = WindowSpec::new(params).expect_err(field);
            assert_eq!((err.field, err.value.as_str()), (field, value));
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn grid_length_rounds() {
        let p = WindowParams {
            seconds: 1.03,
            imu_rate_hz: 25.0,
            ..Default::default()
        };
        let s = WindowSpec::new(p).expect("valid");
        assert_eq!(s.imu_len(), 26); // 25.75 rounds up
        assert_eq!(s.len_ns(), 1_030_000_000);
    }
}
