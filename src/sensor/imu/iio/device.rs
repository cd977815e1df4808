//! IIO devices as sysfs shows them (Documentation/ABI/testing/sysfs-bus-iio):
//! one directory per device under a root (`/sys/bus/iio/devices/iio:deviceN`)
//! holding `name`, the channels' `in_accel_{x,y,z}_raw` and
//! `in_anglvel_{x,y,z}_raw`, their `scale` and `offset` (per axis, or shared by
//! the channel type), and `sampling_frequency`.
//!
//! Units (the ABI's): acceleration in m/s², angular velocity in rad/s after
//! `(raw + offset) * scale`; mmcl's samples are g and °/s, converted here.
//! The files are read directly: the `industrial-io` crate wraps the C libiio,
//! which the device path would then need, for what is a documented text format.

use super::error::IioError;
use std::path::{Path, PathBuf};

/// Where Linux lists IIO devices.
pub const DEFAULT_ROOT: &str = "/sys/bus/iio/devices";
/// m/s² per g (the conventional standard gravity, as the IMU datasheets use).
const STANDARD_GRAVITY: f64 = 9.806_65;
pub const AXES: [&str; 3] = ["x", "y", "z"];

/// The two channel types an IMU source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Accel,
    AnglVel,
}

impl Kind {
    /// The channel prefix in attribute names.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Accel => "in_accel",
            Kind::AnglVel => "in_anglvel",
        }
    }

    /// mmcl's unit per ABI unit: g per m/s², °/s per rad/s.
    fn to_sample_units(self) -> f64 {
        match self {
            Kind::Accel => 1.0 / STANDARD_GRAVITY,
            Kind::AnglVel => 180.0 / std::f64::consts::PI,
        }
    }
}

/// `(raw + offset) * scale` in g or °/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Sample units per count.
    pub scale: f64,
    /// Counts added before scaling.
    pub offset: f64,
}

impl Calibration {
    pub fn apply(&self, raw: i64) -> f32 {
        ((raw as f64 + self.offset) * self.scale) as f32
    }
}

/// One device directory.
#[derive(Debug, Clone, PartialEq)]
pub struct IioDevice {
    pub dir: PathBuf,
    /// The directory's name, `iio:deviceN`.
    pub id: String,
    /// The driver's `name` attribute, when it has one.
    pub name: Option<String>,
}

impl IioDevice {
    pub fn open(dir: &Path) -> Result<IioDevice, IioError> {
        if !dir.is_dir() {
            return Err(IioError::io(dir, "open IIO device", not_found()));
        }
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = std::fs::read_to_string(dir.join("name"))
            .ok()
            .map(|s| s.trim().to_string());
        Ok(IioDevice {
            dir: dir.to_path_buf(),
            id,
            name,
        })
    }

    /// `iio:device0 (bmi160)`: for health and errors.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({name})", self.id),
            None => self.id.clone(),
        }
    }

    /// Whether the device directory still exists (an unplugged device's goes).
    pub fn is_present(&self) -> bool {
        self.dir.is_dir()
    }

    /// Whether it has all three `raw` channels of `kind`.
    pub fn has(&self, kind: Kind) -> bool {
        AXES.iter().all(|a| self.raw_path(kind, a).is_file())
    }

    pub fn raw_path(&self, kind: Kind, axis: &str) -> PathBuf {
        self.dir.join(format!("{}_{axis}_raw", kind.prefix()))
    }

    /// The first of `names` that exists in the device directory.
    fn find(&self, names: &[String]) -> Option<PathBuf> {
        names.iter().map(|n| self.dir.join(n)).find(|p| p.is_file())
    }

    /// `in_<kind>_<axis>_<what>`, then the type-wide `in_<kind>_<what>`.
    fn attribute_names(kind: Kind, axis: &str, what: &str) -> Vec<String> {
        let p = kind.prefix();
        vec![format!("{p}_{axis}_{what}"), format!("{p}_{what}")]
    }

    /// The axis's calibration; `scale` overrides the device's (sample units per count).
    pub fn calibration(
        &self,
        kind: Kind,
        axis: &str,
        scale: Option<f64>,
    ) -> Result<Calibration, IioError> {
        let offset = match self.find(&Self::attribute_names(kind, axis, "offset")) {
            Some(path) => read_f64(&path)?,
            None => 0.0,
        };
        let scale = match scale {
            Some(scale) => scale,
            None => {
                let names = Self::attribute_names(kind, axis, "scale");
                let Some(path) = self.find(&names) else {
                    return Err(IioError::MissingAttribute {
                        device: self.label(),
                        channel: format!("{}_{axis}", kind.prefix()),
                        what: "scale",
                        tried: names,
                    });
                };
                read_f64(&path)? * kind.to_sample_units()
            }
        };
        Ok(Calibration { scale, offset })
    }

    /// The `sampling_frequency` file of `kind` (type-specific first), if any.
    pub fn frequency_path(&self, kind: Kind) -> Option<PathBuf> {
        self.find(&[
            format!("{}_sampling_frequency", kind.prefix()),
            "sampling_frequency".to_string(),
        ])
    }

    /// Asks for `hz` where the device lets us (best effort: a read-only or
    /// refusing attribute keeps its value), and returns what it reads now.
    pub fn set_frequency(&self, kind: Kind, hz: f64) -> Option<f64> {
        let path = self.frequency_path(kind)?;
        let now = read_f64(&path).ok();
        if now.is_some_and(|f| (f - hz).abs() > 1e-6 * hz) {
            // Refusal is not an error: the source reports the rate the device keeps.
            let _ = std::fs::write(&path, format!("{hz}"));
            return read_f64(&path).ok();
        }
        now
    }
}

