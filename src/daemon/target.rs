//! What the daemon does for each control request (`control::ControlTarget`). Every change
//! to the classes goes through `commit`: applied on a copy of the model, journaled
//! (fsynced) and only then published and acknowledged, so an acknowledged change is
//! durable and what predictions see is always what the journal holds.

use super::capture::Capture;
use super::service::{lock, Daemon};
use super::stats::unix_ms;
use super::DaemonError;
use crate::classes::{Applied, Change, ChangeKind, ClassError, ClassName};
use crate::control::api::{
    CheckpointReport, ClassChange, ClassRow, ClassesReport, EnrollOutcome, EnrollProgress,
    StatusReport, Subscription,
};
use crate::control::{ControlError, ControlTarget, ErrorKind};
use crate::learn::LearnError;
use crate::store::StoreError;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The longest enrollment a client may ask for, seconds of stream.
pub const MAX_ENROLL_SECONDS: f64 = 3600.0;
/// The most whole clips one enrollment by clips may ask for.
pub const MAX_ENROLL_CLIPS: u32 = 10_000;
/// The snapshot section of the daemon's counters (JSON), for the host and for people.
pub const COUNTERS_SECTION: &str = "counters";

/// Why a change was not committed.
enum CommitError {
    Class(Box<ClassError>),
    Store(Box<StoreError>),
}

impl From<ClassError> for CommitError {
    fn from(e: ClassError) -> CommitError {
        CommitError::Class(Box::new(e))
    }
}

impl From<CommitError> for ControlError {
    fn from(e: CommitError) -> ControlError {
        match e {
            CommitError::Class(e) => class_error(&e),
            CommitError::Store(e) => ControlError::new(
                ErrorKind::Internal,
                format!("journal the change: {e} (nothing was changed)"),
            ),
        }
    }
}

fn class_error(e: &ClassError) -> ControlError {
    let kind = match e {
        ClassError::Unknown { .. } => ErrorKind::NotFound,
        ClassError::NameTaken { .. } => ErrorKind::Invalid,
        ClassError::Learn {
            source: LearnError::BudgetTooSmall { .. },
            ..
        } => ErrorKind::Invalid,
        _ => ErrorKind::Internal,
    };
    ControlError::new(kind, error_chain(e))
}

/// `e` and its causes, each said once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn name(text: &str) -> Result<ClassName, ControlError> {
    ClassName::new(text).map_err(|e| ControlError::new(ErrorKind::Invalid, e.to_string()))
}

impl Daemon {
    /// Applies, journals and publishes one change; returns what it did and its record's seq.
    pub fn commit(&self, change: &Change) -> Result<(Applied, u64), ControlError> {
        let bytes = change.encode();
        let done = self.model.apply_then(change, |_| {
            super::fault::point("enroll-learned");
            let seq = lock(&self.state).append(&bytes);
            super::fault::point("enroll-journaled");
            seq.map_err(|e| CommitError::Store(Box::new(e)))
        })?;
        self.pending_changes.fetch_add(1, Ordering::Relaxed);
        Ok(done)
    }

    /// Writes a snapshot of the model now and folds the journal into it.
    pub fn checkpoint_now(&self) -> Result<CheckpointReport, DaemonError> {
        let counters = self.counters();
        let report = self.model.exclusive(|m| {
            let mut sections = m.sections();
            sections.insert(COUNTERS_SECTION, counters);
            super::fault::point("snapshot-sections");
            let mut state = lock(&self.state);
            let through = state.last_seq();
            let commit =
                state
                    .checkpoint(through, sections)
                    .map_err(|source| DaemonError::Checkpoint {
                        source: Box::new(source),
                    })?;
            // Changes committed from here on wait for the next checkpoint.
            self.pending_changes.store(0, Ordering::Relaxed);
            let bytes = std::fs::metadata(&commit.path).map_or(0, |m| m.len());
            Ok::<_, DaemonError>(CheckpointReport {
                snapshot_seq: commit.seq,
                path: commit.path.display().to_string(),
                bytes,
                journal_seq: through,
            })
        })?;
        *lock(&self.snapshot_seq) = Some(report.snapshot_seq);
        *lock(&self.last_checkpoint) = Instant::now();
        if let Some(uplink) = &self.uplink {
            // The snapshot is durable either way; a bundle not queued is a gap on the host.
            let path = std::path::Path::new(&report.path);
            if let Err(e) = uplink.snapshot_written(report.snapshot_seq, path) {
                super::log(&format!("uplink: {e}"));
            }
        }
        Ok(report)
    }

