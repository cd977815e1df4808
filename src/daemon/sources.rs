//! The daemon's sources, from the profile's `[sources.*]`: the replay of a dataset (with
//! its ground truth), or the live devices this build can read. A CSV/serial IMU stream
//! (`kind = "csv-stream"`) is read here; the camera, Linux IIO and microphone sources are
//! refused at start by name until their readers are built in (docs/daemon.md).

use super::replay;
use super::stats::StreamClock;
use super::DaemonError;
use crate::config::{ImuKind, Settings};
use crate::sensor::imu::{ImuStream, ImuStreamOptions, Stamping};
use crate::sensor::replay::PlayLog;
use crate::sensor::{Pacing, Source};
use crate::time::Clock;
use std::sync::Arc;

/// The sources to start, and the replay's play log when replaying.
pub struct Built {
    pub sources: Vec<Box<dyn Source>>,
    pub play_log: Option<PlayLog>,
    /// A line for the log: what plays.
    pub described: String,
}

/// Builds the profile's sources on `clock` (the stream clock's origin and speed are set
/// by replay; live sources stamp samples on the clock itself).
pub fn build(settings: &Settings, clock: &StreamClock) -> Result<Built, DaemonError> {
    let sources = settings.config().sources();
    if let Some(r) = sources.replay() {
        let (source, log, clips) = replay::source(
            r,
            settings.window().len_ns(),
            clock.clock.clone(),
            clock.origin,
        )
        .map_err(|source| DaemonError::Replay {
            source: Box::new(source),
        })?;
        let described = format!(
            "replaying {clips} clips of {} ({} split, speed {}{})",
            r.dataset().display(),
            r.split().name(),
            r.speed(),
            if r.looping() { ", looping" } else { "" }
        );
        return Ok(Built {
            sources: vec![Box::new(source)],
            play_log: Some(log),
            described,
        });
    }
    let mut built: Vec<Box<dyn Source>> = Vec::new();
    if sources.camera().is_some() {
        return Err(unsupported("camera", "camera capture"));
    }
    if sources.audio().is_some() {
        return Err(unsupported("audio", "microphone capture"));
    }
    if let Some(imu) = sources.imu() {
        if imu.kind() == ImuKind::Iio {
            return Err(unsupported("imu", "Linux IIO reading"));
        }
        let options = ImuStreamOptions {
            name: "imu".into(),
            stamping: Stamping::Arrival(clock.clock.clone() as Arc<dyn Clock>),
            pacing: Pacing::Unpaced,
            acc_scale: imu.acc_scale_g_per_count().unwrap_or(1.0) as f32,
            gyro_scale: imu.gyro_scale_dps_per_count().unwrap_or(1.0) as f32,
            expected_rate_hz: Some(imu.rate_hz()),
        };
        let stream = ImuStream::open(imu.path(), options).map_err(|e| DaemonError::Source {
            name: "imu".into(),
            why: e.to_string(),
        })?;
        built.push(Box::new(stream));
    }
    let described = format!("reading {} live source(s)", built.len());
    Ok(Built {
        sources: built,
        play_log: None,
        described,
    })
}

fn unsupported(name: &str, what: &str) -> DaemonError {
    DaemonError::Source {
        name: name.into(),
        why: format!(
            "{what} is not built into this mmcl yet (use a csv-stream IMU or a replay profile)"
        ),
    }
}
