//! One demo run against the real daemon: the service plays the training clips class by
//! class in the protocol's order; for each activity the user waits until it plays,
//! enrolls it through the socket for the first `ENROLL_SHARE` of its playing time, and
//! watches the daemon predict the rest. After each task the learner is exported through
//! the socket and scored on the held-out clips (a row of the accuracy matrix). Then the
//! daemon is stopped with SIGTERM and restarted on the same state directory, playing one
//! held-out clip of every class, to show that it still knows them all by name.

use super::heldout::{self, HeldOutClip};
use super::service::{ServiceProcess, Stopped};
use super::user::{Live, User};
use crate::cli::CliError;
use crate::config::Settings;
use crate::control::api::StatusReport;
use crate::dataset::{Clip, Dataset};
use crate::eval::Protocol;
use crate::learn::ClassId;
use anyhow::anyhow;
use std::path::{Path, PathBuf};

/// The share of an activity's playing time that is enrolled; the daemon's predictions of
/// the rest show it learned (and feed the online accuracy).
const ENROLL_SHARE: f64 = 2.0 / 3.0;

/// One activity's enrollment and the live predictions after it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActivityRun {
    pub class: String,
    pub enroll_seconds: f64,
    pub windows_enrolled: usize,
    pub learn_ms: f64,
    /// The windows of the activity played after it was learned.
    pub live: Live,
}

/// What the daemon's `status` said after a task.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskStatus {
    /// Held-out window accuracy over the classes seen so far (`seen_accuracy`).
    pub seen_accuracy: f64,
    pub online_accuracy: Option<f64>,
    pub windows_scored: u64,
    pub learner_bytes: u64,
    pub budget_bytes: Option<u64>,
}

/// The restart: what the restarted daemon knew and how it predicted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Restart {
    pub stop_exit_code: Option<i32>,
    pub stop_ms: f64,
    /// Peak resident memory of the daemon before the stop and of the restarted one.
    pub daemon_peak_rss_bytes: u64,
    pub restarted_peak_rss_bytes: u64,
    pub snapshot: PathBuf,
    pub classes: Vec<String>,
    /// One held-out (test) clip per class, in play order.
    pub live: Vec<(String, Live)>,
    pub online_accuracy: Option<f64>,
    pub windows_scored: u64,
}

pub struct Session<'a> {
    pub protocol: Protocol,
    pub heldout: Vec<HeldOutClip>,
    /// `rows[i][j]`: held-out window accuracy on task j after task i.
    pub rows: Vec<Vec<f64>>,
    pub tasks: Vec<TaskStatus>,
    pub activities: Vec<ActivityRun>,
    pub say: &'a dyn Fn(String),
}

