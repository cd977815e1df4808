//! What the control server asks of the running daemon: the `ControlTarget` trait, and the
//! reports its methods return. The control protocol (framing, versions, request names)
//! carries these reports as JSON with these field names (DESIGN.md "Machine-readable
//! output"), so they are `Serialize + Deserialize`: the daemon writes them, the CLI client
//! reads them and `--json` prints them as they came. Add fields freely, never rename.

use serde::{Deserialize, Serialize};

/// The daemon as the control server sees it. Implemented by `daemon::Daemon`; tests use
/// fakes. Every method returns promptly (it never waits for a learn call or the encoder,
/// except `enroll_stop`, which learns, and `checkpoint`, which writes a snapshot) and is
/// called from the server's client threads concurrently: implementations are `Sync`. An
/// `Err` is sent to the client as an error response; it never stops the daemon.
pub trait ControlTarget: Send + Sync {
    /// The daemon's state now (`mmcl status`).
    fn status(&self) -> StatusReport;
    /// The known classes (`mmcl classes`).
    fn classes(&self) -> ClassesReport;
    /// Starts capturing windows for `label`: every window the pipeline encodes from now on
    /// joins the enrollment, until `seconds` of stream have passed (if given) or
    /// `enroll_stop`. One enrollment at a time: a second start is refused.
    fn enroll_start(
        &self,
        label: &str,
        seconds: Option<f64>,
    ) -> Result<EnrollProgress, ControlError>;
    /// Starts an enrollment by whole clips (replay only, `daemon::clip_capture`): the
    /// windows of the next `clips` clips of class `label` played from their start, each
    /// clip learned as its windows' mean. A target without a replay source refuses it.
    fn enroll_clips(&self, label: &str, clips: u32) -> Result<EnrollProgress, ControlError> {
        let _ = (label, clips);
        Err(ControlError::new(
            ErrorKind::Invalid,
            "enroll by clips needs a replay source; this daemon has none",
        ))
    }
    /// The running (or just finished) enrollment's progress; `Err(NotFound)` for another id.
    fn enroll_progress(&self, id: u64) -> Result<EnrollProgress, ControlError>;
    /// Ends capture (if still running), learns the windows, journals the enrollment
    /// (fsynced) and returns what was learned. Acknowledged means durable.
    fn enroll_stop(&self, id: u64) -> Result<EnrollOutcome, ControlError>;
    /// Drops the enrollment's windows; nothing is learned.
    fn enroll_cancel(&self, id: u64) -> Result<(), ControlError>;
    /// A stream of prediction events for one subscriber. The daemon never blocks on it:
    /// a subscriber that falls behind loses its oldest events (counted in `Event::Lagged`).
    fn subscribe(&self) -> Subscription;
    /// Forgets a class (journaled before the reply).
    fn forget(&self, name: &str) -> Result<ClassChange, ControlError>;
    /// Renames a class (journaled before the reply).
    fn rename(&self, from: &str, to: &str) -> Result<ClassChange, ControlError>;
    /// Writes a snapshot now and folds the journal into it.
    fn checkpoint(&self) -> Result<CheckpointReport, ControlError>;
    /// The newest snapshot file's bytes (written first if the journal holds changes).
    fn export_snapshot(&self) -> Result<Vec<u8>, ControlError>;
}

