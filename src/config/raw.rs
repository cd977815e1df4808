//! `RawConfig`: a profile exactly as written, before any rule is checked.
//!
//! Every key is optional here, even the required ones, so that one pass of
//! `Config::from_raw` can report every missing key together with every bad value
//! instead of stopping at the first. Numbers are the widest TOML types (`i64`,
//! `f64`) so an out-of-range value reaches validation with its key and value.
//! Unknown keys are refused by serde (`deny_unknown_fields` on every table).
//! The same types, fully filled in by `Config::to_raw`, print the effective config.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A whole profile. See firmware-config/README.md for every key, unit and default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    #[serde(default)]
    pub encoder: RawEncoder,
    #[serde(default)]
    pub window: RawWindow,
    #[serde(default)]
    pub learner: RawLearner,
    #[serde(default)]
    pub sources: RawSources,
    #[serde(default)]
    pub channels: RawChannels,
    #[serde(default)]
    pub control: RawControl,
    #[serde(default)]
    pub daemon: RawDaemon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<RawUplink>,
}

impl RawConfig {
    /// Parses TOML text; the error carries the byte span serde pointed at.
    pub fn parse(text: &str) -> Result<RawConfig, toml::de::Error> {
        toml::from_str(text)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEncoder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_providers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ort_library: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imu_rate_hz: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_coverage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_gap_seconds: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLearner {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_bytes: Option<RawBytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
}

/// A byte count as written: an integer, or a string with a unit ("512KiB").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawBytes {
    Count(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawBytes, D::Error> {
        d.deserialize_any(RawBytesVisitor)
    }
}

/// A hand-written visitor so a wrong type reads "expected an integer byte count
/// or ..." rather than serde's "did not match any variant of untagged enum".
struct RawBytesVisitor;

impl serde::de::Visitor<'_> for RawBytesVisitor {
    type Value = RawBytes;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an integer byte count or a string such as \"512KiB\"")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawBytes, E> {
        Ok(RawBytes::Count(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawBytes, E> {
        i64::try_from(v)
            .map(RawBytes::Count)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawBytes, E> {
        Ok(RawBytes::Text(v.to_string()))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<RawReplay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<RawCamera>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imu: Option<RawImu>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<RawAudio>,
    /// Backoff bounds for reopening a lost live device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RawRestart>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplay {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// `loop` in TOML (a Rust keyword).
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    pub looping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clips_per_class: Option<i64>,
}

/// `[sources.camera]`: exactly one of `device`, `index` (a V4L2 device
/// number) or `file` (a recording played as a camera).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// `loop` in TOML: play `file` again at its end.
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    pub looping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImu {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_hz: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc_scale_g_per_count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gyro_scale_dps_per_count: Option<f64>,
    /// `csv-stream` on a terminal: the serial port's rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud: Option<i64>,
    /// `loop` in TOML: `csv-file` only.
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    pub looping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iio_root: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iio_dev_dir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iio_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iio_trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudio {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_hz: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRestart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imu_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_capacity: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_changes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots_kept: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_enroll_windows: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoothing: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_margin: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_windows: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_uids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUplink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_bytes: Option<RawBytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_accepts_integer_or_text() {
        let raw = RawConfig::parse("[learner]\nbudget_bytes = 4096\n").unwrap();
        assert_eq!(raw.learner.budget_bytes, Some(RawBytes::Count(4096)));
        let raw = RawConfig::parse("[learner]\nbudget_bytes = \"2MiB\"\n").unwrap();
        assert_eq!(
            raw.learner.budget_bytes,
            Some(RawBytes::Text("2MiB".into()))
        );
    }

    #[test]
    fn budget_of_wrong_type_says_what_is_expected() {
        let err = RawConfig::parse("[learner]\nbudget_bytes = 1.5\n").unwrap_err();
        assert!(
            err.message().contains("integer byte count"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn integer_is_accepted_where_seconds_are_float() {
        let raw = RawConfig::parse("[window]\nseconds = 5\n").unwrap();
        assert_eq!(raw.window.seconds, Some(5.0));
    }

    #[test]
    fn unknown_key_is_refused_by_name() {
        let err = RawConfig::parse("[window]\ncolour = 1\n").unwrap_err();
        assert!(err.message().contains("`colour`"), "{}", err.message());
    }

    #[test]
    fn loop_is_spelled_loop() {
        let raw = RawConfig::parse("[sources.replay]\nloop = true\n").unwrap();
        assert_eq!(raw.sources.replay.unwrap().looping, Some(true));
    }
}
