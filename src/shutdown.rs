//! `Shutdown`: the one stop signal of a running pipeline, made by the caller and
//! handed to every stage (DESIGN.md: "a `Shutdown` handle is passed in, never
//! hidden"). The daemon triggers it on SIGTERM; tests trigger it by hand.
//!
//! It is a crossbeam channel that never carries a message: `trigger` drops the
//! only sender, which closes the channel, so every clone of the receiver becomes
//! ready at once. A stage waiting on data can therefore `select!` over its input
//! and `signal()` and wake the instant the pipeline is asked to stop, with no
//! polling interval to tune.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A cloneable stop signal; every clone sees the same trigger.
#[derive(Debug, Clone)]
pub struct Shutdown {
    /// The sender whose drop closes the channel; `None` once triggered.
    trigger: Arc<Mutex<Option<Sender<()>>>>,
    signal: Receiver<()>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Shutdown {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Shutdown {
            trigger: Arc::new(Mutex::new(Some(tx))),
            signal: rx,
        }
    }

    /// Asks every holder to stop. Idempotent; never blocks for long (one lock).
    pub fn trigger(&self) {
        // A poisoned lock still holds the sender; taking it is all trigger does.
        let mut slot = match self.trigger.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        slot.take();
    }

    pub fn is_triggered(&self) -> bool {
        matches!(
            self.signal.try_recv(),
            Err(crossbeam_channel::TryRecvError::Disconnected)
        )
    }

    /// Sleeps up to `d`, waking at once on trigger; true when triggered.
    pub fn wait_timeout(&self, d: Duration) -> bool {
        matches!(
            self.signal.recv_timeout(d),
            Err(RecvTimeoutError::Disconnected)
        )
    }

    /// The receiver that becomes ready (disconnected) on trigger, for
    /// `crossbeam_channel::select!` next to a stage's own channels. It never
    /// yields a message: a `recv` on it returns `Err` exactly when triggered.
    pub fn signal(&self) -> &Receiver<()> {
        &self.signal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn trigger_is_seen_by_every_clone_and_is_idempotent() {
        let a = Shutdown::new();
        let b = a.clone();
        assert!(!a.is_triggered() && !b.is_triggered());
        assert!(!b.wait_timeout(Duration::from_millis(1)));
        b.trigger();
        b.trigger();
        assert!(a.is_triggered() && b.is_triggered());
        assert!(a.wait_timeout(Duration::from_secs(10)));
    }

    #[test]
    fn a_waiter_wakes_at_once_on_trigger() {
        let s = Shutdown::new();
        let waiter = s.clone();
        let t0 = Instant::now();
        let handle = std::thread::spawn(move || waiter.wait_timeout(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        s.trigger();
        assert!(handle.join().unwrap());
        // Far below the 30 s timeout: the wait ended on the trigger.
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }

    #[test]
    fn select_wakes_on_the_signal() {
        let s = Shutdown::new();
        let (_tx, rx) = crossbeam_channel::bounded::<u8>(1);
        s.trigger();
        crossbeam_channel::select! {
            recv(rx) -> _ => panic!("no data was sent"),
            recv(s.signal()) -> msg => assert!(msg.is_err()),
        }
    }
}
