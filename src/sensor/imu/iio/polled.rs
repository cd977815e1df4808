//! Polled reading: the six `in_*_raw` files read at the configured rate on
//! the pipeline's clock, each sample stamped when its reads finished. Works
//! with every driver (no buffer, no trigger), at the cost of six reads per
//! sample; the files stay open and are re-read from offset 0, as sysfs allows.
//!
//! A poll that falls behind by more than a period skips to the next due time
//! (counted as missed) rather than bursting to catch up: a burst of readings
//! taken back to back would not be spaced as their timestamps claim.

use super::device::{parse_i64, Calibration, DevicePair, IioDevice, Kind, AXES};
use super::error::IioError;
use crate::sample::ImuSample;
use crate::sensor::MAX_BLOCK;
use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the device directories are checked for removal.
const PRESENCE_CHECK: Duration = Duration::from_millis(100);

/// One open `raw` file and its calibration.
struct Axis {
    file: File,
    path: PathBuf,
    calibration: Calibration,
}

impl Axis {
    fn open(
        device: &IioDevice,
        kind: Kind,
        axis: &str,
        scale: Option<f64>,
    ) -> Result<Axis, IioError> {
        let path = device.raw_path(kind, axis);
        let calibration = device.calibration(kind, axis, scale)?;
        let file = File::open(&path).map_err(|e| IioError::io(&path, "open", e))?;
        Ok(Axis {
            file,
            path,
            calibration,
        })
    }

    fn read(&self) -> Result<f32, IioError> {
        let mut buf = [0u8; 32];
        let n = self
            .file
            .read_at(&mut buf, 0)
            .map_err(|e| IioError::io(&self.path, "read", e))?;
        let text = String::from_utf8_lossy(buf.get(..n).unwrap_or(&[])).into_owned();
        parse_i64(&self.path, &text).map(|raw| self.calibration.apply(raw))
    }
}

/// The polled reader of one device pair.
pub struct Polled {
    pair: DevicePair,
    /// acc x y z, gyro x y z.
    axes: Vec<Axis>,
    period_ns: u64,
    clock: Arc<dyn Clock>,
    next_due: Option<Timestamp>,
    checked_at: Instant,
    /// Polls skipped because the reader fell behind, not yet reported.
    missed: u64,
}

impl Polled {
    /// Opens every axis (scales read or overridden: g and °/s per count).
    pub fn open(
        pair: DevicePair,
        rate_hz: f64,
        scales: (Option<f64>, Option<f64>),
        clock: Arc<dyn Clock>,
    ) -> Result<Polled, IioError> {
        let mut axes = Vec::with_capacity(6);
        for (device, kind, scale) in [
            (&pair.accel, Kind::Accel, scales.0),
            (&pair.gyro, Kind::AnglVel, scales.1),
        ] {
            for axis in AXES {
                axes.push(Axis::open(device, kind, axis, scale)?);
            }
        }
        Ok(Polled {
            pair,
            axes,
            period_ns: (1e9 / rate_hz.max(1e-3)).round() as u64,
            clock,
            next_due: None,
            checked_at: Instant::now(),
            missed: 0,
        })
    }

    /// Polls skipped since the last call (readings the device had and we did not take).
    pub fn take_missed(&mut self) -> u64 {
        std::mem::take(&mut self.missed)
    }

    /// The next reading, at its due time; `None` on shutdown.
    pub fn next(&mut self, shutdown: &Shutdown) -> Result<Option<ImuSample>, IioError> {
        if !self.wait_due(shutdown) {
            return Ok(None);
        }
        self.check_present()?;
        let mut v = [0f32; 6];
        for (slot, axis) in v.iter_mut().zip(&self.axes) {
            *slot = axis.read()?;
        }
        Ok(Some(ImuSample {
            t: self.clock.now(),
            acc: [v[0], v[1], v[2]],
            gyro: [v[3], v[4], v[5]],
        }))
    }

    /// Waits for the next due time; false on shutdown.
    fn wait_due(&mut self, shutdown: &Shutdown) -> bool {
        let now = self.clock.now();
        let due = *self.next_due.get_or_insert(now);
        let behind = now.since(due) / self.period_ns.max(1);
        self.missed += behind;
        let due = due.add_nanos(behind * self.period_ns);
        self.next_due = Some(due.add_nanos(self.period_ns));
        loop {
            let now = self.clock.now();
            if now >= due {
                return !shutdown.is_triggered();
            }
            let wait = Duration::from_nanos(due.since(now)).min(MAX_BLOCK);
            if shutdown.wait_timeout(wait) {
                return false;
            }
        }
    }

    /// A removed device's sysfs directory goes away; reads of the open files
    /// would fail on real sysfs too, but a check tells the reason plainly.
    fn check_present(&mut self) -> Result<(), IioError> {
        if self.checked_at.elapsed() < PRESENCE_CHECK {
            return Ok(());
        }
        self.checked_at = Instant::now();
        for device in [&self.pair.accel, &self.pair.gyro] {
            if !device.is_present() {
                return Err(IioError::Gone {
                    device: device.label(),
                    dir: device.dir.clone(),
                });
            }
        }
        Ok(())
    }
}
