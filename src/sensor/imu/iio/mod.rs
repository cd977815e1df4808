//! `IioImu`: a 6-axis IMU read through Linux Industrial I/O
//! (`sources.imu.kind = "iio"`), by polling sysfs or from the buffered
//! character device.
//!
//! - `device`: device directories, discovery of the accelerometer and gyroscope
//!   under a configurable root, `scale` / `offset` / `sampling_frequency`, and
//!   the conversion to g and °/s.
//! - `scan`: the buffer's record layout from `scan_elements/` (`type` strings).
//! - `polled`, `buffered`: the two readers.
//!
//! Every failure is fatal for the source (`SourceError::Fatal`, the message from
//! `IioError`): wrapped in `sensor::Restarting`, a device that goes away is
//! reopened with backoff. Fake sysfs trees in a temporary directory stand in for
//! a device in the tests (`tests/sensor_iio.rs`).

mod buffered;
mod device;
mod error;
mod polled;
mod scan;

pub use buffered::DeviceClock;
pub use device::{find_pair, list, read_f64, DevicePair, IioDevice, Kind, DEFAULT_ROOT};
pub use error::IioError;
pub use scan::{ScanLayout, ScanType};

use super::super::{Source, SourceError, SourceMonitor};
use crate::sample::{Modality, Sample};
use crate::shutdown::Shutdown;
use crate::time::Clock;
use buffered::Buffered;
use polled::Polled;
use std::path::PathBuf;
use std::sync::Arc;

/// Where `/dev/iio:deviceN` lives.
pub const DEFAULT_DEV_DIR: &str = "/dev";

/// How samples are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IioMode {
    /// The `raw` attributes read at the rate on the pipeline's clock: any driver.
    Polled,
    /// The driver's buffer through the character device: device timestamps,
    /// no missed readings; needs buffer support (and a trigger on some drivers).
    Buffered,
}

impl IioMode {
    pub const ALL: [IioMode; 2] = [IioMode::Polled, IioMode::Buffered];

    pub fn name(self) -> &'static str {
        match self {
            IioMode::Polled => "polled",
            IioMode::Buffered => "buffered",
        }
    }
}

/// Everything `IioImu::open` needs.
#[derive(Clone)]
pub struct IioOptions {
    /// The source's name in health and errors.
    pub name: String,
    /// The sysfs root searched (`/sys/bus/iio/devices`).
    pub root: PathBuf,
    /// A device directory or `/dev/iio:deviceN`; `None`: discover under `root`.
    pub device: Option<PathBuf>,
    /// Where the character devices are (`/dev`), for buffered reading.
    pub dev_dir: PathBuf,
    pub mode: IioMode,
    /// Asked of the device (`sampling_frequency`) and the polling rate.
    pub rate_hz: f64,
    /// g and °/s per count, replacing the driver's scale when set.
    pub acc_scale: Option<f64>,
    pub gyro_scale: Option<f64>,
    /// Written to `trigger/current_trigger` before buffered reading.
    pub trigger: Option<String>,
    pub clock: Arc<dyn Clock>,
    pub monitor: SourceMonitor,
}

enum Reader {
    Polled(Polled),
    Buffered(Buffered),
}

/// An IIO IMU as a `Source`.
pub struct IioImu {
    name: String,
    reader: Reader,
    rate_hz: f64,
    monitor: SourceMonitor,
}

impl IioImu {
    /// Finds the device(s), asks for the rate, opens the reader and reports the
    /// device and mode on the monitor.
    pub fn open(options: &IioOptions) -> Result<IioImu, SourceError> {
        let action = || format!("open IIO IMU under {}", options.root.display());
        let fatal = |e: IioError| SourceError::fatal(action(), e);
        let pair = find_pair(&options.root, options.device.as_deref()).map_err(fatal)?;
        let rate = pair.accel.set_frequency(Kind::Accel, options.rate_hz);
        if !pair.is_single() {
            pair.gyro.set_frequency(Kind::AnglVel, options.rate_hz);
        }
        let scales = (options.acc_scale, options.gyro_scale);
        let clock = options.clock.clone();
        // Polling samples at the asked rate whatever the device runs at; the
        // buffer delivers at the rate the device kept.
        let (reader, rate_hz, format) = match options.mode {
            IioMode::Polled => {
                let polled =
                    Polled::open(pair.clone(), options.rate_hz, scales, clock).map_err(fatal)?;
                let device_rate = rate.map_or("unknown".into(), |r| format!("{r} Hz"));
                let format = format!(
                    "polled sysfs at {} Hz (device at {device_rate})",
                    options.rate_hz
                );
                (Reader::Polled(polled), options.rate_hz, format)
            }
            IioMode::Buffered => {
                let rate_hz = rate.unwrap_or(options.rate_hz);
                let buffered = open_buffered(&pair, options, rate_hz).map_err(fatal)?;
                let format = buffer_format(&buffered, rate_hz);
                (Reader::Buffered(buffered), rate_hz, format)
            }
        };
        options.monitor.opened(pair.label(), format, Some(rate_hz));
        Ok(IioImu {
            name: options.name.clone(),
            reader,
            rate_hz,
            monitor: options.monitor.clone(),
        })
    }
}

fn open_buffered(
    pair: &DevicePair,
    options: &IioOptions,
    rate_hz: f64,
) -> Result<Buffered, IioError> {
    if !pair.is_single() {
        return Err(IioError::Buffer {
            device: pair.label(),
            reason: "the accelerometer and the gyroscope are two devices, two buffers with two clocks: use mode = \"polled\"".into(),
        });
    }
    let scales = (options.acc_scale, options.gyro_scale);
    let trigger = options.trigger.as_deref();
    Buffered::open(
        pair.accel.clone(),
        &options.dev_dir,
        rate_hz,
        scales,
        trigger,
        options.clock.clone(),
    )
}

fn buffer_format(b: &Buffered, rate_hz: f64) -> String {
    let stamps = match b.has_timestamps() {
        true => "device timestamps",
        false => "stamped on arrival",
    };
    format!(
        "buffered, {}-byte records, {stamps}, {rate_hz} Hz",
        b.record_bytes()
    )
}

impl Source for IioImu {
    fn name(&self) -> &str {
        &self.name
    }

    fn modalities(&self) -> &[Modality] {
        &[Modality::Imu]
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        let read = match &mut self.reader {
            Reader::Polled(p) => {
                let read = p.next(shutdown);
                self.monitor.add_capture_dropped(p.take_missed());
                read
            }
            Reader::Buffered(b) => b.next(shutdown),
        };
        read.map(|s| s.map(Sample::Imu))
            .map_err(|e| SourceError::fatal(format!("read IIO IMU {}", self.name), e))
    }

    fn expected_rate_hz(&self, modality: Modality) -> Option<f64> {
        (modality == Modality::Imu).then_some(self.rate_hz)
    }

    fn monitor(&self) -> Option<SourceMonitor> {
        Some(self.monitor.clone())
    }
}
