//! The daemon's sources, from the profile's `[sources.*]`: the replay of a dataset (with
//! its ground truth), or the live devices (`sensor::live::build`: camera, IIO or CSV/serial
//! IMU, microphone, and recordings played as live sources). A required device that is not
//! there refuses the start by name; an optional one is left out and logged as absent.

use super::replay;
use super::stats::StreamClock;
use super::DaemonError;
use crate::config::Settings;
use crate::sensor::live::{self, BuildError, LiveContext};
use crate::sensor::replay::PlayLog;
use crate::sensor::Source;
use crate::shutdown::Shutdown;

/// Frames are reduced to this at capture when the encoder's window names no size
/// (the pipeline reduces again at entry to what the encoder takes).
const DEFAULT_FRAME_SIZE: (u32, u32) = (112, 112);

/// The sources to start, and the replay's play log when replaying.
pub struct Built {
    pub sources: Vec<Box<dyn Source>>,
    pub play_log: Option<PlayLog>,
    /// A line for the log: what plays.
    pub described: String,
}

/// Builds the profile's sources on `clock` (the stream clock's origin and speed are set
/// by replay; live sources stamp samples on the clock itself).
pub fn build(
    settings: &Settings,
    clock: &StreamClock,
    shutdown: &Shutdown,
) -> Result<Built, DaemonError> {
    let sources = settings.config().sources();
    if let Some(r) = sources.replay() {
        let (source, log, clips) = replay::source(
            r,
            (settings.window().len_ns(), settings.window().stride_ns()),
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
    live(settings, clock, shutdown)
}

/// The profile's live devices through `sensor::live::build`, optional ones that are
/// missing named in the log line (their modality is absent from every window).
fn live(
    settings: &Settings,
    clock: &StreamClock,
    shutdown: &Shutdown,
) -> Result<Built, DaemonError> {
    let ctx = LiveContext {
        clock: clock.clock.clone(),
        frame_size: settings.window().frame_size().unwrap_or(DEFAULT_FRAME_SIZE),
    };
    // The daemon's shutdown, so a SIGTERM also ends a wait for a device to (re)open.
    let built = live::build(settings.config().sources(), &ctx, shutdown).map_err(refused)?;
    let mut described = format!("reading {} live source(s)", built.sources.len());
    for gone in &built.absent {
        described.push_str(&format!("; optional {gone}, absent"));
    }
    Ok(Built {
        sources: built.sources,
        play_log: None,
        described,
    })
}

/// Every required device that would not open, by name.
fn refused(e: BuildError) -> DaemonError {
    let names: Vec<&str> = e.missing.iter().map(|m| m.name.as_str()).collect();
    DaemonError::Source {
        name: names.join(", "),
        why: e.to_string(),
    }
}