fn not_found() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::NotFound)
}

/// A whole attribute file as text.
pub fn read_text(path: &Path) -> Result<String, IioError> {
    std::fs::read_to_string(path).map_err(|e| IioError::io(path, "read", e))
}

pub fn read_f64(path: &Path) -> Result<f64, IioError> {
    let text = read_text(path)?;
    parse_f64(path, &text)
}

pub fn parse_f64(path: &Path, text: &str) -> Result<f64, IioError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| IioError::BadValue {
            path: path.to_path_buf(),
            text: text.trim().to_string(),
            expected: "a finite number",
        })
}

pub fn parse_i64(path: &Path, text: &str) -> Result<i64, IioError> {
    text.trim().parse::<i64>().map_err(|_| IioError::BadValue {
        path: path.to_path_buf(),
        text: text.trim().to_string(),
        expected: "a whole number",
    })
}

/// Every `iio:device*` directory under `root`, in device-number order.
pub fn list(root: &Path) -> Result<Vec<IioDevice>, IioError> {
    let entries = std::fs::read_dir(root).map_err(|e| IioError::io(root, "list", e))?;
    let mut devices: Vec<(u64, IioDevice)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let number = name.strip_prefix("iio:device")?.parse::<u64>().ok()?;
            IioDevice::open(&e.path()).ok().map(|d| (number, d))
        })
        .collect();
    devices.sort_by_key(|(n, _)| *n);
    Ok(devices.into_iter().map(|(_, d)| d).collect())
}

/// The device(s) an IMU source reads: both channel types on one device, or
/// the accelerometer and the gyroscope on two.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePair {
    pub accel: IioDevice,
    pub gyro: IioDevice,
}

impl DevicePair {
    pub fn is_single(&self) -> bool {
        self.accel.dir == self.gyro.dir
    }

    pub fn label(&self) -> String {
        match self.is_single() {
            true => self.accel.label(),
            false => format!("{} + {}", self.accel.label(), self.gyro.label()),
        }
    }
}

/// The device named by `path` (a sysfs directory, or `/dev/iio:deviceN`,
/// looked up under `root`), or the first under `root` with an accelerometer;
/// the gyroscope from the same device, or else the first device that has one.
pub fn find_pair(root: &Path, path: Option<&Path>) -> Result<DevicePair, IioError> {
    let all = list(root)?;
    let accel = match path {
        Some(path) => named(root, path)?,
        None => all
            .iter()
            .find(|d| d.has(Kind::Accel))
            .cloned()
            .ok_or_else(|| IioError::NotFound {
                root: root.to_path_buf(),
                what: "with in_accel_{x,y,z}_raw".into(),
            })?,
    };
    if !accel.has(Kind::Accel) {
        return Err(IioError::MissingAttribute {
            device: accel.label(),
            channel: "in_accel".into(),
            what: "accelerometer channels",
            tried: AXES.iter().map(|a| format!("in_accel_{a}_raw")).collect(),
        });
    }
    if accel.has(Kind::AnglVel) {
        return Ok(DevicePair {
            gyro: accel.clone(),
            accel,
        });
    }
    let gyro = all
        .into_iter()
        .find(|d| d.has(Kind::AnglVel))
        .ok_or_else(|| IioError::NotFound {
            root: root.to_path_buf(),
            what: format!(
                "with in_anglvel_{{x,y,z}}_raw (the gyroscope beside {})",
                accel.label()
            ),
        })?;
    Ok(DevicePair { accel, gyro })
}

/// A configured device path: its sysfs directory.
fn named(root: &Path, path: &Path) -> Result<IioDevice, IioError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let dir = match file_name {
        Some(n) if n.starts_with("iio:device") && !path.is_dir() => root.join(n),
        _ => path.to_path_buf(),
    };
    IioDevice::open(&dir).map_err(|_| IioError::NotFound {
        root: root.to_path_buf(),
        what: format!("at {}", dir.display()),
    })
}
