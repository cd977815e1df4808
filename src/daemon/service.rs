//! `Daemon`: the running service's shared state, and what happens to each encoded window:
//! it is predicted on the published model (never waiting for a learn call), smoothed,
//! scored against the replay's ground truth, added to a running enrollment, and sent to
//! subscribers; a change of the smoothed class is logged.

use super::capture::{Capture, CaptureState};
use super::clip_capture::WindowSpan;
use super::events::Subscribers;
use super::replay::display_name;
use super::smooth::Smoother;
use super::stats::{PredictorStats, StreamClock};
use crate::classes::{ClassModel, Model, NamedPrediction};
use crate::config::{DaemonConfig, Settings};
use crate::control::api::{EnrollProgress, Event, PredictionEvent};
use crate::encode::BackendInfo;
use crate::pipeline::{EncodedWindow, Pipeline};
use crate::sensor::replay::{PlayLog, PlayedClip};
use crate::store::StateDir;
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Finished enrollments remembered for `enroll_progress`.
const FINISHED_KEPT: usize = 16;

/// Locks a daemon mutex; a thread that panicked holding it left whole values behind
/// (every update is a single assignment or push).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The prediction stream's state.
pub(super) struct Predicting {
    pub smoother: Smoother,
    pub stats: PredictorStats,
    pub last: Option<PredictionEvent>,
}

/// The running service (see the module docs). Shared by the predictor thread, the
/// housekeeping thread and the control server's client threads.
pub struct Daemon {
    pub(super) settings: Settings,
    pub(super) model: ClassModel,
    pub(super) state: Mutex<StateDir>,
    pub(super) capture: Mutex<Option<Capture>>,
    pub(super) finished: Mutex<VecDeque<EnrollProgress>>,
    pub(super) next_enroll: AtomicU64,
    pub(super) predicting: Mutex<Predicting>,
    /// The `[daemon]` settings in force (SIGHUP may change them).
    pub(super) live: Mutex<DaemonConfig>,
    pub(super) subscribers: Subscribers,
    pub(super) pipeline: Mutex<Option<Pipeline<EncodedWindow>>>,
    pub(super) play_log: Option<PlayLog>,
    pub(super) clock: StreamClock,
    pub(super) backend: BackendInfo,
    /// Changes journaled since the last snapshot, and when that snapshot was written.
    pub(super) pending_changes: AtomicU64,
    pub(super) last_checkpoint: Mutex<Instant>,
    pub(super) snapshot_seq: Mutex<Option<u64>>,
    pub(super) lifecycle: Mutex<&'static str>,
    /// Queues each snapshot for the host when the profile has `[uplink]`.
    pub(super) uplink: Option<crate::uplink::Uplink>,
}

/// What `Daemon::new` needs.
pub(super) struct Parts {
    pub settings: Settings,
    pub model: ClassModel,
    pub state: StateDir,
    pub snapshot_seq: Option<u64>,
    pub play_log: Option<PlayLog>,
    pub clock: StreamClock,
    pub backend: BackendInfo,
    pub uplink: Option<crate::uplink::Uplink>,
}

impl Daemon {
    pub(super) fn new(p: Parts) -> Daemon {
        let live = p.settings.config().daemon().clone();
        Daemon {
            predicting: Mutex::new(Predicting {
                smoother: Smoother::new(&live),
                stats: PredictorStats::new(Instant::now()),
                last: None,
            }),
            live: Mutex::new(live),
            settings: p.settings,
            model: p.model,
            state: Mutex::new(p.state),
            capture: Mutex::new(None),
            finished: Mutex::new(VecDeque::new()),
            next_enroll: AtomicU64::new(1),
            subscribers: Subscribers::default(),
            pipeline: Mutex::new(None),
            play_log: p.play_log,
            clock: p.clock,
            backend: p.backend,
            pending_changes: AtomicU64::new(0),
            last_checkpoint: Mutex::new(Instant::now()),
            snapshot_seq: Mutex::new(p.snapshot_seq),
            lifecycle: Mutex::new("starting"),
            uplink: p.uplink,
        }
    }

