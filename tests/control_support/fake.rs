//! `Fake`: a `ControlTarget` with the daemon's time shape: `status` and `classes` cheap,
//! `enroll_stop` learning for 300 ms, capture advancing on a stream clock at 10x, and a
//! subscription per `subscribe` fed by `publish` without ever blocking.

use crossbeam_channel::Sender;
use mmcl::control::api::{
    CheckpointReport, ClassChange, ClassRow, ClassesReport, ControlError, ControlTarget,
    EnrollOutcome, EnrollProgress, ErrorKind, Event, Latency, PredictionEvent, StatusReport,
    Subscription,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the fake's `enroll_stop` "learns".
pub const LEARN_TIME: Duration = Duration::from_millis(300);
/// Seconds of stream per second of wall time while capturing (a replay at 10x).
pub const STREAM_SPEED: f64 = 10.0;
/// The fake's snapshot: 1 MiB, more than a socket buffer holds.
pub const SNAPSHOT_BYTES: usize = 1 << 20;

#[derive(Debug, Default)]
pub struct Fake {
    state: Mutex<State>,
    /// Every method called, by name, in order: what the CLI tests check.
    pub calls: Mutex<Vec<String>>,
    /// Each subscriber's sender and the flag its `Subscription` clears when dropped.
    subscribers: Mutex<Vec<(Sender<Event>, Arc<AtomicBool>)>>,
}

#[derive(Debug, Default)]
struct State {
    classes: Vec<ClassRow>,
    next_class: u32,
    enrollment: Option<Capture>,
    next_enrollment: u64,
    journal_seq: u64,
    snapshot_seq: u64,
}

#[derive(Debug, Clone)]
struct Capture {
    id: u64,
    label: String,
    started: Instant,
    target: Option<f64>,
    state: String,
    /// Stream seconds when capture ended (stop or cancel).
    ended_at: Option<f64>,
}

impl Capture {
    fn seconds(&self) -> f64 {
        let running = self.started.elapsed().as_secs_f64() * STREAM_SPEED;
        let s = self.ended_at.unwrap_or(running);
        self.target.map_or(s, |t| s.min(t))
    }

    fn progress(&self) -> EnrollProgress {
        let seconds = self.seconds();
        EnrollProgress {
            id: self.id,
            label: self.label.clone(),
            state: self.state.clone(),
            // One window per second of stream (stride 1 s).
            windows: seconds.floor() as usize,
            seconds,
            target_seconds: self.target,
            clips: None,
            target_clips: None,
        }
    }
}

fn error(kind: ErrorKind, message: impl Into<String>) -> ControlError {
    ControlError::new(kind, message)
}

impl Fake {
    /// A fake that knows `classes` already (ids 0, 1, ...).
    pub fn with_classes(names: &[&str]) -> Arc<Fake> {
        let fake = Fake::default();
        {
            let mut s = fake.lock();
            for name in names {
                add_class(&mut s, name, 10);
            }
        }
        Arc::new(fake)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn called(&self, name: &str) {
        self.calls.lock().unwrap().push(name.to_string());
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn class_names(&self) -> Vec<String> {
        self.lock().classes.iter().map(|c| c.name.clone()).collect()
    }

    /// Sends `event` to every subscriber that has room; never blocks (the daemon's promise).
    pub fn publish(&self, event: &Event) {
        let mut subs = self.subscribers.lock().unwrap();
        subs.retain(|(_, alive)| alive.load(Ordering::Relaxed));
        for (tx, _) in subs.iter() {
            let _ = tx.try_send(event.clone());
        }
    }

    /// Subscribers whose `Subscription` is still held.
    pub fn subscribers(&self) -> usize {
        let subs = self.subscribers.lock().unwrap();
        subs.iter()
            .filter(|(_, alive)| alive.load(Ordering::Relaxed))
            .count()
    }

    fn capture(&self, s: &State, id: u64) -> Result<Capture, ControlError> {
        match &s.enrollment {
            Some(c) if c.id == id => Ok(c.clone()),
            _ => Err(error(ErrorKind::NotFound, format!("no enrollment {id}"))),
        }
    }
}

fn add_class(s: &mut State, name: &str, windows: u64) -> (u32, bool) {
    if let Some(c) = s
        .classes
        .iter_mut()
        .find(|c| c.name.eq_ignore_ascii_case(name))
    {
        c.windows += windows;
        return (c.label, false);
    }
    let label = s.next_class;
    s.next_class += 1;
    s.classes.push(ClassRow {
        label,
        name: name.to_string(),
        windows,
        enrolled_at: 1_767_225_599_000,
    });
    (label, true)
}

impl ControlTarget for Fake {
    fn status(&self) -> StatusReport {
        self.called("status");
        let s = self.lock();
        status_report(&s)
    }

    fn classes(&self) -> ClassesReport {
        self.called("classes");
        ClassesReport {
            classes: self.lock().classes.clone(),
        }
    }

    fn enroll_start(
        &self,
        label: &str,
        seconds: Option<f64>,
    ) -> Result<EnrollProgress, ControlError> {
        self.called("enroll_start");
        let mut s = self.lock();
        if let Some(c) = s
            .enrollment
            .as_ref()
            .filter(|c| c.state == "capturing" || c.state == "learning")
        {
            return Err(error(
                ErrorKind::Busy,
                format!("enrollment {} of {:?} is running", c.id, c.label),
            ));
        }
        s.next_enrollment += 1;
        let capture = Capture {
            id: s.next_enrollment,
            label: label.to_string(),
            started: Instant::now(),
            target: seconds,
            state: "capturing".to_string(),
            ended_at: None,
        };
        let progress = capture.progress();
        s.enrollment = Some(capture);
        Ok(progress)
    }

    fn enroll_progress(&self, id: u64) -> Result<EnrollProgress, ControlError> {
        self.called("enroll_progress");
        let s = self.lock();
        Ok(self.capture(&s, id)?.progress())
    }

    fn enroll_stop(&self, id: u64) -> Result<EnrollOutcome, ControlError> {
        self.called("enroll_stop");
        let seconds = {
            let mut s = self.lock();
            let capture = self.capture(&s, id)?;
            if capture.state != "capturing" {
                return Err(error(
                    ErrorKind::Busy,
                    format!("enrollment {id} is {}", capture.state),
                ));
            }
            let seconds = capture.seconds();
            if let Some(c) = s.enrollment.as_mut() {
                c.state = "learning".to_string();
                c.ended_at = Some(seconds);
            }
            seconds
        };
        std::thread::sleep(LEARN_TIME);
        let mut s = self.lock();
        let capture = self.capture(&s, id)?;
        if capture.state == "cancelled" {
            return Err(error(
                ErrorKind::Busy,
                format!("enrollment {id} was cancelled"),
            ));
        }
        let windows = seconds.floor() as usize;
        let (class, new_class) = add_class(&mut s, &capture.label, windows as u64);
        s.journal_seq += 1;
        if let Some(c) = s.enrollment.as_mut() {
            c.state = "done".to_string();
        }
        Ok(EnrollOutcome {
            id,
            label: capture.label,
            class,
            new_class,
            windows,
            learn_ms: LEARN_TIME.as_secs_f64() * 1e3,
            classes: s.classes.len(),
            journal_seq: s.journal_seq,
        })
    }

    fn enroll_cancel(&self, id: u64) -> Result<(), ControlError> {
        self.called("enroll_cancel");
        let mut s = self.lock();
        let capture = self.capture(&s, id)?;
        if capture.state == "done" {
            return Err(error(
                ErrorKind::Busy,
                format!("enrollment {id} is learned already"),
            ));
        }
        if let Some(c) = s.enrollment.as_mut() {
            c.state = "cancelled".to_string();
        }
        Ok(())
    }

    fn subscribe(&self) -> Subscription {
        self.called("subscribe");
        let (tx, rx) = crossbeam_channel::bounded(16);
        let alive = Arc::new(AtomicBool::new(true));
        self.subscribers.lock().unwrap().push((tx, alive.clone()));
        Subscription::new(rx, alive)
    }

    fn forget(&self, name: &str) -> Result<ClassChange, ControlError> {
        self.called("forget");
        let mut s = self.lock();
        let at = s
            .classes
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name));
        let Some(at) = at else {
            return Err(error(
                ErrorKind::NotFound,
                format!("no class named {name:?}"),
            ));
        };
        let row = s.classes.remove(at);
        s.journal_seq += 1;
        Ok(ClassChange {
            class: row.label,
            name: row.name,
            classes: s.classes.len(),
            journal_seq: s.journal_seq,
        })
    }

    fn rename(&self, from: &str, to: &str) -> Result<ClassChange, ControlError> {
        self.called("rename");
        let mut s = self.lock();
        if s.classes.iter().any(|c| c.name.eq_ignore_ascii_case(to)) {
            return Err(error(
                ErrorKind::Invalid,
                format!("a class named {to:?} exists"),
            ));
        }
        let Some(row) = s
            .classes
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(from))
        else {
            return Err(error(
                ErrorKind::NotFound,
                format!("no class named {from:?}"),
            ));
        };
        row.name = to.to_string();
        let class = row.label;
        s.journal_seq += 1;
        Ok(ClassChange {
            class,
            name: to.to_string(),
            classes: s.classes.len(),
            journal_seq: s.journal_seq,
        })
    }

    fn checkpoint(&self) -> Result<CheckpointReport, ControlError> {
        self.called("checkpoint");
        let mut s = self.lock();
        s.snapshot_seq += 1;
        Ok(CheckpointReport {
            snapshot_seq: s.snapshot_seq,
            path: format!("/var/lib/mmcl/snapshot-{}.mmcl", s.snapshot_seq),
            bytes: SNAPSHOT_BYTES as u64,
            journal_seq: s.journal_seq,
        })
    }

    fn export_snapshot(&self) -> Result<Vec<u8>, ControlError> {
        self.called("export_snapshot");
        Ok(snapshot_bytes())
    }
}

