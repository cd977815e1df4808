//! `SourceMonitor`: what a source knows about itself that its samples do not
//! say — the device it opened and the mode it negotiated, whether it is
//! restarting after losing its device, how its arrival rate compares with the
//! rate it was promised, samples lost before they reached the pipeline.
//!
//! The source writes it from its own thread; the pipeline takes a clone when it
//! wires the source (`Source::monitor`) and reads a `SourceReport` in every
//! health snapshot, so a source blocked waiting for its device still shows why.
//! One mutex, taken briefly by both sides; everything held is a few fields.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A shared handle to one source's self-report. Clones see the same report.
#[derive(Debug, Clone, Default)]
pub struct SourceMonitor {
    state: Arc<Mutex<MonitorState>>,
}

#[derive(Debug, Default)]
struct MonitorState {
    device: Option<String>,
    format: Option<String>,
    rate_hz: Option<f64>,
    restart: Option<RestartState>,
    rate_check: Option<RateCheckReport>,
    capture_dropped: u64,
}

/// Restart bookkeeping; `next_retry` is an instant so the report can say how
/// long is left at the moment it is read.
#[derive(Debug, Clone, Default)]
struct RestartState {
    restarting: bool,
    attempts: u32,
    restarts: u64,
    losses: u64,
    next_retry: Option<Instant>,
    last_error: Option<String>,
}

/// One reading of a monitor, for health (`mmcl status`) and `mmcl sensors`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SourceReport {
    /// The device or file opened ("/dev/video0", "iio:device0 (bmi160)").
    pub device: Option<String>,
    /// The mode negotiated with it ("YUYV 640x480 @ 30 fps", "48000 Hz 2 ch i16 -> 16000 Hz mono").
    pub format: Option<String>,
    /// The nominal rate the device agreed to (frames/s, readings/s, audio Hz).
    pub rate_hz: Option<f64>,
    /// Present once the source is wrapped in `sensor::Restarting`.
    pub restart: Option<RestartReport>,
    /// Arrival rate against the stated rate (sources stamped on arrival).
    pub rate_check: Option<RateCheckReport>,
    /// Samples lost between the device and the source (a capture queue that
    /// was full because the pipeline did not ask in time).
    pub capture_dropped: u64,
}

/// Where a restarting source stands.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RestartReport {
    /// True while the device is lost and being reopened.
    pub restarting: bool,
    /// Failed reopen attempts since the device was lost.
    pub attempts: u32,
    /// Times the device came back.
    pub restarts: u64,
    /// Times the device was lost.
    pub losses: u64,
    /// Milliseconds until the next reopen attempt, while restarting.
    pub next_retry_ms: Option<f64>,
    /// Why the device was lost, or why the last attempt failed.
    pub last_error: Option<String>,
}

/// The measured arrival rate over recent spans against the stated one.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RateCheckReport {
    pub stated_hz: f64,
    /// The rate over the last complete span.
    pub measured_hz: Option<f64>,
    /// Spans measured so far, and those off the stated rate by more than the tolerance.
    pub spans: u64,
    pub spans_off: u64,
    /// The tolerance, as a fraction of the stated rate.
    pub tolerance: f64,
}

fn lock(m: &Mutex<MonitorState>) -> MutexGuard<'_, MonitorState> {
    // A writer that panicked mid-update left whole fields behind.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SourceMonitor {
    pub fn new() -> SourceMonitor {
        SourceMonitor::default()
    }

    /// Records the device opened and what it agreed to.
    pub fn opened(
        &self,
        device: impl Into<String>,
        format: impl Into<String>,
        rate_hz: Option<f64>,
    ) {
        let mut s = lock(&self.state);
        s.device = Some(device.into());
        s.format = Some(format.into());
        s.rate_hz = rate_hz;
    }

    /// The device was lost: restarting, the next attempt at `next_retry`.
    pub fn lost(&self, error: String, next_retry: Instant) {
        let mut s = lock(&self.state);
        let r = s.restart.get_or_insert_with(RestartState::default);
        r.restarting = true;
        r.losses += 1;
        r.attempts = 0;
        r.next_retry = Some(next_retry);
        r.last_error = Some(error);
    }

    /// A reopen attempt failed; the next one is at `next_retry`.
    pub fn retry_failed(&self, error: String, next_retry: Instant) {
        let mut s = lock(&self.state);
        let r = s.restart.get_or_insert_with(RestartState::default);
        r.attempts = r.attempts.saturating_add(1);
        r.next_retry = Some(next_retry);
        r.last_error = Some(error);
    }

    /// The device is (back) up. `first` marks the initial open, not a restart.
    pub fn running(&self, first: bool) {
        let mut s = lock(&self.state);
        let r = s.restart.get_or_insert_with(RestartState::default);
        if !first {
            r.restarts += 1;
        }
        r.restarting = false;
        r.attempts = 0;
        r.next_retry = None;
    }

    pub fn set_rate_check(&self, report: RateCheckReport) {
        lock(&self.state).rate_check = Some(report);
    }

    /// Counts samples lost before they reached the pipeline.
    pub fn add_capture_dropped(&self, n: u64) {
        let mut s = lock(&self.state);
        s.capture_dropped = s.capture_dropped.saturating_add(n);
    }

    /// True while a restarting source has lost its device.
    pub fn is_restarting(&self) -> bool {
        lock(&self.state)
            .restart
            .as_ref()
            .is_some_and(|r| r.restarting)
    }

    /// The report as of `now`.
    pub fn report(&self, now: Instant) -> SourceReport {
        let s = lock(&self.state);
        SourceReport {
            device: s.device.clone(),
            format: s.format.clone(),
            rate_hz: s.rate_hz,
            restart: s.restart.as_ref().map(|r| restart_report(r, now)),
            rate_check: s.rate_check.clone(),
            capture_dropped: s.capture_dropped,
        }
    }
}

fn restart_report(r: &RestartState, now: Instant) -> RestartReport {
    let left = |at: Instant| at.saturating_duration_since(now);
    RestartReport {
        restarting: r.restarting,
        attempts: r.attempts,
        restarts: r.restarts,
        losses: r.losses,
        next_retry_ms: r
            .next_retry
            .filter(|_| r.restarting)
            .map(|at| millis(left(at))),
        last_error: r.last_error.clone(),
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_then_failed_retries_then_a_restart_read_back() {
        let m = SourceMonitor::new();
        let now = Instant::now();
        m.opened("/dev/x", "mode", Some(100.0));
        m.running(true);
        m.lost("gone".into(), now + Duration::from_millis(100));
        m.retry_failed("still gone".into(), now + Duration::from_millis(300));
        assert!(m.is_restarting());
        let r = m.report(now).restart.unwrap();
        assert_eq!((r.attempts, r.losses, r.restarts), (1, 1, 0));
        assert_eq!(r.last_error.as_deref(), Some("still gone"));
        assert!((r.next_retry_ms.unwrap() - 300.0).abs() < 1e-6);
        m.running(false);
        let r = m.report(now).restart.unwrap();
        assert_eq!((r.restarting, r.attempts, r.restarts), (false, 0, 1));
        assert_eq!(r.next_retry_ms, None);
        assert_eq!(m.report(now).device.as_deref(), Some("/dev/x"));
    }
}
