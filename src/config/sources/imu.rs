//! `[sources.imu]`: an IIO device (found under a sysfs root, polled or
//! buffered), a CSV stream (file, FIFO or serial port at a baud rate) or a CSV
//! recording played live; scales, rate, and whether it may be missing. Keys of
//! one kind are refused for the others, so none silently does nothing.

use super::super::check::{Bound, Checker};
use super::super::choice::{Choice, ImuKind};
use super::super::raw::RawImu;
use crate::sensor::imu::iio::{IioMode, DEFAULT_DEV_DIR, DEFAULT_ROOT};
use crate::sensor::imu::serial::{BAUD_RATES, DEFAULT_BAUD};
use std::path::{Path, PathBuf};

pub const DEFAULT_IMU_RATE_HZ: f64 = 100.0;
pub const MAX_IMU_RATE_HZ: f64 = 8000.0;

/// How an IIO IMU is found and read (`iio_*` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IioSettings {
    /// Where devices are searched (`/sys/bus/iio/devices`).
    pub root: PathBuf,
    /// Where the character devices are (`/dev`).
    pub dev_dir: PathBuf,
    pub mode: IioMode,
    /// Written to `trigger/current_trigger` for buffered reading.
    pub trigger: Option<String>,
}

/// `[sources.imu]`: a 6-axis IMU (accelerometer in g, gyroscope in °/s after scaling).
#[derive(Debug, Clone, PartialEq)]
pub struct ImuSource {
    kind: ImuKind,
    path: Option<PathBuf>,
    rate_hz: f64,
    acc_scale_g_per_count: Option<f64>,
    gyro_scale_dps_per_count: Option<f64>,
    baud: Option<u32>,
    looping: bool,
    iio: Option<IioSettings>,
    optional: bool,
}

impl ImuSource {
    pub fn kind(&self) -> ImuKind {
        self.kind
    }

    /// The IIO device (sysfs dir or `/dev/iio:deviceN`; `None`: discover under
    /// the IIO root) or the CSV stream or file (required for those).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The rate asked of the device, or a CSV's stated rate, in (0, 8000] Hz.
    pub fn rate_hz(&self) -> f64 {
        self.rate_hz
    }

    /// g per raw count; `None` = the scale the driver reports (IIO), or values already in g (CSV).
    pub fn acc_scale_g_per_count(&self) -> Option<f64> {
        self.acc_scale_g_per_count
    }

    /// °/s per raw count; `None` as for the accelerometer.
    pub fn gyro_scale_dps_per_count(&self) -> Option<f64> {
        self.gyro_scale_dps_per_count
    }

    /// `csv-stream`: the serial rate applied when the path is a terminal.
    pub fn baud(&self) -> Option<u32> {
        self.baud
    }

    /// `csv-file`: play again at the end.
    pub fn looping(&self) -> bool {
        self.looping
    }

    /// `iio`: where and how the device is read.
    pub fn iio(&self) -> Option<&IioSettings> {
        self.iio.as_ref()
    }

    pub fn optional(&self) -> bool {
        self.optional
    }

    pub(super) fn from_raw(raw: &RawImu, c: &mut Checker) -> Option<ImuSource> {
        let kind = c.required("sources.imu.kind", raw.kind.as_deref());
        let kind: Option<ImuKind> = kind.and_then(|name| c.choice("sources.imu.kind", name));
        let path = imu_path(raw, kind, c);
        let rate = c.positive(
            "sources.imu.rate_hz",
            raw.rate_hz.unwrap_or(DEFAULT_IMU_RATE_HZ),
            Some(Bound::fixed(MAX_IMU_RATE_HZ)),
        );
        let acc = optional_scale(
            "sources.imu.acc_scale_g_per_count",
            raw.acc_scale_g_per_count,
            c,
        );
        let gyro = optional_scale(
            "sources.imu.gyro_scale_dps_per_count",
            raw.gyro_scale_dps_per_count,
            c,
        );
        let baud = kind.and_then(|k| imu_baud(raw, k, c));
        let looping = kind
            .and_then(|k| {
                only_for(
                    k,
                    ImuKind::CsvFile,
                    "sources.imu.loop",
                    raw.looping.map(|b| b.to_string()),
                    c,
                )
            })
            .map(|is_file| is_file && raw.looping.unwrap_or(false));
        let iio = kind.and_then(|k| iio_settings(raw, k, c));
        Some(ImuSource {
            kind: kind?,
            path: path?,
            rate_hz: rate?,
            acc_scale_g_per_count: acc?,
            gyro_scale_dps_per_count: gyro?,
            baud: baud?,
            looping: looping?,
            iio: iio?,
            optional: raw.optional.unwrap_or(false),
        })
    }

