//! `[sources.*]`: where samples come from. A profile either replays a dataset
//! (which carries video and IMU together) or reads live sensors (camera, IMU,
//! audio, any subset), never both: two video streams would reach one aligner.
//!
//! Device paths are not checked here (a camera may be plugged in after boot); a
//! replay dataset that does not exist yet is a warning, since `mmcl synth` or a
//! copy may create it before the daemon starts. The live sections are in
//! `camera`, `imu` and `audio` (with `[sources.restart]`); each may be `optional`:
//! missing at start means absent, not an error (`sensor::live::build`).

mod audio;
mod camera;
mod imu;

pub use audio::{AudioSource, RestartConfig};
pub use camera::{CameraInput, CameraSource};
pub use imu::{IioSettings, ImuSource};

use super::check::{float_text, path_text, Checker};
use super::choice::Choice;
use super::error::Issue;
use super::raw::{RawReplay, RawSources};
use crate::dataset::Split;
use std::path::{Path, PathBuf};

pub const DEFAULT_SPLIT: Split = Split::Test;
pub const DEFAULT_SPEED: f64 = 1.0;
pub const MAX_SPEED: f64 = 1000.0;

/// The validated `[sources]` table: at least one source, replay alone or live ones.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcesConfig {
    replay: Option<ReplaySource>,
    camera: Option<CameraSource>,
    imu: Option<ImuSource>,
    audio: Option<AudioSource>,
    restart: RestartConfig,
}

impl SourcesConfig {
    pub fn replay(&self) -> Option<&ReplaySource> {
        self.replay.as_ref()
    }

    pub fn camera(&self) -> Option<&CameraSource> {
        self.camera.as_ref()
    }

    pub fn imu(&self) -> Option<&ImuSource> {
        self.imu.as_ref()
    }

    pub fn audio(&self) -> Option<&AudioSource> {
        self.audio.as_ref()
    }

    /// Backoff bounds for reopening a lost live device (defaults without `[sources.restart]`).
    pub fn restart(&self) -> RestartConfig {
        self.restart
    }

    /// Whether any live section (camera, IMU, audio) is configured.
    pub fn is_live(&self) -> bool {
        self.camera.is_some() || self.imu.is_some() || self.audio.is_some()
    }

    pub(crate) fn from_raw(raw: &RawSources, c: &mut Checker) -> Option<SourcesConfig> {
        let replay = raw.replay.as_ref().map(|r| ReplaySource::from_raw(r, c));
        let camera = raw.camera.as_ref().map(|r| CameraSource::from_raw(r, c));
        let imu = raw.imu.as_ref().map(|r| ImuSource::from_raw(r, c));
        let audio = raw.audio.as_ref().map(|r| AudioSource::from_raw(r, c));
        let restart = raw.restart.as_ref().map(|r| RestartConfig::from_raw(r, c));
        let live: Vec<&str> = [
            ("camera", raw.camera.is_some()),
            ("imu", raw.imu.is_some()),
            ("audio", raw.audio.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        if raw.replay.is_none() && live.is_empty() {
            return c.error("sources", "{}", "configure at least one of sources.replay, sources.camera, sources.imu, sources.audio");
        }
        if raw.replay.is_some() && !live.is_empty() {
            let rule = format!(
                "cannot be combined with live sources ({}): a replay already carries video and IMU",
                live.join(", ")
            );
            return c.error("sources.replay", "{…}", rule);
        }
        if raw.restart.is_some() && live.is_empty() {
            return c.error(
                "sources.restart",
                "{…}",
                "only with live sources (a replay does not lose its device)",
            );
        }
        Some(SourcesConfig {
            replay: lift(replay)?,
            camera: lift(camera)?,
            imu: lift(imu)?,
            audio: lift(audio)?,
            restart: lift(restart)?.unwrap_or_default(),
        })
    }

    pub(crate) fn to_raw(&self) -> RawSources {
        RawSources {
            replay: self.replay.as_ref().map(ReplaySource::to_raw),
            camera: self.camera.as_ref().map(CameraSource::to_raw),
            imu: self.imu.as_ref().map(ImuSource::to_raw),
            audio: self.audio.as_ref().map(AudioSource::to_raw),
            restart: self.is_live().then(|| self.restart.to_raw()),
        }
    }
}

/// An absent section is fine; a present one that failed fails the whole table.
fn lift<T>(section: Option<Option<T>>) -> Option<Option<T>> {
    match section {
        None => Some(None),
        Some(checked) => checked.map(Some),
    }
}

/// In which order replay plays a split's clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayOrder {
    /// The list file's order.
    List,
    /// Grouped by class: the classes of `classes` in that order (else by label), each
    /// class's clips in list order, at most `clips_per_class` of each.
    ByClass,
}

impl Choice for ReplayOrder {
    const ALL: &'static [ReplayOrder] = &[ReplayOrder::List, ReplayOrder::ByClass];
    fn name(self) -> &'static str {
        match self {
            ReplayOrder::List => "list",
            ReplayOrder::ByClass => "by-class",
        }
    }
}

