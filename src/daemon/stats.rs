//! What the daemon measures about itself: when a window's end happened in wall time
//! (`StreamClock`, for the end-to-end latency), windows per second, the latency
//! percentiles, the prequential (online) accuracy of replay, and the process's memory.

use crate::control::api::Latency;
use crate::pipeline::{RateMeter, RecentValues};
use crate::time::{Clock, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latencies kept for the percentiles.
const RECENT: usize = 1024;

/// Maps the pipeline's timeline to the daemon's clock: live samples are stamped on the
/// clock itself (speed 1); replay plays the timeline from `origin` at `speed`, so a sample
/// at `t` is due at `origin + (t - origin) / speed` (`sensor::Pacing`).
#[derive(Clone)]
pub struct StreamClock {
    pub clock: Arc<dyn Clock>,
    pub origin: Timestamp,
    pub speed: f64,
}

impl StreamClock {
    /// When timeline instant `t` is (was) due on the clock.
    pub fn due(&self, t: Timestamp) -> Timestamp {
        let after = t.since(self.origin) as f64 / self.speed.max(1e-6);
        self.origin.add_nanos(after as u64)
    }

    /// Milliseconds from the due time of `end` to now (0 if not yet due).
    pub fn latency_ms(&self, end: Timestamp) -> f64 {
        self.clock.now().since(self.due(end)) as f64 * 1e-6
    }
}

/// The predictor's running figures.
pub struct PredictorStats {
    pub windows: u64,
    rate: RateMeter,
    latencies: RecentValues,
    /// Replay: windows whose true class the learner knew when they were predicted.
    pub scored: u64,
    pub right: u64,
}

impl PredictorStats {
    pub fn new(now: Instant) -> PredictorStats {
        PredictorStats {
            windows: 0,
            rate: RateMeter::new(Duration::from_secs(5), now),
            latencies: RecentValues::new(RECENT),
            scored: 0,
            right: 0,
        }
    }

    pub fn window(&mut self, latency_ms: f64, now: Instant) {
        self.windows += 1;
        self.rate.tick(now);
        self.latencies.push(latency_ms);
    }

    /// Counts one prediction of a window whose true class was known.
    pub fn score(&mut self, right: bool) {
        self.scored += 1;
        self.right += u64::from(right);
    }

    pub fn windows_per_s(&self, now: Instant) -> f64 {
        self.rate.rate_hz(now)
    }

    pub fn latency(&self) -> Latency {
        let p = self.latencies.percentiles();
        Latency {
            p50: p.map(|p| p.p50),
            p99: p.map(|p| p.p99),
        }
    }

    pub fn online_accuracy(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.right as f64 / self.scored as f64)
    }
}

/// Resident memory of this process, bytes (0 where `/proc` is missing).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf reads a constant of the running system; no memory is touched.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// Peak resident memory of this process (`VmHWM`), bytes.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Wall-clock time now, Unix milliseconds.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;

    #[test]
    fn replayed_time_is_due_at_its_speed() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000)));
        let sc = StreamClock {
            clock: clock.clone(),
            origin: Timestamp(1_000),
            speed: 4.0,
        };
        assert_eq!(
            sc.due(Timestamp(1_000 + 4_000_000_000)),
            Timestamp(1_000 + 1_000_000_000)
        );
        clock.set(Timestamp(1_000 + 1_250_000_000));
        assert!((sc.latency_ms(Timestamp(1_000 + 4_000_000_000)) - 250.0).abs() < 1e-9);
        assert_eq!(sc.latency_ms(Timestamp(u64::MAX / 2)), 0.0);
    }

    #[test]
    fn memory_figures_are_read() {
        assert!(rss_bytes() > 0);
        assert!(peak_rss_bytes() >= rss_bytes() / 2);
    }
}
