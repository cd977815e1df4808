//! Prediction events fanned out to subscribers (`mmcl watch`). The predictor never waits
//! for a subscriber: each has a bounded queue; when it is full the oldest event is dropped
//! and counted, and the subscriber is told how many it missed (`Event::Lagged`) as soon as
//! there is room. A subscriber whose `Subscription` was dropped is removed.

use crate::control::api::{Event, Subscription};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Events held per subscriber before the oldest is dropped.
pub const SUBSCRIBER_CAPACITY: usize = 256;
/// Subscribers at once; past this a new one is refused by closing its stream at once.
pub const MAX_SUBSCRIBERS: usize = 64;

struct Subscriber {
    tx: Sender<Event>,
    /// A second receiver of the subscriber's queue, used only to drop its oldest event.
    oldest: Receiver<Event>,
    /// Cleared when the subscriber drops its `Subscription`.
    alive: Arc<AtomicBool>,
    missed: u64,
}

/// Every current subscriber.
#[derive(Default)]
pub struct Subscribers {
    list: Mutex<Vec<Subscriber>>,
}

impl Subscribers {
    /// A new subscriber's stream (disconnected at once when `MAX_SUBSCRIBERS` are reading).
    pub fn subscribe(&self) -> Subscription {
        let (tx, rx) = bounded(SUBSCRIBER_CAPACITY);
        let alive = Arc::new(AtomicBool::new(true));
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|s| s.alive.load(Ordering::Relaxed));
        if list.len() < MAX_SUBSCRIBERS {
            list.push(Subscriber {
                tx,
                oldest: rx.clone(),
                alive: alive.clone(),
                missed: 0,
            });
        }
        // Past the limit the sender is dropped here: the stream ends at once.
        Subscription::new(rx, alive)
    }

    /// Sends `event` to everyone, never blocking.
    pub fn publish(&self, event: &Event) {
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain_mut(|s| deliver(s, event));
    }

    /// Subscribers now (each dropped subscription is removed at the next publish).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.list
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// False when the subscriber is gone.
fn deliver(s: &mut Subscriber, event: &Event) -> bool {
    if !s.alive.load(Ordering::Relaxed) {
        return false;
    }
    if s.missed > 0 && s.tx.len() + 1 < SUBSCRIBER_CAPACITY {
        let _ = s.tx.try_send(Event::Lagged { missed: s.missed });
        s.missed = 0;
    }
    match s.tx.try_send(event.clone()) {
        Ok(()) => true,
        Err(TrySendError::Disconnected(_)) => false,
        Err(TrySendError::Full(e)) => {
            if s.oldest.try_recv().is_ok() {
                s.missed += 1;
            }
            let _ = s.tx.try_send(e);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lagged(e: &Event) -> Option<u64> {
        match e {
            Event::Lagged { missed } => Some(*missed),
            _ => None,
        }
    }

    #[test]
    fn a_slow_subscriber_loses_its_oldest_events_and_is_told_how_many() {
        let subs = Subscribers::default();
        let rx = subs.subscribe();
        let event = Event::Lagged { missed: 0 };
        for _ in 0..SUBSCRIBER_CAPACITY + 10 {
            subs.publish(&event);
        }
        assert_eq!(rx.len(), SUBSCRIBER_CAPACITY, "bounded");
        for _ in 0..20 {
            rx.recv().unwrap();
        }
        subs.publish(&event);
        let got: Vec<Event> = rx.try_iter().collect();
        assert_eq!(got.iter().filter_map(lagged).find(|m| *m > 0), Some(10));
    }

    #[test]
    fn a_gone_subscriber_is_removed() {
        let subs = Subscribers::default();
        let rx = subs.subscribe();
        let _kept = subs.subscribe();
        drop(rx);
        subs.publish(&Event::Lagged { missed: 0 });
        assert_eq!(subs.len(), 1);
    }
}
