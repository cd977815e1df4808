//! `[daemon]`: how the running service (`mmcl run`) smooths its predictions, how
//! often it writes a snapshot, and how much an enrollment may hold. The defaults
//! and why each was chosen are in firmware-config/README.md.

use super::check::{Bound, Checker};
use super::raw::RawDaemon;

pub const DEFAULT_CHECKPOINT_SECONDS: f64 = 300.0;
pub const DEFAULT_CHECKPOINT_CHANGES: u32 = 16;
pub const DEFAULT_SNAPSHOTS_KEPT: usize = 3;
pub const DEFAULT_MAX_ENROLL_WINDOWS: usize = 1200;
pub const DEFAULT_SMOOTHING: f64 = 0.5;
pub const DEFAULT_SWITCH_MARGIN: f64 = 0.1;
pub const DEFAULT_SWITCH_WINDOWS: u32 = 2;
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.3;

/// The validated `[daemon]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonConfig {
    checkpoint_seconds: f64,
    checkpoint_changes: u32,
    snapshots_kept: usize,
    max_enroll_windows: usize,
    smoothing: f64,
    switch_margin: f64,
    switch_windows: u32,
    min_confidence: f64,
}

impl Default for DaemonConfig {
    fn default() -> DaemonConfig {
        DaemonConfig {
            checkpoint_seconds: DEFAULT_CHECKPOINT_SECONDS,
            checkpoint_changes: DEFAULT_CHECKPOINT_CHANGES,
            snapshots_kept: DEFAULT_SNAPSHOTS_KEPT,
            max_enroll_windows: DEFAULT_MAX_ENROLL_WINDOWS,
            smoothing: DEFAULT_SMOOTHING,
            switch_margin: DEFAULT_SWITCH_MARGIN,
            switch_windows: DEFAULT_SWITCH_WINDOWS,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        }
    }
}

impl DaemonConfig {
    /// A snapshot is written at least this often while the journal holds changes, (0, 86400] s.
    pub fn checkpoint_seconds(&self) -> f64 {
        self.checkpoint_seconds
    }

    /// ... and as soon as the journal holds this many changes, 1..=100000.
    pub fn checkpoint_changes(&self) -> u32 {
        self.checkpoint_changes
    }

    /// Valid snapshots kept after each checkpoint, 1..=100.
    pub fn snapshots_kept(&self) -> usize {
        self.snapshots_kept
    }

    /// Windows one enrollment may capture (each is one embedding in memory until learned),
    /// 1..=100000; capture stops there and the enrollment says so.
    pub fn max_enroll_windows(&self) -> usize {
        self.max_enroll_windows
    }

    /// Weight of the newest window in the smoothed class probabilities, (0, 1]; 1 = no smoothing.
    pub fn smoothing(&self) -> f64 {
        self.smoothing
    }

    /// How far a challenger's smoothed probability must exceed the current class's, [0, 1).
    pub fn switch_margin(&self) -> f64 {
        self.switch_margin
    }

    /// Consecutive windows the challenger must lead by the margin before the prediction
    /// changes, 1..=100.
    pub fn switch_windows(&self) -> u32 {
        self.switch_windows
    }

    /// Smoothed probability below which no class is reported, [0, 1).
    pub fn min_confidence(&self) -> f64 {
        self.min_confidence
    }

    pub(crate) fn from_raw(raw: &RawDaemon, c: &mut Checker) -> Option<DaemonConfig> {
        let fraction = |c: &mut Checker, key: &str, v: Option<f64>, default: f64| {
            let v = v.unwrap_or(default);
            if (0.0..1.0).contains(&v) {
                Some(v)
            } else {
                c.error(key, super::check::float_text(v), "must be >= 0 and < 1")
            }
        };
        let checkpoint_seconds = c.positive(
            "daemon.checkpoint_seconds",
            raw.checkpoint_seconds.unwrap_or(DEFAULT_CHECKPOINT_SECONDS),
            Some(Bound::fixed(86_400.0)),
        );
        let checkpoint_changes = c.int_in(
            "daemon.checkpoint_changes",
            raw.checkpoint_changes
                .unwrap_or(DEFAULT_CHECKPOINT_CHANGES.into()),
            1,
            100_000,
        );
        let snapshots_kept = c.int_in(
            "daemon.snapshots_kept",
            raw.snapshots_kept.unwrap_or(DEFAULT_SNAPSHOTS_KEPT as i64),
            1,
            100,
        );
        let max_enroll_windows = c.int_in(
            "daemon.max_enroll_windows",
            raw.max_enroll_windows
                .unwrap_or(DEFAULT_MAX_ENROLL_WINDOWS as i64),
            1,
            100_000,
        );
        let smoothing = c.positive(
            "daemon.smoothing",
            raw.smoothing.unwrap_or(DEFAULT_SMOOTHING),
            Some(Bound::fixed(1.0)),
        );
        let switch_margin = fraction(
            c,
            "daemon.switch_margin",
            raw.switch_margin,
            DEFAULT_SWITCH_MARGIN,
        );
        let switch_windows = c.int_in(
            "daemon.switch_windows",
            raw.switch_windows.unwrap_or(DEFAULT_SWITCH_WINDOWS.into()),
            1,
            100,
        );
        let min_confidence = fraction(
            c,
            "daemon.min_confidence",
            raw.min_confidence,
            DEFAULT_MIN_CONFIDENCE,
        );
        Some(DaemonConfig {
            checkpoint_seconds: checkpoint_seconds?,
            checkpoint_changes: checkpoint_changes?,
            snapshots_kept: snapshots_kept?,
            max_enroll_windows: max_enroll_windows?,
            smoothing: smoothing?,
            switch_margin: switch_margin?,
            switch_windows: switch_windows?,
            min_confidence: min_confidence?,
        })
    }

    /// The section as a TOML table (to tell which keys a reload changed).
    pub fn to_raw_toml(&self) -> toml::Table {
        toml::Table::try_from(self.to_raw()).unwrap_or_default()
    }

    pub(crate) fn to_raw(&self) -> RawDaemon {
        RawDaemon {
            checkpoint_seconds: Some(self.checkpoint_seconds),
            checkpoint_changes: Some(self.checkpoint_changes.into()),
            snapshots_kept: Some(self.snapshots_kept as i64),
            max_enroll_windows: Some(self.max_enroll_windows as i64),
            smoothing: Some(self.smoothing),
            switch_margin: Some(self.switch_margin),
            switch_windows: Some(self.switch_windows.into()),
            min_confidence: Some(self.min_confidence),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn defaults_and_every_bad_key() {
        let mut c = Checker::new(Path::new("/"));
        let d = DaemonConfig::from_raw(&RawDaemon::default(), &mut c).unwrap();
        assert_eq!(d, DaemonConfig::default());
        let raw = RawDaemon {
            checkpoint_seconds: Some(0.0),
            checkpoint_changes: Some(0),
            snapshots_kept: Some(0),
            max_enroll_windows: Some(0),
            smoothing: Some(1.5),
            switch_margin: Some(1.0),
            switch_windows: Some(0),
            min_confidence: Some(-0.1),
        };
        let mut c = Checker::new(Path::new("/"));
        assert!(DaemonConfig::from_raw(&raw, &mut c).is_none());
        assert_eq!(c.errors.len(), 8, "{:?}", c.errors);
        let mut c = Checker::new(Path::new("/"));
        let back = DaemonConfig::from_raw(&d.to_raw(), &mut c).unwrap();
        assert_eq!(back, d);
    }
}