impl Session<'_> {
    pub fn task_count(&self) -> usize {
        self.protocol.tasks().len()
    }

    /// Starts the daemon on `settings`, enrolls every task through its socket, stops it.
    pub fn learn(
        &mut self,
        settings: &Settings,
        dataset: &Dataset,
        out: &Path,
    ) -> Result<Stopped, CliError> {
        let service = start(settings, out, "daemon")?;
        let replay = settings.config().sources().replay();
        (self.say)(format!(
            "daemon: `mmcl run --config {}` (pid {}), playing the train split at {}x real time; \
             its log: {}",
            service.profile.display(),
            service.pid(),
            replay.map_or(1.0, |r| r.speed()),
            service.log.display()
        ));
        let playlist = replay
            .map(|r| crate::daemon::playlist_clips(dataset, r))
            .unwrap_or_default();
        let gap_s = 1.25 * settings.window().len_ns() as f64 * 1e-9;
        let mut user = User::connect(&service.socket)?;
        for task in 0..self.task_count() {
            self.run_task(&mut user, task, |class| {
                enroll_seconds(&playlist, class, gap_s)
            })?;
        }
        drop(user);
        service.stop()
    }

    fn run_task(
        &mut self,
        user: &mut User,
        task: usize,
        seconds: impl Fn(ClassId) -> f64,
    ) -> Result<(), CliError> {
        let classes = self.protocol.tasks()[task].clone();
        let names: Vec<String> = classes.iter().map(|&c| name(c)).collect();
        (self.say)(format!(
            "\ntask {}/{}: {}",
            task + 1,
            self.task_count(),
            names.join(", ")
        ));
        for (&class, name) in classes.iter().zip(&names) {
            let run = self.activity(user, name, seconds(class))?;
            self.activities.push(run);
        }
        let model = user.export_model()?;
        let row = heldout::row(&model, &self.heldout, &self.protocol, task);
        let seen = heldout::accuracy(&model, &self.heldout, &self.protocol, |t| t <= task);
        let status = user.status()?;
        self.say_task(task, &row, seen, &status);
        self.rows.push(row);
        let replay = status.replay.as_ref();
        self.tasks.push(TaskStatus {
            seen_accuracy: seen,
            online_accuracy: replay.and_then(|r| r.online_accuracy),
            windows_scored: replay.map_or(0, |r| r.windows_scored),
            learner_bytes: status.learner_bytes,
            budget_bytes: status.budget_bytes,
        });
        Ok(())
    }

    /// Waits for `name` to play, enrolls it, watches the rest of it.
    fn activity(&self, user: &mut User, name: &str, seconds: f64) -> Result<ActivityRun, CliError> {
        user.await_playing(name)?;
        let outcome = user.enroll(name, seconds)?;
        (self.say)(format!(
            "  {name} is playing: `mmcl enroll {name} --seconds {seconds:.1}` -> learned {} \
             from {} windows in {:.0} ms; now knows {} classes",
            outcome.label, outcome.windows, outcome.learn_ms, outcome.classes
        ));
        let live = user.watch_while_playing(name)?;
        (self.say)(format!("    live: {}", live_text(name, &live)));
        Ok(ActivityRun {
            class: name.to_string(),
            enroll_seconds: seconds,
            windows_enrolled: outcome.windows,
            learn_ms: outcome.learn_ms,
            live,
        })
    }

    fn say_task(&self, task: usize, row: &[f64], seen: f64, status: &StatusReport) {
        let seen_classes: usize = self.protocol.tasks()[..=task].iter().map(Vec::len).sum();
        let per_task: Vec<String> = (row.iter().enumerate())
            .map(|(j, a)| format!("task {} {:.1} %", j + 1, 100.0 * a))
            .collect();
        let online = status.replay.as_ref().map_or("n/a".into(), |r| {
            format!(
                "{} of {} windows scored",
                percent(r.online_accuracy),
                r.windows_scored
            )
        });
        (self.say)(format!(
            "after task {}: held-out accuracy on the {seen_classes} activities so far {:.1} % \
             (seen_accuracy); per task ({}); daemon's online accuracy {online}; learner memory \
             {} bytes of {}",
            task + 1,
            100.0 * seen,
            per_task.join(", "),
            status.learner_bytes,
            super::summary::budget_text(status.budget_bytes)
        ));
    }

    /// Restarts the daemon on `settings` (the same state directory, a held-out playlist)
    /// and shows what it knows and predicts.
    pub fn restart(
        &self,
        settings: &Settings,
        out: &Path,
        stopped: &Stopped,
        order: &[String],
    ) -> Result<Restart, CliError> {
        let state = settings.config().state_dir();
        let snapshot = newest_snapshot(state)?;
        (self.say)(format!(
            "\nstopped the daemon with SIGTERM: {} in {:.0} ms; final snapshot {}",
            (stopped.status.code())
                .map_or(stopped.status.to_string(), |c| format!("exit code {c}")),
            stopped.ms,
            snapshot.display()
        ));
        let service = start(settings, out, "daemon after the restart")?;
        let user = User::connect(&service.socket);
        let mut user = user?;
        let classes: Vec<String> = (user.classes()?.classes.into_iter())
            .map(|c| c.name)
            .collect();
        (self.say)(format!(
            "restarted on the same state (pid {}): the daemon knows {} classes: {}",
            service.pid(),
            classes.len(),
            classes.join(", ")
        ));
        let live = user.watch_playlist(order)?;
        let status = user.status()?;
        drop(user);
        let again = service.stop()?;
        let restart = Restart {
            stop_exit_code: stopped.status.code(),
            stop_ms: stopped.ms,
            daemon_peak_rss_bytes: stopped.peak_rss_bytes,
            restarted_peak_rss_bytes: again.peak_rss_bytes,
            snapshot,
            classes,
            live: order.iter().cloned().zip(live).collect(),
            online_accuracy: status.replay.as_ref().and_then(|r| r.online_accuracy),
            windows_scored: status.replay.as_ref().map_or(0, |r| r.windows_scored),
        };
        self.say_restart(&restart);
        Ok(restart)
    }

    fn say_restart(&self, r: &Restart) {
        for (name, live) in &r.live {
            (self.say)(format!(
                "  held-out clip of {name}: {}",
                live_text(name, live)
            ));
        }
        (self.say)(format!(
            "  restarted daemon's online accuracy {} of {} windows scored",
            percent(r.online_accuracy),
            r.windows_scored
        ));
    }
}

