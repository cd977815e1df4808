//! Pacing: when a recorded sample is handed out. `Pacing::Unpaced` hands samples
//! out as fast as they are asked for (benchmarks, the demo); `Pacing::Clock` waits
//! until an injected `Clock` reaches the sample's due time, at a speed factor
//! (a desktop replay profile, the property tests).
//!
//! Due time: a sample at `t` is due when the clock reads
//! `origin + (t - origin) / speed`. `origin` is one instant on both the sample
//! timeline and the clock, shared by every source of a pipeline, so sources paced
//! on one clock stay together however their threads are scheduled: that keeps the
//! aligner's skew condition (docs/align.md, docs/pipeline.md).

use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// How recorded samples are paced.
#[derive(Clone)]
pub enum Pacing {
    Unpaced,
    Clock {
        clock: Arc<dyn Clock>,
        /// 1.0 = real time, 2.0 = twice as fast; clamped to at least 1e-6.
        speed: f64,
        /// The instant where the timeline and the clock meet.
        origin: Timestamp,
    },
}

impl Pacing {
    /// Paced on `clock` from now: a timeline that starts at `clock.now()` plays at `speed`.
    pub fn from_now(clock: Arc<dyn Clock>, speed: f64) -> Pacing {
        let origin = clock.now();
        Pacing::Clock {
            clock,
            speed,
            origin,
        }
    }

    /// The speed factor, `None` when unpaced.
    pub fn speed(&self) -> Option<f64> {
        match self {
            Pacing::Unpaced => None,
            Pacing::Clock { speed, .. } => Some(*speed),
        }
    }
}

impl std::fmt::Debug for Pacing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pacing::Unpaced => f.write_str("Unpaced"),
            Pacing::Clock { speed, origin, .. } => {
                write!(f, "Clock(speed {speed}, origin {origin:?})")
            }
        }
    }
}

/// Waits for samples' due times under one `Pacing`.
#[derive(Debug, Clone)]
pub struct Pacer {
    pacing: Pacing,
}

impl Pacer {
    pub fn new(pacing: Pacing) -> Pacer {
        Pacer { pacing }
    }

    pub fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// Blocks until `t` is due (at once when unpaced or already due), looking at
    /// `shutdown` at least every `sensor::MAX_BLOCK`; false when it was triggered.
    pub fn wait_until(&self, t: Timestamp, shutdown: &Shutdown) -> bool {
        let Pacing::Clock {
            clock,
            speed,
            origin,
        } = &self.pacing
        else {
            return !shutdown.is_triggered();
        };
        let due = due_time(t, *origin, *speed);
        loop {
            let now = clock.now();
            if now >= due {
                return !shutdown.is_triggered();
            }
            let wait = Duration::from_nanos(due.since(now)).min(super::MAX_BLOCK);
            if shutdown.wait_timeout(wait) {
                return false;
            }
        }
    }
}

/// `origin + (t - origin) / speed` (a sample before the origin is due at once).
fn due_time(t: Timestamp, origin: Timestamp, speed: f64) -> Timestamp {
    let ahead = t.since(origin) as f64 / speed.max(1e-6);
    origin.add_nanos(ahead.min(u64::MAX as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;

    #[test]
    fn due_time_scales_the_distance_from_the_origin() {
        let o = Timestamp(1_000);
        assert_eq!(due_time(Timestamp(3_000), o, 2.0), Timestamp(2_000));
        assert_eq!(due_time(Timestamp(500), o, 2.0), o);
        assert_eq!(due_time(Timestamp(3_000), o, 0.5), Timestamp(5_000));
    }

    #[test]
    fn a_paced_wait_returns_once_due_and_stops_on_shutdown() {
        let clock = Arc::new(ManualClock::new(Timestamp(0)));
        let pacer = Pacer::new(Pacing::Clock {
            clock: clock.clone(),
            speed: 1.0,
            origin: Timestamp(0),
        });
        let shutdown = Shutdown::new();
        clock.set(Timestamp(50));
        assert!(pacer.wait_until(Timestamp(50), &shutdown));
        let s = shutdown.clone();
        let waiter = std::thread::spawn(move || pacer.wait_until(Timestamp(10_000_000_000), &s));
        std::thread::sleep(Duration::from_millis(30));
        shutdown.trigger();
        assert!(
            !waiter.join().unwrap(),
            "the wait ends on shutdown, not on the clock"
        );
    }
}
