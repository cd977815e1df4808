//! Bounded running measures for health: the achieved rate of a stream over a
//! recent interval, and the p50/p99 of recent encoder times. Both hold a fixed
//! amount of memory however long the pipeline runs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Events per second over the last complete interval, or over the running one
/// once it is older than an interval (so a stalled stream decays toward 0).
#[derive(Debug, Clone)]
pub struct RateMeter {
    interval: Duration,
    since: Instant,
    count: u64,
    last: Option<f64>,
}

impl RateMeter {
    pub fn new(interval: Duration, now: Instant) -> RateMeter {
        RateMeter {
            interval,
            since: now,
            count: 0,
            last: None,
        }
    }

    pub fn tick(&mut self, now: Instant) {
        self.count += 1;
        let elapsed = now.saturating_duration_since(self.since);
        if elapsed >= self.interval {
            self.last = Some(self.count as f64 / elapsed.as_secs_f64());
            self.since = now;
            self.count = 0;
        }
    }

    pub fn rate_hz(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.since);
        match self.last {
            Some(rate) if elapsed < self.interval => rate,
            _ if elapsed.is_zero() => 0.0,
            _ => self.count as f64 / elapsed.as_secs_f64(),
        }
    }
}

/// The last `capacity` values, for percentiles.
#[derive(Debug, Clone)]
pub struct RecentValues {
    values: VecDeque<f64>,
    capacity: usize,
}

/// The 50th and 99th percentiles (nearest rank) of recent values.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

impl RecentValues {
    pub fn new(capacity: usize) -> RecentValues {
        RecentValues {
            values: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, v: f64) {
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(v);
    }

    /// `None` before the first value.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let mut sorted: Vec<f64> = self.values.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            let i = ((q * sorted.len() as f64).ceil() as usize).saturating_sub(1);
            sorted.get(i.min(sorted.len().saturating_sub(1))).copied()
        };
        Some(Percentiles {
            p50: rank(0.5)?,
            p99: rank(0.99)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_counted_per_interval_and_decays_when_stalled() {
        let t0 = Instant::now();
        let mut m = RateMeter::new(Duration::from_secs(1), t0);
        for k in 1..=50 {
            m.tick(t0 + Duration::from_millis(20 * k));
        }
        let at = t0 + Duration::from_millis(1010);
        assert!((m.rate_hz(at) - 50.0).abs() < 1e-9, "{}", m.rate_hz(at));
        // Nothing for 4 s after the interval closed: the running interval has 0 events.
        assert_eq!(m.rate_hz(t0 + Duration::from_secs(5)), 0.0);
    }

    #[test]
    fn percentiles_use_nearest_rank_over_the_last_values() {
        let mut r = RecentValues::new(100);
        assert_eq!(r.percentiles(), None);
        for v in 1..=200 {
            r.push(f64::from(v));
        }
        // Only 101..=200 are kept.
        assert_eq!(
            r.percentiles(),
            Some(Percentiles {
                p50: 150.0,
                p99: 199.0
            })
        );
    }
}