    pub(super) fn to_raw(&self) -> RawImu {
        let iio = self.iio.as_ref();
        RawImu {
            kind: Some(self.kind.name().to_string()),
            path: self.path.clone(),
            rate_hz: Some(self.rate_hz),
            acc_scale_g_per_count: self.acc_scale_g_per_count,
            gyro_scale_dps_per_count: self.gyro_scale_dps_per_count,
            baud: self.baud.map(i64::from),
            looping: (self.kind == ImuKind::CsvFile).then_some(self.looping),
            iio_root: iio.map(|s| s.root.clone()),
            iio_dev_dir: iio.map(|s| s.dev_dir.clone()),
            iio_mode: iio.map(|s| s.mode.name().to_string()),
            iio_trigger: iio.and_then(|s| s.trigger.clone()),
            optional: Some(self.optional),
        }
    }
}

/// Required for the CSV kinds; optional for IIO (discovery).
fn imu_path(raw: &RawImu, kind: Option<ImuKind>, c: &mut Checker) -> Option<Option<PathBuf>> {
    match (&raw.path, kind) {
        (Some(p), _) => c.nonempty_path("sources.imu.path", p).map(Some),
        (None, Some(ImuKind::Iio)) => Some(None),
        (None, Some(_)) => c.error(
            "sources.imu.path",
            super::super::check::MISSING,
            "required for csv-stream and csv-file",
        ),
        (None, None) => Some(None),
    }
}

/// `Some(true)` when `kind` is `wanted`, `Some(false)` when it is not and the
/// key is unset; an error when the key is set for another kind.
fn only_for(
    kind: ImuKind,
    wanted: ImuKind,
    key: &str,
    value: Option<String>,
    c: &mut Checker,
) -> Option<bool> {
    match (kind == wanted, value) {
        (true, _) => Some(true),
        (false, None) => Some(false),
        (false, Some(v)) => c.error(key, v, format!("only with kind = \"{}\"", wanted.name())),
    }
}

fn imu_baud(raw: &RawImu, kind: ImuKind, c: &mut Checker) -> Option<Option<u32>> {
    let stream = only_for(
        kind,
        ImuKind::CsvStream,
        "sources.imu.baud",
        raw.baud.map(|b| b.to_string()),
        c,
    )?;
    if !stream {
        return Some(None);
    }
    let baud = raw.baud.unwrap_or(i64::from(DEFAULT_BAUD));
    match BAUD_RATES.iter().find(|b| i64::from(**b) == baud) {
        Some(b) => Some(Some(*b)),
        None => {
            let rates: Vec<String> = BAUD_RATES.iter().map(u32::to_string).collect();
            c.error(
                "sources.imu.baud",
                baud.to_string(),
                format!("must be one of {}", rates.join(", ")),
            )
        }
    }
}

fn iio_settings(raw: &RawImu, kind: ImuKind, c: &mut Checker) -> Option<Option<IioSettings>> {
    if kind != ImuKind::Iio {
        let set = [
            ("iio_root", raw.iio_root.is_some()),
            ("iio_dev_dir", raw.iio_dev_dir.is_some()),
            ("iio_mode", raw.iio_mode.is_some()),
            ("iio_trigger", raw.iio_trigger.is_some()),
        ];
        for (key, _) in set.iter().filter(|(_, on)| *on) {
            c.error::<()>(
                &format!("sources.imu.{key}"),
                "(set)",
                "only with kind = \"iio\"",
            );
        }
        return set.iter().all(|(_, on)| !on).then_some(None);
    }
    let root = c.nonempty_path(
        "sources.imu.iio_root",
        raw.iio_root.as_deref().unwrap_or(Path::new(DEFAULT_ROOT)),
    );
    let dev_dir = c.nonempty_path(
        "sources.imu.iio_dev_dir",
        raw.iio_dev_dir
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_DEV_DIR)),
    );
    let mode = match raw.iio_mode.as_deref() {
        Some(name) => c.choice("sources.imu.iio_mode", name),
        None => Some(IioMode::Polled),
    };
    let trigger = match raw.iio_trigger.as_deref() {
        Some(t) if t.trim().is_empty() => {
            c.error("sources.imu.iio_trigger", "\"\"", "must not be empty")
        }
        other => Some(other.map(str::to_string)),
    };
    Some(Some(IioSettings {
        root: root?,
        dev_dir: dev_dir?,
        mode: mode?,
        trigger: trigger?,
    }))
}

fn optional_scale(key: &str, value: Option<f64>, c: &mut Checker) -> Option<Option<f64>> {
    match value {
        Some(v) => c.positive(key, v, None).map(Some),
        None => Some(None),
    }
}