/// One subscriber's stream of events: a receiver (it derefs to one) that tells the
/// publisher when it is dropped, so a subscriber that went away stops costing anything.
#[derive(Debug)]
pub struct Subscription {
    rx: crossbeam_channel::Receiver<Event>,
    alive: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Subscription {
    /// `alive` is cleared when the subscription is dropped.
    pub fn new(
        rx: crossbeam_channel::Receiver<Event>,
        alive: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Subscription {
        Subscription { rx, alive }
    }
}

impl std::ops::Deref for Subscription {
    type Target = crossbeam_channel::Receiver<Event>;
    fn deref(&self) -> &Self::Target {
        &self.rx
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.alive
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Why a request was refused. `kind` is stable (scripts match on it); `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ControlError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is malformed, of another protocol version, too large, or unknown.
    BadRequest,
    /// A value in it is refused (a bad class name, a rename to a taken name, ...).
    Invalid,
    /// No such class or enrollment.
    NotFound,
    /// Refused in the daemon's present state (an enrollment already running, ...).
    Busy,
    /// The peer is not allowed to talk to the daemon.
    PermissionDenied,
    /// The daemon failed (I/O, the learner refused, ...).
    Internal,
}

impl ErrorKind {
    /// The name on the wire (`bad_request`, ...), as `--json` prints it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Busy => "busy",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Internal => "internal",
        }
    }
}

impl ControlError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ControlError {
        ControlError {
            kind,
            message: message.into(),
        }
    }
}

/// `mmcl status --json`: DESIGN.md's fields, plus the replay and pipeline details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// "starting", "running", "stopping", "failed".
    pub state: String,
    pub profile: String,
    /// Classes known.
    pub classes: usize,
    pub learner_bytes: u64,
    /// The learner's memory budget; `None` (JSON null) for an unbounded one (`joint`).
    pub budget_bytes: Option<u64>,
    pub rss_bytes: u64,
    /// Windows encoded per second of wall time, recently.
    pub windows_per_s: f64,
    /// End-to-end latency (window end -> prediction), milliseconds.
    pub latency_ms: Latency,
    /// Samples dropped by channel policies, per modality.
    pub dropped: std::collections::BTreeMap<String, u64>,
    pub sources: Vec<SourceStatus>,
    pub backend: String,
    pub execution_provider: String,
    /// The newest snapshot's sequence number, if one was written.
    pub snapshot_seq: Option<u64>,
    /// The current (smoothed) prediction, if any.
    pub prediction: Option<PredictionEvent>,
    /// The running enrollment, if any.
    pub enrollment: Option<EnrollProgress>,
    /// Replay only: what is playing and how well the predictions matched so far.
    pub replay: Option<ReplayStatus>,
    /// `pipeline::PipelineHealth` as JSON, for whoever needs every counter.
    pub pipeline: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

/// One row of DESIGN.md's `sources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub modality: String,
    pub source: String,
    pub state: String,
    pub rate_hz: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayStatus {
    /// The clip playing now and its true class, when something plays.
    pub clip: Option<String>,
    pub true_class: Option<String>,
    /// Prequential accuracy: predictions of windows whose true class the learner knew
    /// at the time, right / all, since the daemon started.
    pub online_accuracy: Option<f64>,
    pub windows_scored: u64,
}

/// `mmcl classes --json`: `{"classes": [{"label", "name", "windows", "enrolled_at"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassesReport {
    pub classes: Vec<ClassRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    pub label: u32,
    pub name: String,
    pub windows: u64,
    /// Unix milliseconds of the first enrollment.
    pub enrolled_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollProgress {
    pub id: u64,
    pub label: String,
    /// "capturing", "learning", "done", "cancelled", "failed".
    pub state: String,
    pub windows: usize,
    /// Seconds of stream captured so far, and the target when one was given.
    pub seconds: f64,
    pub target_seconds: Option<f64>,
    /// An enrollment by whole clips (replay): the clips captured and the number asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clips: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_clips: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollOutcome {
    pub id: u64,
    pub label: String,
    pub class: u32,
    pub new_class: bool,
    pub windows: usize,
    /// Time the learn call took.
    pub learn_ms: f64,
    /// Classes known afterwards.
    pub classes: usize,
    /// The journal record holding it (durable when this reply is sent).
    pub journal_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassChange {
    pub class: u32,
    pub name: String,
    pub classes: usize,
    pub journal_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointReport {
    pub snapshot_seq: u64,
    pub path: String,
    pub bytes: u64,
    pub journal_seq: u64,
}

/// What a subscriber receives (`mmcl watch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Every window's prediction (raw and smoothed).
    Window(PredictionEvent),
    /// The smoothed prediction changed.
    Changed(PredictionEvent),
    /// The subscriber missed `missed` events because it fell behind.
    Lagged { missed: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionEvent {
    /// The window's sequence number and span on the pipeline's clock, nanoseconds.
    pub window: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Modalities present in the window.
    pub present: Vec<String>,
    /// The learner's best class for this window alone.
    pub raw: Option<String>,
    pub raw_confidence: f32,
    /// The smoothed prediction (hysteresis over windows, see the daemon docs); `None` until
    /// one class is confidently ahead, or while no class is known.
    pub class: Option<String>,
    pub confidence: f32,
    /// Replay only: the true class of the window.
    pub true_class: Option<String>,
    /// Window end -> prediction, milliseconds of wall time.
    pub latency_ms: f64,
}