/// `[sources.replay]`: one split of a dataset in the UESTC-MMEA-CL layout, played on a
/// clock from a playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaySource {
    dataset: PathBuf,
    split: Split,
    speed: f64,
    looping: bool,
    order: ReplayOrder,
    /// Only these classes (class folder names, with or without the `<n>_` prefix).
    classes: Option<Vec<String>>,
    clips_per_class: Option<u32>,
}

impl ReplaySource {
    /// The dataset root, resolved (it may not exist yet: see the module docs).
    pub fn dataset(&self) -> &Path {
        &self.dataset
    }

    pub fn split(&self) -> Split {
        self.split
    }

    /// Playback rate: 1.0 = real time, 2.0 = twice as fast; in (0, 1000].
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Start the split again after its last clip (`loop` in TOML).
    pub fn looping(&self) -> bool {
        self.looping
    }

    pub fn order(&self) -> ReplayOrder {
        self.order
    }

    /// The classes to play (names as the dataset's class folders give them); `None`: all.
    pub fn classes(&self) -> Option<&[String]> {
        self.classes.as_deref()
    }

    /// At most this many clips of each class (in `by-class` order), 1..=100000.
    pub fn clips_per_class(&self) -> Option<u32> {
        self.clips_per_class
    }

    fn from_raw(raw: &RawReplay, c: &mut Checker) -> Option<ReplaySource> {
        let dataset = c.required("sources.replay.dataset", raw.dataset.as_deref());
        let dataset = dataset.and_then(|p| c.nonempty_path("sources.replay.dataset", p));
        if let (Some(written), Some(resolved)) = (&raw.dataset, &dataset) {
            if !resolved.is_dir() {
                let note = format!(
                    "no dataset directory at {} yet (run `mmcl synth` or copy one there)",
                    resolved.display()
                );
                c.warn("sources.replay.dataset", path_text(written), note);
            }
        }
        let split = match &raw.split {
            Some(name) => c.choice("sources.replay.split", name),
            None => Some(DEFAULT_SPLIT),
        };
        let speed = c.positive(
            "sources.replay.speed",
            raw.speed.unwrap_or(DEFAULT_SPEED),
            Some(super::check::Bound::fixed(MAX_SPEED)),
        );
        let order = match &raw.order {
            Some(name) => c.choice("sources.replay.order", name),
            None => Some(ReplayOrder::List),
        };
        let classes = match &raw.classes {
            Some(list) => replay_classes(list, c).map(Some),
            None => Some(None),
        };
        let clips_per_class = match raw.clips_per_class {
            Some(n) => c
                .int_in("sources.replay.clips_per_class", n, 1, 100_000)
                .map(Some),
            None => Some(None),
        };
        Some(ReplaySource {
            dataset: dataset?,
            split: split?,
            speed: speed?,
            looping: raw.looping.unwrap_or(false),
            order: order?,
            classes: classes?,
            clips_per_class: clips_per_class?,
        })
    }

