//! Starting and stopping the daemon. `start` recovers the state, starts the pipeline, the
//! daemon's threads and the control socket, and returns once the pipeline delivers samples
//! (then `READY=1`: the socket already answers);
//! `Running::wait` returns after the shutdown is triggered (SIGTERM, or the caller) and
//! everything stopped: sources and stages stopped, the output drained through the
//! predictor, a final snapshot written when the journal holds changes, `STOPPING=1` sent.

use super::notify::Notifier;
use super::recover::recover;
use super::service::{lock, Daemon, Parts};
use super::stats::StreamClock;
use super::{log, sources, DaemonError};
use crate::config::Settings;
use crate::control::{self, ControlTarget, ListenerConfig, ServerHandle};
use crate::pipeline::{EncodedWindow, Pipeline};
use crate::shutdown::Shutdown;
use crate::time::{Clock, MonotonicClock};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the housekeeping thread looks at the daemon.
const TICK: Duration = Duration::from_millis(200);
/// How often a `STATUS=` line is sent.
const STATUS_EVERY: Duration = Duration::from_secs(10);
/// How long `start` waits for the first sample.
const FIRST_SAMPLE: Duration = Duration::from_secs(30);

/// What the daemon is started with besides its settings.
#[derive(Debug, Clone)]
pub struct StartOptions {
    pub notifier: Notifier,
    /// Serve the profile's control socket (`mmcl run`, the demo); a benchmark in the
    /// same process talks to the daemon directly and may leave it off.
    pub control_socket: bool,
}

/// A started daemon.
pub struct Running {
    daemon: Arc<Daemon>,
    shutdown: Shutdown,
    notifier: Notifier,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    server: Option<ServerHandle>,
}

/// What a run did, for the caller's last log line.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub windows: u64,
    pub classes: usize,
    pub snapshot_seq: Option<u64>,
}

/// Starts the daemon on `settings`; every thread watches `shutdown`.
pub fn start(
    settings: Settings,
    options: StartOptions,
    shutdown: Shutdown,
) -> Result<Running, DaemonError> {
    let recovered = recover(&settings)?;
    for w in &recovered.warnings {
        log(&format!("warning: {w}"));
    }
    log(&format!(
        "state {}: {} classes (snapshot {}, {} journal records replayed)",
        settings.config().state_dir().display(),
        recovered.model.current().book().len(),
        recovered
            .snapshot_seq
            .map_or("none".to_string(), |s| s.to_string()),
        recovered.replayed
    ));
    let encoder = settings
        .open_encoder()
        .map_err(|source| DaemonError::Encoder {
            source: Box::new(source),
        })?;
    let backend = encoder.backend();
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let speed = settings
        .config()
        .sources()
        .replay()
        .map_or(1.0, |r| r.speed());
    let stream_clock = StreamClock {
        origin: clock.now(),
        clock,
        speed,
    };
    // Before the pipeline: a failure here has nothing to stop.
    let uplink = match settings.config().uplink() {
        Some(u) => Some(
            crate::uplink::Uplink::start(u, settings.config().state_dir(), shutdown.clone())
                .map_err(|source| DaemonError::Uplink {
                    source: Box::new(source),
                })?,
        ),
        None => None,
    };
    let built = sources::build(&settings, &stream_clock, &shutdown)?;
    log(&built.described);
    let pipeline = Pipeline::start(
        built.sources,
        settings.window(),
        stream_clock.origin,
        encoder,
        &settings.config().channels().pipeline_settings(),
        &shutdown,
    )
    .map_err(|source| DaemonError::Pipeline {
        source: Box::new(source),
    })?;
    let output = pipeline.output().clone();
    let daemon = Arc::new(Daemon::new(Parts {
        settings,
        model: recovered.model,
        state: recovered.state,
        snapshot_seq: recovered.snapshot_seq,
        play_log: built.play_log,
        clock: stream_clock,
        backend,
        uplink,
    }));
    *lock(&daemon.pipeline) = Some(pipeline);
    let mut running = Running {
        daemon,
        shutdown,
        notifier: options.notifier,
        threads: Vec::new(),
        server: None,
    };
    running.spawn("predictor", predictor(output))?;
    let started = running.serve_control(options.control_socket);
    if let Err(e) = started.and_then(|()| running.await_first_sample()) {
        running.shutdown.trigger();
        let _ = running.finish();
        return Err(e);
    }
    running.daemon.set_lifecycle("running");
    running.notifier.ready();
    running.spawn("housekeeping", housekeeping(running.notifier.clone()))?;
    Ok(running)
}