/// The fake's snapshot file: a byte pattern that shows any cut or shift.
pub fn snapshot_bytes() -> Vec<u8> {
    (0..SNAPSHOT_BYTES).map(|i| (i * 7 % 251) as u8).collect()
}

fn status_report(s: &State) -> StatusReport {
    StatusReport {
        state: "running".to_string(),
        profile: "fake".to_string(),
        classes: s.classes.len(),
        learner_bytes: 26_240 * s.classes.len() as u64,
        budget_bytes: Some(8 << 20),
        rss_bytes: 84 << 20,
        windows_per_s: 1.0,
        latency_ms: Latency {
            p50: Some(12.5),
            p99: Some(30.0),
        },
        dropped: [("video".to_string(), 3)].into_iter().collect(),
        sources: Vec::new(),
        backend: "tract".to_string(),
        execution_provider: "cpu".to_string(),
        snapshot_seq: (s.snapshot_seq > 0).then_some(s.snapshot_seq),
        prediction: None,
        enrollment: s.enrollment.as_ref().map(Capture::progress),
        replay: None,
        pipeline: serde_json::json!({"windows": 0}),
    }
}

/// A prediction event for window `n`.
pub fn prediction(n: u64, class: &str) -> PredictionEvent {
    PredictionEvent {
        window: n,
        start_ns: n * 1_000_000_000,
        end_ns: n * 1_000_000_000 + 5_120_000_000,
        present: vec!["video".to_string(), "imu".to_string()],
        raw: Some(class.to_string()),
        raw_confidence: 0.75,
        class: Some(class.to_string()),
        confidence: 0.5,
        true_class: None,
        latency_ms: 12.25,
    }
}
