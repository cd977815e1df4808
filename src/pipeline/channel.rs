//! A source's channel into the aligner: the sending side applies the channel's
//! `ChannelPolicy` and counts what it cost (samples dropped, time blocked) on a
//! `Gauge` that health reads.
//!
//! `DropOldest` needs a receiver of its own to pop the oldest sample, and a
//! crossbeam sender never sees "disconnected" while any receiver lives; so the
//! aligner holds a token (a `Sender<()>` never used to send) whose drop tells
//! the source it is gone.

use super::settings::{ChannelPolicy, ChannelSettings};
use crate::sample::Sample;
use crate::shutdown::Shutdown;
use crossbeam_channel::{select, Receiver, Sender, TryRecvError, TrySendError};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Live counters of one channel.
#[derive(Debug)]
pub struct Gauge {
    pub name: String,
    pub capacity: usize,
    pub policy: ChannelPolicy,
    depth: AtomicUsize,
    dropped: AtomicU64,
    blocked_ns: AtomicU64,
}

impl Gauge {
    pub fn new(name: String, capacity: usize, policy: ChannelPolicy) -> Arc<Gauge> {
        Arc::new(Gauge {
            name,
            capacity,
            policy,
            depth: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            blocked_ns: AtomicU64::new(0),
        })
    }

    /// Items queued when last looked at (by either end).
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    pub fn set_depth(&self, depth: usize) {
        self.depth.store(depth, Ordering::Relaxed);
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn blocked_ns(&self) -> u64 {
        self.blocked_ns.load(Ordering::Relaxed)
    }

    pub fn add_blocked(&self, since: Instant) {
        let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.blocked_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// What became of a sample handed to `PolicySender::send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Queued,
    /// The receiving stage is gone: stop producing.
    Closed,
    /// The shutdown was triggered while waiting for room.
    Stopped,
}

/// The sending end of one channel, with its policy.
pub struct PolicySender<T> {
    tx: Sender<T>,
    /// Only under `DropOldest`: to pop the oldest item.
    rx: Option<Receiver<T>>,
    /// Disconnected once the receiving stage ends; `None`: rely on the channel
    /// itself (no receiver clone is held, so a send sees the disconnection).
    downstream: Option<Receiver<()>>,
    pub gauge: Arc<Gauge>,
}

/// A bounded channel with `settings`, its gauge named `name`. `downstream` is
/// the receiving stage's token; `DropOldest` needs one to notice that stage end.
pub fn channel<T>(
    name: String,
    settings: ChannelSettings,
    downstream: Option<Receiver<()>>,
) -> (PolicySender<T>, Receiver<T>, Arc<Gauge>) {
    let (tx, rx) = crossbeam_channel::bounded(settings.capacity.max(1));
    let gauge = Gauge::new(name, settings.capacity.max(1), settings.policy);
    let own_rx = (settings.policy == ChannelPolicy::DropOldest).then(|| rx.clone());
    let sender = PolicySender {
        tx,
        rx: own_rx,
        downstream,
        gauge: gauge.clone(),
    };
    (sender, rx, gauge)
}

impl<T> PolicySender<T> {
    /// Queues `item` by the channel's policy.
    pub fn send(&self, item: T, shutdown: &Shutdown) -> Sent {
        let sent = match &self.rx {
            Some(rx) => self.send_dropping(item, rx),
            None => self.send_blocking(item, shutdown),
        };
        self.gauge.set_depth(self.tx.len());
        sent
    }

    /// True once the receiving stage is known to have ended (by its token; without
    /// one, a `Block` send finds out by itself).
    pub fn is_closed(&self) -> bool {
        self.downstream
            .as_ref()
            .is_some_and(|d| matches!(d.try_recv(), Err(TryRecvError::Disconnected)))
    }

    fn send_blocking(&self, item: T, shutdown: &Shutdown) -> Sent {
        let item = match self.tx.try_send(item) {
            Ok(()) => return Sent::Queued,
            Err(TrySendError::Disconnected(_)) => return Sent::Closed,
            Err(TrySendError::Full(item)) => item,
        };
        let since = Instant::now();
        let sent = select! {
            send(self.tx, item) -> r => if r.is_ok() { Sent::Queued } else { Sent::Closed },
            recv(shutdown.signal()) -> _ => Sent::Stopped,
        };
        self.gauge.add_blocked(since);
        sent
    }

    fn send_dropping(&self, mut item: T, rx: &Receiver<T>) -> Sent {
        loop {
            if self.is_closed() {
                return Sent::Closed;
            }
            match self.tx.try_send(item) {
                Ok(()) => return Sent::Queued,
                Err(TrySendError::Disconnected(_)) => return Sent::Closed,
                Err(TrySendError::Full(back)) => {
                    if rx.try_recv().is_ok() {
                        self.gauge.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    item = back;
                }
            }
        }
    }
}

/// A sample channel (the only kind the sources use).
pub type SampleSender = PolicySender<Sample>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(capacity: usize, policy: ChannelPolicy) -> ChannelSettings {
        ChannelSettings { capacity, policy }
    }

    #[test]
    fn drop_oldest_keeps_the_newest_and_counts_the_rest() {
        let (_token, watch) = crossbeam_channel::bounded::<()>(0);
        let (tx, rx, gauge) = channel::<u32>(
            "v".into(),
            settings(3, ChannelPolicy::DropOldest),
            Some(watch),
        );
        let shutdown = Shutdown::new();
        for i in 0..10 {
            assert_eq!(tx.send(i, &shutdown), Sent::Queued);
        }
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [7, 8, 9]);
        assert_eq!((gauge.dropped(), gauge.depth()), (7, 3));
    }

    #[test]
    fn drop_oldest_sees_its_receiver_gone_through_the_token() {
        let (token, watch) = crossbeam_channel::bounded::<()>(0);
        let (tx, _rx, _) = channel::<u32>(
            "v".into(),
            settings(1, ChannelPolicy::DropOldest),
            Some(watch),
        );
        drop(token);
        assert_eq!(tx.send(1, &Shutdown::new()), Sent::Closed);
    }

    #[test]
    fn block_waits_counts_the_wait_and_stops_on_shutdown() {
        let (_token, watch) = crossbeam_channel::bounded::<()>(0);
        let (tx, rx, gauge) =
            channel::<u32>("imu".into(), settings(1, ChannelPolicy::Block), Some(watch));
        let shutdown = Shutdown::new();
        assert_eq!(tx.send(1, &shutdown), Sent::Queued);
        let reader = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            (rx.recv().unwrap(), rx)
        });
        assert_eq!(tx.send(2, &shutdown), Sent::Queued);
        let (first, _rx) = reader.join().unwrap();
        assert_eq!(first, 1);
        assert!(
            gauge.blocked_ns() >= 20_000_000,
            "{} ns",
            gauge.blocked_ns()
        );
        assert_eq!(gauge.dropped(), 0);
        shutdown.trigger();
        assert_eq!(tx.send(3, &shutdown), Sent::Stopped);
    }
}