    /// Whether the journal holds changes no snapshot has yet.
    pub fn has_pending_changes(&self) -> bool {
        self.pending_changes.load(Ordering::Relaxed) > 0
    }

    fn counters(&self) -> Vec<u8> {
        let p = lock(&self.predicting);
        let value = serde_json::json!({
            "windows": p.stats.windows,
            "online_scored": p.stats.scored,
            "online_right": p.stats.right,
            "written_at_ms": unix_ms(),
        });
        value.to_string().into_bytes()
    }

    fn change_report(&self, applied: &Applied, seq: u64) -> ClassChange {
        let (class, name) = match applied {
            Applied::Forgot { class, name } => (*class, name.to_string()),
            Applied::Renamed { class, to, .. } => (*class, to.to_string()),
            Applied::Enrolled { class, name, .. } => (*class, name.to_string()),
        };
        ClassChange {
            class,
            name,
            classes: self.model.current().book().len(),
            journal_seq: seq,
        }
    }

    /// Installs the capture `make` builds (with a fresh id) unless one is still running.
    fn start_capture(
        &self,
        make: impl FnOnce(u64) -> Capture,
    ) -> Result<EnrollProgress, ControlError> {
        let mut slot = lock(&self.capture);
        if let Some(c) = slot.as_ref().filter(|c| !c.expired(Instant::now())) {
            return Err(ControlError::new(
                ErrorKind::Busy,
                format!(
                    "enrollment {} of {:?} is still {} (stop or cancel it first)",
                    c.id,
                    c.label.as_str(),
                    c.progress().state
                ),
            ));
        }
        let capture = make(self.next_enroll.fetch_add(1, Ordering::Relaxed));
        let progress = capture.progress();
        *slot = Some(capture);
        super::log(&format!(
            "enrollment {} of {:?} started",
            progress.id, progress.label
        ));
        Ok(progress)
    }

    fn take_capture(&self, id: u64) -> Result<Capture, ControlError> {
        let mut slot = lock(&self.capture);
        match slot.take() {
            Some(c) if c.id == id => Ok(c),
            other => {
                *slot = other;
                Err(ControlError::new(
                    ErrorKind::NotFound,
                    format!("no running enrollment {id}"),
                ))
            }
        }
    }
}

impl ControlTarget for Daemon {
    fn status(&self) -> StatusReport {
        self.status_report()
    }

    fn classes(&self) -> ClassesReport {
        let model = self.model.current();
        let classes = model
            .book()
            .entries()
            .iter()
            .map(|e| ClassRow {
                label: e.id,
                name: e.name.to_string(),
                windows: e.windows,
                enrolled_at: e.enrolled_at_ms,
            })
            .collect();
        ClassesReport { classes }
    }

    fn enroll_start(
        &self,
        label: &str,
        seconds: Option<f64>,
    ) -> Result<EnrollProgress, ControlError> {
        let label = name(label)?;
        if let Some(s) =
            seconds.filter(|s| !(s.is_finite() && *s > 0.0 && *s <= MAX_ENROLL_SECONDS))
        {
            return Err(ControlError::new(
                ErrorKind::Invalid,
                format!("enroll for {s} s: must be > 0 and <= {MAX_ENROLL_SECONDS} s"),
            ));
        }
        let max = lock(&self.live).max_enroll_windows();
        self.start_capture(|id| Capture::new(id, label, seconds, max))
    }

    fn enroll_clips(&self, label: &str, clips: u32) -> Result<EnrollProgress, ControlError> {
        let label = name(label)?;
        if self.play_log.is_none() {
            return Err(ControlError::new(
                ErrorKind::Invalid,
                "enroll by clips needs a replay source; this profile plays none",
            ));
        }
        if !(1..=MAX_ENROLL_CLIPS).contains(&clips) {
            return Err(ControlError::new(
                ErrorKind::Invalid,
                format!("enroll {clips} clips: must be 1..={MAX_ENROLL_CLIPS}"),
            ));
        }
        let stride = self.settings.window().stride_ns();
        self.start_capture(|id| Capture::by_clips(id, label, clips as usize, stride))
    }