    fn to_raw(&self) -> RawReplay {
        RawReplay {
            dataset: Some(self.dataset.clone()),
            split: Some(self.split.name().to_string()),
            speed: Some(self.speed),
            looping: Some(self.looping),
            order: Some(self.order.name().to_string()),
            classes: self.classes.clone(),
            clips_per_class: self.clips_per_class.map(i64::from),
        }
    }
}

/// A non-empty list of non-empty, distinct class names.
fn replay_classes(list: &[String], c: &mut Checker) -> Option<Vec<String>> {
    const KEY: &str = "sources.replay.classes";
    let shown = format!("{list:?}");
    if list.is_empty() {
        return c.error(
            KEY,
            shown,
            "must name at least one class (leave it out to play all)",
        );
    }
    if let Some(bad) = list.iter().find(|n| n.trim().is_empty()) {
        return c.error(KEY, shown, format!("{bad:?} is not a class name"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for name in list {
        if seen.contains(&name.as_str()) {
            return c.error(KEY, shown, format!("{name:?} is listed twice"));
        }
        seen.push(name);
    }
    Some(list.to_vec())
}

/// Rules that need the encoder's window shape (checked by `Settings::resolve`):
/// an audio grid the aligner can hold (an error), sensors slower than what a
/// window asks (warnings). Returns (errors, warnings).
pub(crate) fn check_against_shape(
    sources: &SourcesConfig,
    shape: &super::WindowShape,
) -> (Vec<Issue>, Vec<Issue>) {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    if let Some(audio) = &sources.audio {
        // The aligner resamples audio to seconds * rate points per window (2..=10^7).
        let points = (shape.seconds * f64::from(audio.rate_hz())).round();
        if !(2.0..=1e7).contains(&points) {
            let rule = format!(
                "with the encoder's {} s windows gives {points} audio points per window; must be 2..=10000000",
                float_text(shape.seconds)
            );
            errors.push(Issue::new(
                "sources.audio.rate_hz",
                audio.rate_hz().to_string(),
                rule,
            ));
        }
    }
    if let Some(imu) = &sources.imu {
        if imu.rate_hz() < shape.imu_rate_hz {
            let note = format!(
                "below the encoder's IMU rate ({} Hz): IMU windows will be upsampled",
                float_text(shape.imu_rate_hz)
            );
            warnings.push(Issue::new(
                "sources.imu.rate_hz",
                float_text(imu.rate_hz()),
                note,
            ));
        }
    }
    if let Some(camera) = &sources.camera {
        let needed = shape.frames as f64 / shape.seconds;
        if f64::from(camera.fps()) < needed {
            let note = format!("below the {needed:.2} frames/s the encoder's window needs ({} frames in {} s): frames will repeat", shape.frames, float_text(shape.seconds));
            warnings.push(Issue::new(
                "sources.camera.fps",
                camera.fps().to_string(),
                note,
            ));
        }
    }
    (errors, warnings)
}

#[cfg(test)]
mod shape_tests {
    use super::*;
    use crate::config::raw::RawAudio;
    use crate::config::WindowShape;

    #[test]
    fn an_audio_grid_the_aligner_cannot_hold_is_an_error() {
        let raw = RawSources {
            audio: Some(RawAudio {
                rate_hz: Some(192_000),
                ..RawAudio::default()
            }),
            ..RawSources::default()
        };
        let mut c = Checker::new(Path::new("/"));
        let sources = SourcesConfig::from_raw(&raw, &mut c).expect("valid sources");
        // 60 s windows at 192 kHz would be 11.5 M points per window (the aligner holds 10^7).
        let long = WindowShape {
            seconds: 60.0,
            imu_rate_hz: 25.0,
            frames: 8,
        };
        let (errors, _) = check_against_shape(&sources, &long);
        assert_eq!(
            errors[0].to_string(),
            "sources.audio.rate_hz = 192000: with the encoder's 60 s windows gives 11520000 audio points per window; must be 2..=10000000"
        );
        let short = WindowShape {
            seconds: 5.12,
            ..long
        };
        assert!(check_against_shape(&sources, &short).0.is_empty());
    }
}
