//! The demo's user: everything it knows about the daemon comes through the control
//! socket, with the clients the CLI commands use — the prediction stream of `mmcl watch`,
//! `mmcl enroll LABEL --seconds N`, `mmcl status`, `mmcl classes` and `mmcl snapshot
//! export`. It waits for an activity to play, enrolls it while it plays, and counts how
//! the daemon predicts the rest of it.

use crate::classes::{ClassModel, Model};
use crate::cli::control_client::{ClientArgs, Failure};
use crate::cli::enroll;
use crate::cli::CliError;
use crate::control::api::{ClassesReport, EnrollOutcome, Event, PredictionEvent, StatusReport};
use crate::control::protocol::Request;
use crate::control::{Client, ClientError};
use anyhow::anyhow;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an activity may take to start playing, and the stream may stay silent, before
/// the demo gives up (wall time; generous for a loaded machine).
const WAIT: Duration = Duration::from_secs(120);

/// The user at one daemon's socket, subscribed to its predictions.
pub struct User {
    client: ClientArgs,
    events: Receiver<PredictionEvent>,
    /// A window read ahead (the first of the next activity) and not yet looked at.
    pending: Option<PredictionEvent>,
}

/// How the daemon predicted the windows of one activity after something changed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Live {
    /// Windows whose raw prediction named the true class, of all windows counted.
    pub right: usize,
    pub windows: usize,
    /// The smoothed prediction at the last window counted.
    pub smoothed: Option<String>,
    pub confidence: f32,
    pub latency_ms: f64,
}

impl User {
    /// Connects to `socket` and subscribes, as `mmcl watch --all` does.
    pub fn connect(socket: &Path) -> Result<User, CliError> {
        let client = ClientArgs {
            socket: Some(socket.to_path_buf()),
            config: None,
            json: false,
        };
        let stream = (client.connect())
            .and_then(|c| Ok(c.subscribe()?))
            .map_err(|e| client.fail(e))?;
        let (tx, events) = crossbeam_channel::bounded(4096);
        let mut stream = stream;
        // A thread of its own: reading the stream blocks, and the daemon drops the events
        // of a subscriber that falls behind.
        std::thread::spawn(move || {
            while let Ok(Some(event)) = stream.next_event() {
                if let Event::Window(p) = event {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(User {
            client,
            events,
            pending: None,
        })
    }

    fn socket(&self) -> PathBuf {
        self.client.socket.clone().unwrap_or_default()
    }

    /// The next window with a true class, the one read ahead first.
    fn next(&mut self) -> Result<PredictionEvent, CliError> {
        if let Some(p) = self.pending.take() {
            return Ok(p);
        }
        loop {
            match self.events.recv_timeout(WAIT) {
                Ok(p) if p.true_class.is_some() => return Ok(p),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(runtime(format!(
                        "the daemon predicted no window for {} s",
                        WAIT.as_secs()
                    )))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let closed = ClientError::Closed {
                        path: self.socket(),
                    };
                    return Err(self.client.fail(closed.into()));
                }
            }
        }
    }

    /// Waits until a window of `class` is predicted: the activity is playing.
    pub fn await_playing(&mut self, class: &str) -> Result<(), CliError> {
        let t0 = Instant::now();
        loop {
            let p = self.next()?;
            if p.true_class.as_deref() == Some(class) {
                return Ok(());
            }
            if t0.elapsed() > WAIT {
                return Err(runtime(format!(
                    "{class} did not play within {} s",
                    WAIT.as_secs()
                )));
            }
        }
    }

    /// `mmcl enroll CLASS --seconds N`, with its progress bar on a terminal.
    pub fn enroll(&mut self, class: &str, seconds: f64) -> Result<EnrollOutcome, CliError> {
        let args = enroll::Args {
            label: class.to_string(),
            seconds: Some(seconds),
            clips: None,
            client: self.client.clone(),
        };
        let outcome = enroll::enroll(&args).map_err(|e| self.client.fail(e))?;
        self.skip_predicted_before_learning(class);
        Ok(outcome)
    }

    /// Drops the queued windows of `class`: they were predicted before it was learned.
    fn skip_predicted_before_learning(&mut self, class: &str) {
        while let Ok(p) = self.events.try_recv() {
            if p.true_class.as_deref().is_some_and(|t| t != class) {
                self.pending = Some(p);
                return;
            }
        }
    }

    /// Counts the predictions of `class`'s windows until another activity plays.
    pub fn watch_while_playing(&mut self, class: &str) -> Result<Live, CliError> {
        let mut live = Live::default();
        loop {
            let p = self.next()?;
            if p.true_class.as_deref() != Some(class) {
                self.pending = Some(p);
                return Ok(live);
            }
            live.count(&p);
        }
    }

    /// Counts every window until each of `classes` played and the first one seen plays
    /// again (the playlist looped): per class, in `classes` order.
    pub fn watch_playlist(&mut self, classes: &[String]) -> Result<Vec<Live>, CliError> {
        let mut per_class = vec![Live::default(); classes.len()];
        let mut seen = vec![false; classes.len()];
        let (mut first, mut last) = (None, None);
        loop {
            let p = self.next()?;
            let truth = p.true_class.as_deref();
            let Some(i) = classes.iter().position(|c| Some(c.as_str()) == truth) else {
                continue;
            };
            let again = first == Some(i) && last != Some(i);
            if again && seen.iter().all(|&s| s) {
                return Ok(per_class);
            }
            first.get_or_insert(i);
            last = Some(i);
            if let (Some(s), Some(live)) = (seen.get_mut(i), per_class.get_mut(i)) {
                *s = true;
                live.count(&p);
            }
        }
    }

    pub fn status(&self) -> Result<StatusReport, CliError> {
        self.call(Request::Status)
    }

    pub fn classes(&self) -> Result<ClassesReport, CliError> {
        self.call(Request::Classes)
    }

    fn call<T: serde::de::DeserializeOwned>(&self, request: Request) -> Result<T, CliError> {
        (self.client.connect())
            .and_then(|mut c| Ok(c.call_as::<T>(request)?))
            .map_err(|e| self.client.fail(e))
    }

    /// The daemon's learner and class book now, from `snapshot export`.
    pub fn export_model(&self) -> Result<Arc<Model>, CliError> {
        let (_, bytes) = Client::connect(&self.socket())
            .and_then(|mut c| c.export_snapshot())
            .map_err(|e| self.client.fail(Failure::Client(e)))?;
        let (_, snapshot) =
            crate::store::decode(&bytes).map_err(|e| CliError::Runtime(e.into()))?;
        let model =
            ClassModel::restore(&snapshot.sections).map_err(|e| CliError::Runtime(e.into()))?;
        Ok(model.current())
    }
}

impl Live {
    fn count(&mut self, p: &PredictionEvent) {
        self.windows += 1;
        self.right += usize::from(p.raw.is_some() && p.raw == p.true_class);
        self.smoothed = p.class.clone();
        self.confidence = p.confidence;
        self.latency_ms = p.latency_ms;
    }

    /// `right / windows`, `None` when no window was counted.
    pub fn accuracy(&self) -> Option<f64> {
        (self.windows > 0).then(|| self.right as f64 / self.windows as f64)
    }
}

fn runtime(message: String) -> CliError {
    CliError::Runtime(anyhow!(message))
}
