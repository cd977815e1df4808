//! One measured stretch of `mmcl bench daemon`: quiet, or with `--abuse` running against
//! the control socket. A phase counts the windows predicted, every window's end-to-end
//! latency (from the daemon's own prediction events), the daemon's CPU (the process's,
//! less the abuser threads'), the windows the pipeline dropped, and the enrollments made
//! during it, each of a class not enrolled before in the run.

use super::abuse::{Abuse, Tally, THREAD_PREFIX};
use super::cpu;
use crate::control::api::{Event, Latency, Subscription};
use crate::control::ControlTarget;
use crate::daemon::Daemon;
use crate::pipeline::RecentValues;
use anyhow::anyhow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Latencies kept per phase: a 10-minute phase at 1 s stride is 600.
const LATENCIES_KEPT: usize = 1 << 16;

/// The figures of one phase.
#[derive(Debug, serde::Serialize)]
pub struct PhaseFigures {
    pub name: &'static str,
    pub wall_seconds: f64,
    /// Seconds of stream per second of wall time (the replay speed).
    pub stream_speed: f64,
    pub windows: u64,
    pub windows_per_s: f64,
    pub latency_ms: Latency,
    /// The daemon's CPU: the process's less the abuser threads'.
    pub cpu_seconds: f64,
    pub cpu_ms_per_stream_second: f64,
    pub real_time_factor: f64,
    /// CPU seconds of each live thread group (the encoder's, the replay's, ...).
    pub cpu_seconds_by_thread: BTreeMap<String, f64>,
    /// Windows (and samples) the pipeline's channel policies dropped during the phase.
    pub dropped: u64,
    pub enrollments: Vec<EnrollFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abuse: Option<AbuseFigures>,
}

#[derive(Debug, serde::Serialize)]
pub struct EnrollFigures {
    pub label: String,
    pub windows_captured: usize,
    pub windows_predicted_meanwhile: u64,
    /// What the pipeline dropped while the capture ran (a dropped window never reaches it).
    pub dropped_meanwhile: u64,
    pub learn_ms: f64,
}

/// What the abusers got back.
#[derive(Debug, serde::Serialize)]
pub struct AbuseFigures {
    pub status_answers: u64,
    pub error_answers: u64,
    pub huge_lines_refused: u64,
    pub huge_line_bytes_taken: u64,
    pub stalled_connections: u64,
    pub abuser_cpu_seconds: f64,
}

/// What a phase runs on.
pub struct Bench<'a> {
    pub daemon: &'a Daemon,
    pub latencies: &'a Latencies,
    pub speed: f64,
    pub stride_seconds: f64,
    pub enroll_seconds: f64,
    /// Classes enrolled so far in the run; each enrollment takes one not among them.
    pub enrolled: Vec<String>,
}

/// Every window's latency, collected from the daemon's prediction events.
#[derive(Clone, Default)]
pub struct Latencies(Arc<Mutex<Vec<f64>>>);

impl Latencies {
    /// Collects from `events` on a thread of its own until the subscription ends.
    pub fn collect(events: Subscription) -> std::io::Result<Latencies> {
        let latencies = Latencies::default();
        let sink = latencies.clone();
        std::thread::Builder::new()
            .name("mmcl-bench-events".into())
            .spawn(move || {
                for event in events.iter() {
                    if let Event::Window(p) = event {
                        sink.push(p.latency_ms);
                    }
                }
            })?;
        Ok(latencies)
    }

    fn push(&self, ms: f64) {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() < LATENCIES_KEPT {
            v.push(ms);
        }
    }

    /// The percentiles of what came since the last call, and forgets it.
    fn take(&self) -> Latency {
        let taken = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        let mut recent = RecentValues::new(taken.len());
        taken.into_iter().for_each(|v| recent.push(v));
        let p = recent.percentiles();
        Latency {
            p50: p.map(|p| p.p50),
            p99: p.map(|p| p.p99),
        }
    }
}

