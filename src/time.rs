//! Time: monotonic nanosecond timestamps and the injected `Clock`.
//!
//! Every sample carries a `Timestamp` from a monotonic clock. Nothing in the
//! library reads the system clock directly: sources and the pipeline are given
//! a `Clock`, so tests and dataset replay can run on a manual clock.

use std::time::Instant;

/// A point on a monotonic clock, in nanoseconds since that clock's origin.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub fn from_secs_f64(secs: f64) -> Timestamp {
        Timestamp((secs.max(0.0) * 1e9).round() as u64)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }

    pub fn nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of the clock.
    pub fn add_nanos(self, d: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(d))
    }

    /// Nanoseconds from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A source of monotonic timestamps. Required: `now`, which never goes backwards
/// for one clock instance.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The process's monotonic clock (`std::time::Instant`), origin at construction.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    pub fn new() -> MonotonicClock {
        MonotonicClock {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.origin.elapsed().as_nanos() as u64)
    }
}

/// A clock moved by hand: dataset replay and tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: std::sync::atomic::AtomicU64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            now: std::sync::atomic::AtomicU64::new(start.0),
        }
    }

    /// Moves the clock to `t`; a `t` earlier than now is ignored (monotonic).
    pub fn set(&self, t: Timestamp) {
        self.now.fetch_max(t.0, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn advance(&self, nanos: u64) {
        self.now
            .fetch_add(nanos, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip() {
        let t = Timestamp::from_secs_f64(1.25);
        assert_eq!(t.nanos(), 1_250_000_000);
        assert_eq!(t.as_secs_f64(), 1.25);
        assert_eq!(Timestamp::from_secs_f64(-3.0), Timestamp::ZERO);
    }

    #[test]
    fn manual_clock_never_goes_back() {
        let c = ManualClock::new(Timestamp(10));
        c.set(Timestamp(5));
        assert_eq!(c.now(), Timestamp(10));
        c.advance(7);
        assert_eq!(c.now(), Timestamp(17));
    }
}
