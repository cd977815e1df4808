//! The upper bounds of the contract check: every size a model states is bounded
//! before the runtime allocates from it (see `checker`'s module docs).

use super::{Checker, Meta};
use crate::encode::contract::MODALITIES;

/// The upper bounds on what a model may state (see the module docs).
pub(super) struct Bounds;

impl Bounds {
    /// Per-key bound of the integer metadata; `usize::MAX` for keys without one.
    pub(super) fn int(key: &str) -> usize {
        match key {
            "mmcl.frames" => 256,
            "mmcl.height" | "mmcl.width" => 4096,
            "mmcl.imu_len" => 1 << 20,
            "mmcl.embedding_dim" => Bounds::DIM,
            _ => usize::MAX,
        }
    }

    /// Per-key bound of the float metadata.
    pub(super) fn float(key: &str) -> f32 {
        match key {
            "mmcl.imu_rate_hz" => 100_000.0,
            "mmcl.window_seconds" => 3600.0,
            _ => f32::MAX,
        }
    }

    /// The largest embedding dimension of any output.
    pub(super) const DIM: usize = 1 << 16;
    /// The most input values (video, IMU, present) one window may take: 64 MiB of f32.
    const WINDOW_VALUES: usize = 1 << 24;
    /// The largest fixed batch dimension.
    const FIXED_BATCH: usize = 1024;
    /// The most input values a fixed batch may take: 256 MiB of f32.
    const BATCH_VALUES: usize = 1 << 26;
}

impl Checker<'_> {
    /// `value` when it is at most `max`; else a problem and `None`.
    pub(super) fn at_most<T: PartialOrd + std::fmt::Display>(
        &mut self,
        key: &str,
        value: T,
        max: T,
    ) -> Option<T> {
        if value <= max {
            return Some(value);
        }
        self.problem("metadata", key, format!("at most {max}"), value.to_string());
        None
    }

    /// Checks a window's and a fixed batch's input values against `Bounds`;
    /// returns the batch when it is within them.
    pub(super) fn bounded_sizes(&mut self, m: &Meta, batch: Option<usize>) -> Option<usize> {
        let window = window_values(m);
        if let Some(values) = window.filter(|v| *v > Bounds::WINDOW_VALUES) {
            let name = "mmcl.frames x 3 x mmcl.height x mmcl.width + 6 x mmcl.imu_len";
            let expected = format!("at most {} input values per window", Bounds::WINDOW_VALUES);
            self.problem("metadata", name, expected, values.to_string());
            return batch;
        }
        let rows = batch?;
        let total = window.map(|v| v.saturating_mul(rows));
        if rows > Bounds::FIXED_BATCH || total.is_some_and(|t| t > Bounds::BATCH_VALUES) {
            let expected = format!(
                "a fixed batch of at most {} windows and {} input values",
                Bounds::FIXED_BATCH,
                Bounds::BATCH_VALUES
            );
            self.problem(
                "input",
                "video",
                expected,
                format!("a fixed batch of {rows}"),
            );
            return None;
        }
        Some(rows)
    }
}

/// Input values of one window (video, IMU, present), when the sizes are known.
fn window_values(m: &Meta) -> Option<usize> {
    let video = [m.frames?, 3, m.height?, m.width?]
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))?;
    let imu = m.imu_len?.checked_mul(6)?;
    video.checked_add(imu)?.checked_add(MODALITIES.len())
}
