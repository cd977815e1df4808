//! What `mmcl sensors` lists: each configured live source opened for a moment
//! (its negotiated mode read back, a first sample waited for, then closed),
//! and every sensor the machine offers (video nodes, IIO devices, sound
//! inputs). One row per source: `{"modality", "device", "state", "rate_hz",
//! "format", "error"}`, plus the profile section and whether it is optional.

use super::{open_planned, plan, LiveContext, Planned, Section};
use crate::config::{CameraInput, ImuKind, SourcesConfig};
use crate::sample::Modality;
use crate::sensor::imu::iio::{self, IioError, Kind};
use crate::sensor::{audio, camera, Source};
use crate::shutdown::Shutdown;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a probe waits for a configured source's first sample.
pub const PROBE_TIME: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SensorState {
    /// Opened and delivered a sample.
    Ok,
    /// Opened, but no sample within the probe time.
    Silent,
    /// The device or file is not there.
    Missing,
    /// There, but it would not open or read (the error says why).
    Error,
    /// This build lacks the feature that reads it.
    Disabled,
    /// Listed by the machine; not in the profile, so not opened.
    Available,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SensorRow {
    pub modality: Modality,
    pub device: String,
    pub state: SensorState,
    pub rate_hz: Option<f64>,
    pub format: Option<String>,
    pub error: Option<String>,
    /// The profile section (`camera`, `imu`, `audio`); `None` for the machine's others.
    pub source: Option<String>,
    pub optional: Option<bool>,
}

/// `{"sources": [...]}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Inventory {
    pub sources: Vec<SensorRow>,
}

/// Every configured live section, probed.
pub fn configured(sources: &SourcesConfig, ctx: &LiveContext, probe: Duration) -> Vec<SensorRow> {
    plan(sources)
        .iter()
        .map(|p| probe_one(p, sources, ctx, probe))
        .collect()
}

fn probe_one(
    p: &Planned<'_>,
    sources: &SourcesConfig,
    ctx: &LiveContext,
    probe: Duration,
) -> SensorRow {
    // A shutdown of its own ends the probe's waits (a restarting device included).
    let stop = Shutdown::new();
    let timer = stop.clone();
    let _ = std::thread::Builder::new()
        .name("probe-timer".into())
        .spawn(move || {
            timer.wait_timeout(probe);
            timer.trigger();
        });
    let mut row = SensorRow {
        modality: p.modality,
        device: p.device.clone(),
        state: SensorState::Error,
        rate_hz: None,
        format: None,
        error: None,
        source: Some(p.name.to_string()),
        optional: Some(p.optional),
    };
    match open_planned(p, sources, ctx, &stop) {
        Ok(mut source) => read_probe(source.as_mut(), &stop, probe, &mut row),
        Err(e) => {
            row.state = classify(p);
            row.error = Some(e.to_string());
        }
    }
    stop.trigger();
    row
}

/// Waits for one sample and fills the row from the source's report.
fn read_probe(source: &mut dyn Source, stop: &Shutdown, probe: Duration, row: &mut SensorRow) {
    let began = Instant::now();
    let got = source.next_sample(stop);
    if let Some(report) = source.monitor().map(|m| m.report(Instant::now())) {
        row.device = report.device.unwrap_or(row.device.clone());
        row.format = report.format;
        row.rate_hz = report.rate_hz;
        if let Some(restart) = report.restart.filter(|r| r.restarting) {
            row.error = restart.last_error;
        }
    }
    row.rate_hz = row
        .rate_hz
        .or_else(|| source.expected_rate_hz(row.modality));
    match got {
        Ok(Some(_)) => row.state = SensorState::Ok,
        Ok(None) => {
            row.state = SensorState::Silent;
            let waited = began.elapsed().min(probe).as_secs_f64();
            row.error
                .get_or_insert(format!("no sample within {waited:.1} s"));
        }
        Err(e) => row.error = Some(e.to_string()),
    }
}

/// Why an open failed: not built in, not there, or there but broken.
fn classify(p: &Planned<'_>) -> SensorState {
    match p.section {
        Section::Camera(c) => match c.input() {
            CameraInput::Device(_) if !camera::ENABLED => SensorState::Disabled,
            CameraInput::Device(path) | CameraInput::File { path, .. } => exists(path),
        },
        Section::Imu(i) => match (i.kind(), i.iio()) {
            (ImuKind::Iio, Some(s)) => match iio::find_pair(&s.root, i.path()) {
                Err(IioError::NotFound { .. } | IioError::Io { .. }) => SensorState::Missing,
                _ => SensorState::Error,
            },
            _ => i.path().map_or(SensorState::Missing, exists),
        },
        Section::Audio(_) if !audio::ENABLED => SensorState::Disabled,
        Section::Audio(a) => {
            // A host that cannot list its inputs has none to offer.
            let devices = audio::list().unwrap_or_default();
            let there = match a.device() {
                audio::DEFAULT_DEVICE => devices.iter().any(|d| d.name != "null"),
                name => devices.iter().any(|d| d.name == name),
            };
            if there {
                SensorState::Error
            } else {
                SensorState::Missing
            }
        }
    }
}

fn exists(path: &Path) -> SensorState {
    match path.exists() {
        true => SensorState::Error,
        false => SensorState::Missing,
    }
}

fn available(
    modality: Modality,
    device: String,
    rate_hz: Option<f64>,
    format: Option<String>,
) -> SensorRow {
    SensorRow {
        modality,
        device,
        state: SensorState::Available,
        rate_hz,
        format,
        error: None,
        source: None,
        optional: None,
    }
}

/// What the machine lists: video nodes under `video_sys`, IIO devices with an
/// accelerometer or gyroscope under `iio_root`, and sound inputs.
pub fn machine(iio_root: &Path, video_sys: &Path) -> Vec<SensorRow> {
    let mut rows: Vec<SensorRow> = camera::list(video_sys)
        .into_iter()
        .map(|c| available(Modality::Video, c.device, None, c.name))
        .collect();
    for d in iio::list(iio_root).unwrap_or_default() {
        let (acc, gyro) = (d.has(Kind::Accel), d.has(Kind::AnglVel));
        let what = match (acc, gyro) {
            (true, true) => "accelerometer + gyroscope",
            (true, false) => "accelerometer",
            (false, true) => "gyroscope",
            (false, false) => continue,
        };
        let kind = if acc { Kind::Accel } else { Kind::AnglVel };
        let rate = d.frequency_path(kind).and_then(|p| iio::read_f64(&p).ok());
        rows.push(available(
            Modality::Imu,
            format!("{} {}", d.label(), d.dir.display()),
            rate,
            Some(what.into()),
        ));
    }
    for a in audio::list().unwrap_or_default() {
        let format = a.channels.map(|n| format!("{n} ch"));
        rows.push(available(
            Modality::Audio,
            a.name,
            a.rate_hz.map(f64::from),
            format,
        ));
    }
    rows
}
