//! The running service (`mmcl run`): recovery of the state directory, the pipeline on the
//! profile's sources, the predictor (smoothing and hysteresis over windows, `smooth`),
//! enrollment capture, the journal and periodic snapshots, systemd notification with a
//! watchdog driven by pipeline progress, and the `control::ControlTarget` the control
//! socket serves. docs/daemon.md describes it as a user sees it.
//!
//! Threads: the pipeline's own; one predictor thread reading the pipeline's output (it
//! never waits for a learn call: predictions use the published model); one housekeeping
//! thread (checkpoints, expiry of unclaimed enrollments, watchdog pings, `STATUS=`); the
//! control server's; and the caller's, which `Running::wait`s for the shutdown.
//!
//! - `recover`: state directory -> model. `service`: `Daemon` and each window's fate.
//! - `target`: the control requests. `status`: `mmcl status`. `capture`: enrollments (`clip_capture`: by whole clips).
//! - `smooth`, `events`, `stats`, `replay`, `notify`, `sources`, `lifecycle`.
//! - `fault`: the crash test's pause points (`MMCL_FAULT_PAUSE`, off by default).

mod capture;
mod clip_capture;
mod events;
mod fault;
mod lifecycle;
mod notify;
mod recover;
mod reload;
mod replay;
mod service;
mod smooth;
mod sources;
mod stats;
mod status;
mod target;

pub use lifecycle::{start, RunSummary, Running, StartOptions};
pub use notify::Notifier;
pub use reload::Reloaded;
pub use replay::{display_name, playlist_clips, truth_name};
pub use service::Daemon;
pub use smooth::{Smoothed, Smoother};
pub use stats::{peak_rss_bytes, rss_bytes, StreamClock};
pub use target::{COUNTERS_SECTION, MAX_ENROLL_SECONDS};

use crate::classes::ClassError;
use crate::envelope::EnvelopeError;
use crate::learn::LearnError;
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use std::path::PathBuf;

/// Why the daemon could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("state directory {}", dir.display())]
    State {
        dir: PathBuf,
        #[source]
        source: Box<StoreError>,
    },
    #[error("snapshot {}", path.display())]
    Snapshot {
        path: PathBuf,
        #[source]
        source: Box<ClassError>,
    },
    #[error(
        "journal record {seq} cannot be read (the state directory was written by a newer mmcl?)"
    )]
    Record {
        seq: u64,
        #[source]
        source: EnvelopeError,
    },
    #[error("control socket {}", socket.display())]
    Control {
        socket: PathBuf,
        #[source]
        source: Box<crate::control::ServeError>,
    },
    #[error("build the learner")]
    Learner {
        #[source]
        source: LearnError,
    },
    #[error("open the encoder")]
    Encoder {
        #[source]
        source: Box<crate::encode::EncodeError>,
    },
    #[error("start the replay source")]
    Replay {
        #[source]
        source: Box<replay::ReplayError>,
    },
    #[error("source {name}: {why}")]
    Source { name: String, why: String },
    #[error("start the pipeline")]
    Pipeline {
        #[source]
        source: Box<PipelineError>,
    },
    #[error("no source delivered a sample within {seconds} s of the start")]
    NoSamples { seconds: u64 },
    #[error("write a snapshot")]
    Checkpoint {
        #[source]
        source: Box<StoreError>,
    },
    #[error("start the uplink")]
    Uplink {
        #[source]
        source: Box<crate::uplink::UplinkError>,
    },
    #[error("start the {what} thread")]
    Spawn {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The daemon's log: one line to stderr (journald keeps it under systemd). A closed
/// stderr loses the line; it never stops the daemon (`eprintln!` would panic).
pub fn log(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "mmcl: {line}");
}