impl Running {
    pub fn daemon(&self) -> &Arc<Daemon> {
        &self.daemon
    }

    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Blocks until the shutdown is triggered, then stops everything (see the module docs).
    pub fn wait(self) -> Result<RunSummary, DaemonError> {
        while !self.shutdown.wait_timeout(Duration::from_secs(1)) {}
        self.finish()
    }

    /// Triggers the shutdown and stops everything.
    pub fn stop(self) -> Result<RunSummary, DaemonError> {
        self.shutdown.trigger();
        self.finish()
    }

    fn spawn(
        &mut self,
        what: &'static str,
        body: impl FnOnce(Arc<Daemon>, Shutdown) + Send + 'static,
    ) -> Result<(), DaemonError> {
        let (daemon, shutdown) = (self.daemon.clone(), self.shutdown.clone());
        let handle = std::thread::Builder::new()
            .name(format!("mmcl-{what}"))
            .spawn(move || body(daemon, shutdown))
            .map_err(|source| DaemonError::Spawn { what, source })?;
        self.threads.push((what, handle));
        Ok(())
    }

    /// Waits until a source delivered a sample ("the pipeline runs").
    fn await_first_sample(&self) -> Result<(), DaemonError> {
        let started = Instant::now();
        while started.elapsed() < FIRST_SAMPLE {
            let health = self.daemon.health();
            let delivered = health
                .as_ref()
                .is_some_and(|h| h.sources.iter().any(|s| s.samples_delivered > 0));
            if delivered || self.daemon.windows() > 0 {
                return Ok(());
            }
            if self.shutdown.wait_timeout(Duration::from_millis(20)) {
                return Ok(());
            }
        }
        Err(DaemonError::NoSamples {
            seconds: FIRST_SAMPLE.as_secs(),
        })
    }

    /// Starts the control server on the profile's socket (mode 0660, the allow list).
    fn serve_control(&mut self, wanted: bool) -> Result<(), DaemonError> {
        if !wanted {
            return Ok(());
        }
        let settings = self.daemon.settings();
        let control_error = |source| DaemonError::Control {
            socket: settings.config().control().socket().to_path_buf(),
            source: Box::new(source),
        };
        let listener =
            ListenerConfig::from_config(settings.config().control()).map_err(control_error)?;
        let target: Arc<dyn ControlTarget> = self.daemon.clone();
        let server =
            control::serve(listener, target, self.shutdown.clone()).map_err(control_error)?;
        log(&format!("control socket {}", server.path().display()));
        self.server = Some(server);
        Ok(())
    }

    fn finish(mut self) -> Result<RunSummary, DaemonError> {
        self.notifier.stopping();
        self.daemon.set_lifecycle("stopping");
        // The server stops on the shutdown; joined first so no request races the end.
        if let Some(server) = self.server.take() {
            server.join();
        }
        let pipeline = lock(&self.daemon.pipeline).take();
        if let Some(p) = pipeline {
            for outcome in p.stop().stages {
                if let Err(e) = outcome.result {
                    log(&format!("{}: {e}", outcome.stage));
                }
            }
        }
        for (what, handle) in self.threads {
            if handle.join().is_err() {
                log(&format!("the {what} thread panicked"));
            }
        }
        let mut snapshot_seq = *lock(&self.daemon.snapshot_seq);
        if self.daemon.has_pending_changes() {
            snapshot_seq = Some(self.daemon.checkpoint_now()?.snapshot_seq);
        }
        self.daemon.set_lifecycle("stopped");
        Ok(RunSummary {
            windows: self.daemon.windows(),
            classes: self.daemon.model().book().len(),
            snapshot_seq,
        })
    }
}