    /// The classes and learner as published now.
    pub fn model(&self) -> std::sync::Arc<Model> {
        self.model.current()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Windows predicted so far.
    pub fn windows(&self) -> u64 {
        lock(&self.predicting).stats.windows
    }

    /// One encoded window from the pipeline (the predictor thread calls it in order).
    pub fn on_window(&self, w: EncodedWindow) {
        let now = Instant::now();
        let latency_ms = self.clock.latency_ms(w.end);
        let model = self.model.current();
        let prediction = model.predict(&w.encoded.embedding).ok();
        let played = self
            .play_log
            .as_ref()
            .and_then(|l| l.lookup(w.start, w.end));
        let truth = played.as_ref().map(truth);
        self.capture_window(&w, truth.as_ref().map(|t| t.1.as_str()), played.as_ref());
        let event = self.predict_event(&w, &model, prediction, truth.map(|t| t.0), latency_ms, now);
        if let Some(changed) = event {
            self.subscribers.publish(&Event::Changed(changed.clone()));
            let shown = changed.class.as_deref().unwrap_or("(none)");
            super::log(&format!("prediction: {shown} ({:.2})", changed.confidence));
        }
    }

    /// Smooths, scores and publishes the window's prediction; the event when the smoothed
    /// class changed.
    fn predict_event(
        &self,
        w: &EncodedWindow,
        model: &Model,
        prediction: Option<NamedPrediction>,
        truth: Option<String>,
        latency_ms: f64,
        now: Instant,
    ) -> Option<PredictionEvent> {
        let mut p = lock(&self.predicting);
        p.stats.window(latency_ms, now);
        let scores: Vec<(u32, f32)> = prediction
            .as_ref()
            .map(|n| n.scores.iter().map(|s| (s.class, s.score)).collect())
            .unwrap_or_default();
        let smoothed = p.smoother.update(&scores);
        if let (Some(t), Some(n)) = (&truth, &prediction) {
            if model.book().by_name(t).is_some() {
                p.stats.score(n.name.eq_ignore_ascii_case(t));
            }
        }
        let event = PredictionEvent {
            window: w.seq,
            start_ns: w.start.nanos(),
            end_ns: w.end.nanos(),
            present: w.present.iter().map(|m| m.name().to_string()).collect(),
            raw: prediction.as_ref().map(|n| n.name.clone()),
            raw_confidence: prediction.as_ref().map_or(0.0, |n| n.confidence),
            class: smoothed.class.map(|c| model.name_of(c)),
            confidence: smoothed.confidence as f32,
            true_class: truth,
            latency_ms,
        };
        self.subscribers.publish(&Event::Window(event.clone()));
        p.last = Some(event.clone());
        smoothed.changed.then_some(event)
    }

    /// Adds the window to the running enrollment, if one is capturing (`played`: the
    /// replayed clip it was cut from).
    fn capture_window(&self, w: &EncodedWindow, source: Option<&str>, played: Option<&PlayedClip>) {
        let mut capture = lock(&self.capture);
        let Some(c) = capture
            .as_mut()
            .filter(|c| c.state == CaptureState::Capturing)
        else {
            return;
        };
        if c.wants_clips() {
            let span = WindowSpan {
                start: w.start,
                end: w.end,
            };
            return c.push_played(span, &w.encoded.embedding, played);
        }
        let live = format!("live {}", present_names(w));
        c.push(
            w.start,
            w.end,
            w.encoded.embedding.clone(),
            source.unwrap_or(&live),
        );
    }

    /// Remembers a finished enrollment's last progress for `enroll_progress`.
    pub(super) fn remember(&self, progress: EnrollProgress) {
        let mut f = lock(&self.finished);
        if f.len() == FINISHED_KEPT {
            f.pop_front();
        }
        f.push_back(progress);
    }

    pub(super) fn set_lifecycle(&self, state: &'static str) {
        *lock(&self.lifecycle) = state;
    }
}

/// Replay only: the true class name of a window cut from `played`, and where it came from.
fn truth(played: &PlayedClip) -> (String, String) {
    let folder = played.clip.split('/').next().unwrap_or_default();
    (display_name(folder), format!("replay {}", played.clip))
}

fn present_names(w: &EncodedWindow) -> String {
    let names: Vec<&str> = w.present.iter().map(|m| m.name()).collect();
    names.join("+")
}