/// Starts the daemon on `settings`, its profile and log named after `what`.
fn start(settings: &Settings, out: &Path, what: &str) -> Result<ServiceProcess, CliError> {
    let stem = what.replace(' ', "-");
    ServiceProcess::start(
        settings,
        &out.join(format!("{stem}.toml")),
        &out.join("daemon.log"),
    )
}

/// The stream seconds to enroll of `class`: `ENROLL_SHARE` of its clips' playing time,
/// the silent gaps between them included.
fn enroll_seconds(playlist: &[Clip], class: ClassId, gap_s: f64) -> f64 {
    let durations: Vec<f64> = (playlist.iter())
        .filter(|c| c.label() == class)
        .map(Clip::duration_secs)
        .collect();
    let gaps = durations.len().saturating_sub(1) as f64 * gap_s;
    let total: f64 = durations.iter().sum::<f64>() + gaps;
    (ENROLL_SHARE * total).max(0.1)
}

/// The newest snapshot file of `dir`.
fn newest_snapshot(dir: &Path) -> Result<PathBuf, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::Runtime(anyhow!("list the state directory {}: {e}", dir.display()))
    })?;
    let newest = (entries.filter_map(Result::ok))
        .filter_map(|e| {
            let seq = crate::store::parse_snapshot_name(e.file_name().to_str()?)?;
            Some((seq, e.path()))
        })
        .max_by_key(|(seq, _)| *seq);
    newest.map(|(_, p)| p).ok_or_else(|| {
        CliError::Runtime(anyhow!("the daemon left no snapshot in {}", dir.display()))
    })
}

fn live_text(name: &str, live: &Live) -> String {
    if live.windows == 0 {
        // A lagging pipeline had predicted the rest of it before the learn call returned.
        return format!("no window of {name} was predicted after it was learned");
    }
    let smoothed = live.smoothed.as_deref().unwrap_or("(none)");
    format!(
        "{} of {} windows predicted {name} (raw prediction, {}); smoothed prediction at the \
         last window {smoothed} (confidence {:.2}), latency {:.0} ms",
        live.right,
        live.windows,
        percent(live.accuracy()),
        live.confidence,
        live.latency_ms
    )
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.1} %", 100.0 * x))
}

/// The activity's name as the daemon's replay reports it: `upstairs` for `1_upstairs`.
pub fn name(class: ClassId) -> String {
    crate::dataset::layout::CLASS_NAMES
        .get(class as usize)
        .map_or_else(
            || format!("class {class}"),
            |n| crate::daemon::display_name(n),
        )
}