impl Bench<'_> {
    /// Runs one phase of `length`, with `enrollments` spread over its first half; with
    /// `abuse_socket`, the abuse runs against it for the whole phase.
    pub fn phase(
        &mut self,
        name: &'static str,
        length: Duration,
        enrollments: u32,
        abuse_socket: Option<&Path>,
    ) -> anyhow::Result<PhaseFigures> {
        let abuse = match abuse_socket {
            Some(socket) => {
                Some(Abuse::start(socket).map_err(|e| anyhow!("start the abuse: {e}"))?)
            }
            None => None,
        };
        let (t0, cpu0, threads0) = (Instant::now(), cpu::process_seconds(), cpu::by_thread());
        let (windows0, dropped0) = (self.daemon.windows(), dropped(self.daemon));
        self.latencies.take();
        let mut enrolled = Vec::new();
        let gap = length.div_f64(2.0 * f64::from(enrollments.max(1)));
        for _ in 0..enrollments {
            std::thread::sleep(gap);
            enrolled.extend(self.enroll(t0 + length)?);
        }
        std::thread::sleep((t0 + length).saturating_duration_since(Instant::now()));
        let wall = t0.elapsed().as_secs_f64();
        let by_thread = cpu::since(&cpu::by_thread(), &threads0);
        let abusers = THREAD_PREFIX.trim_end_matches('-');
        let abuser_cpu = by_thread.get(abusers).copied().unwrap_or(0.0);
        let cpu = cpu::process_seconds() - cpu0 - abuser_cpu;
        let windows = self.daemon.windows() - windows0;
        let figures = PhaseFigures {
            name,
            wall_seconds: wall,
            stream_speed: self.speed,
            windows,
            windows_per_s: windows as f64 / wall,
            latency_ms: self.latencies.take(),
            cpu_seconds: cpu,
            cpu_ms_per_stream_second: 1e3 * cpu / (wall * self.speed),
            real_time_factor: self.stride_seconds * windows as f64 / cpu.max(1e-9),
            dropped: dropped(self.daemon).saturating_sub(dropped0),
            enrollments: enrolled,
            cpu_seconds_by_thread: by_thread,
            abuse: abuse.map(|a| abuse_figures(&a.stop(), abuser_cpu)),
        };
        Ok(figures)
    }

    /// Waits (until `deadline`) for a class not enrolled yet to play, then enrolls it for
    /// `enroll_seconds` of stream; `None` when no new class played in time.
    fn enroll(&mut self, deadline: Instant) -> anyhow::Result<Option<EnrollFigures>> {
        let Some(label) = self.new_class_playing(deadline) else {
            return Ok(None);
        };
        let d = self.daemon;
        let start = d.enroll_start(&label, Some(self.enroll_seconds))?;
        let (before, dropped_before) = (d.windows(), dropped(d));
        while d.enroll_progress(start.id)?.state == "capturing" {
            std::thread::sleep(Duration::from_millis(20));
        }
        let meanwhile = d.windows() - before;
        let dropped_meanwhile = dropped(d).saturating_sub(dropped_before);
        let outcome = d.enroll_stop(start.id)?;
        self.enrolled.push(label.clone());
        Ok(Some(EnrollFigures {
            label,
            windows_captured: outcome.windows,
            windows_predicted_meanwhile: meanwhile,
            dropped_meanwhile,
            learn_ms: outcome.learn_ms,
        }))
    }

    /// The true class now playing once it is one not enrolled yet.
    fn new_class_playing(&self, deadline: Instant) -> Option<String> {
        while Instant::now() < deadline {
            let playing = self.daemon.status().replay.and_then(|r| r.true_class);
            if let Some(class) = playing.filter(|c| !self.enrolled.contains(c)) {
                return Some(class);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

fn abuse_figures(t: &Tally, abuser_cpu_seconds: f64) -> AbuseFigures {
    use std::sync::atomic::Ordering::Relaxed;
    AbuseFigures {
        status_answers: t.status_answers.load(Relaxed),
        error_answers: t.error_answers.load(Relaxed),
        huge_lines_refused: t.huge_lines_refused.load(Relaxed),
        huge_line_bytes_taken: t.huge_line_bytes_taken.load(Relaxed),
        stalled_connections: t.stalled_connections.load(Relaxed),
        abuser_cpu_seconds,
    }
}

/// Everything the pipeline's channel policies dropped so far.
fn dropped(d: &Daemon) -> u64 {
    let counts: BTreeMap<String, u64> = d.status().dropped;
    counts.values().sum()
}