/// The predictor thread: every encoded window, in order, until the output disconnects
/// (the pipeline ended or was stopped; what was queued is drained first).
fn predictor(output: Receiver<EncodedWindow>) -> impl FnOnce(Arc<Daemon>, Shutdown) + Send {
    move |daemon, _shutdown| loop {
        match output.recv_timeout(Duration::from_millis(100)) {
            Ok(window) => daemon.on_window(window),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                log("the pipeline's output ended");
                return;
            }
        }
    }
}

/// The housekeeping thread: checkpoints by the `[daemon]` policy, expiry of unclaimed
/// enrollments, watchdog pings on progress, and `STATUS=` lines.
fn housekeeping(notifier: Notifier) -> impl FnOnce(Arc<Daemon>, Shutdown) + Send {
    move |daemon, shutdown| {
        let mut watchdog = Watchdog::new(&notifier);
        let mut last_status = Instant::now() - STATUS_EVERY;
        while !shutdown.wait_timeout(TICK) {
            daemon.expire_captures();
            if let Err(e) = daemon.checkpoint_if_due() {
                log(&format!("checkpoint: {e}"));
            }
            watchdog.tick(&daemon, &notifier);
            if last_status.elapsed() >= STATUS_EVERY {
                notifier.status(&daemon.status_line());
                last_status = Instant::now();
            }
        }
    }
}

/// `WATCHDOG=1` only when the pipeline moved since the last ping: a window predicted, a
/// sample delivered, or every stage ended on its own (a replay that finished).
struct Watchdog {
    every: Option<Duration>,
    last_ping: Instant,
    seen: (u64, u64),
}

impl Watchdog {
    fn new(notifier: &Notifier) -> Watchdog {
        Watchdog {
            // Ping at half the interval systemd allows, as sd_watchdog_enabled(3) advises.
            every: notifier.watchdog().map(|d| d / 2),
            last_ping: Instant::now(),
            seen: (0, 0),
        }
    }

    fn tick(&mut self, daemon: &Daemon, notifier: &Notifier) {
        if self.every.is_none_or(|e| self.last_ping.elapsed() < e) {
            return;
        }
        let health = daemon.health();
        let samples: u64 = health
            .as_ref()
            .map_or(0, |h| h.sources.iter().map(|s| s.samples_delivered).sum());
        let now = (daemon.windows(), samples);
        let ended = health.as_ref().is_some_and(|h| {
            h.encoder
                .as_ref()
                .is_some_and(|e| e.state != crate::pipeline::StageState::Running)
        });
        // No progress, no ping: systemd restarts the service past WatchdogSec.
        if now != self.seen || ended {
            notifier.watchdog_ping();
            self.last_ping = Instant::now();
            self.seen = now;
        }
    }
}

impl Daemon {
    /// A snapshot when the journal holds `checkpoint_changes` changes, or any change older
    /// than `checkpoint_seconds`.
    fn checkpoint_if_due(&self) -> Result<(), DaemonError> {
        let pending = self
            .pending_changes
            .load(std::sync::atomic::Ordering::Relaxed);
        if pending == 0 {
            return Ok(());
        }
        let live = lock(&self.live).clone();
        let age = lock(&self.last_checkpoint).elapsed().as_secs_f64();
        if pending >= u64::from(live.checkpoint_changes()) || age >= live.checkpoint_seconds() {
            let report = self.checkpoint_now()?;
            log(&format!(
                "snapshot {} written ({} bytes)",
                report.snapshot_seq, report.bytes
            ));
        }
        Ok(())
    }

    /// Drops a completed enrollment nobody claimed in time.
    fn expire_captures(&self) {
        let mut slot = lock(&self.capture);
        if slot.as_ref().is_some_and(|c| c.expired(Instant::now())) {
            if let Some(c) = slot.take() {
                let mut p = c.progress();
                p.state = "expired".into();
                log(&format!(
                    "enrollment {} of {:?} expired unclaimed",
                    p.id, p.label
                ));
                drop(slot);
                self.remember(p);
            }
        }
    }
}