    fn enroll_progress(&self, id: u64) -> Result<EnrollProgress, ControlError> {
        if let Some(c) = lock(&self.capture).as_ref().filter(|c| c.id == id) {
            return Ok(c.progress());
        }
        lock(&self.finished)
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .ok_or_else(|| ControlError::new(ErrorKind::NotFound, format!("no enrollment {id}")))
    }

    fn enroll_stop(&self, id: u64) -> Result<EnrollOutcome, ControlError> {
        let capture = self.take_capture(id)?;
        let mut progress = capture.progress();
        let Some(enrollment) = capture.into_enrollment() else {
            progress.state = "cancelled".into();
            self.remember(progress);
            return Err(ControlError::new(
                ErrorKind::Invalid,
                format!("enrollment {id} captured no window yet; nothing learned"),
            ));
        };
        let windows = enrollment.embeddings.len();
        let change = Change {
            at_ms: unix_ms(),
            kind: ChangeKind::Enroll(enrollment),
        };
        let started = Instant::now();
        let result = self.commit(&change);
        let learn_ms = started.elapsed().as_secs_f64() * 1e3;
        progress.state = if result.is_ok() { "done" } else { "failed" }.into();
        self.remember(progress.clone());
        let (applied, seq) = result?;
        let Applied::Enrolled {
            class,
            name,
            new_class,
            ..
        } = applied
        else {
            return Err(ControlError::new(
                ErrorKind::Internal,
                "an enrollment did not enroll",
            ));
        };
        let classes = self.model.current().book().len();
        super::log(&format!("learned {name} from {windows} windows in {learn_ms:.0} ms; now knows {classes} classes"));
        Ok(EnrollOutcome {
            id,
            label: name.to_string(),
            class,
            new_class,
            windows,
            learn_ms,
            classes,
            journal_seq: seq,
        })
    }

    fn enroll_cancel(&self, id: u64) -> Result<(), ControlError> {
        let capture = self.take_capture(id)?;
        let mut progress = capture.progress();
        progress.state = "cancelled".into();
        self.remember(progress);
        Ok(())
    }

    fn subscribe(&self) -> Subscription {
        self.subscribers.subscribe()
    }

    fn forget(&self, label: &str) -> Result<ClassChange, ControlError> {
        let change = Change {
            at_ms: unix_ms(),
            kind: ChangeKind::Forget { name: name(label)? },
        };
        let (applied, seq) = self.commit(&change)?;
        lock(&self.predicting).smoother.reset();
        super::log(&format!("forgot {label}"));
        Ok(self.change_report(&applied, seq))
    }

    fn rename(&self, from: &str, to: &str) -> Result<ClassChange, ControlError> {
        let change = Change {
            at_ms: unix_ms(),
            kind: ChangeKind::Rename {
                from: name(from)?,
                to: name(to)?,
            },
        };
        let (applied, seq) = self.commit(&change)?;
        super::log(&format!("renamed {from} to {to}"));
        Ok(self.change_report(&applied, seq))
    }

    fn checkpoint(&self) -> Result<CheckpointReport, ControlError> {
        self.checkpoint_now()
            .map_err(|e| ControlError::new(ErrorKind::Internal, error_chain(&e)))
    }

    fn export_snapshot(&self) -> Result<Vec<u8>, ControlError> {
        // Read into a local first: a guard in the `match` would live through the arms,
        // and `checkpoint` locks `snapshot_seq` again (a deadlock that froze the socket).
        let newest = *lock(&self.snapshot_seq);
        let path = match newest.filter(|_| !self.has_pending_changes()) {
            Some(seq) => lock(&self.state).snapshots().path_of(seq),
            None => std::path::PathBuf::from(self.checkpoint()?.path),
        };
        std::fs::read(&path).map_err(|e| {
            ControlError::new(
                ErrorKind::Internal,
                format!("read snapshot {}: {e}", path.display()),
            )
        })
    }
}
