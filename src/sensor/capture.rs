//! A device read on a thread of its own. Camera and sound drivers block in
//! their read (nokhwa's `frame()` has no timeout) or call back on their thread
//! (cpal), and their handles are not `Send`; the `Source` contract asks for
//! reads that look at the shutdown every `MAX_BLOCK`. So the device is opened
//! *in* a capture thread, which reports how the open went (`Ready`) and then
//! hands samples over a small queue (`Feed`); `next_sample` waits on that
//! queue in `MAX_BLOCK` steps.
//!
//! The queue keeps the newest samples: when the pipeline does not ask in time,
//! `Feed::push` drops the oldest and counts it on the monitor. Dropping the
//! `Capture` asks the thread to stop; it is not joined (a driver stuck in a
//! read must not hang the pipeline), it ends at its next look at the flag.

use super::{SourceError, SourceMonitor, MAX_BLOCK};
use crate::sample::Sample;
use crate::shutdown::Shutdown;
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Item = Result<Sample, SourceError>;

/// The capture thread's end of the queue.
pub struct Feed {
    tx: Sender<Item>,
    /// A receiver kept to drop the oldest item when the queue is full.
    oldest: Receiver<Item>,
    stop: Arc<AtomicBool>,
    monitor: SourceMonitor,
}

impl Feed {
    /// Queues `item`, dropping (and counting) the oldest when full; false when
    /// the source is gone or asked the thread to stop.
    pub fn push(&self, item: Item) -> bool {
        let mut item = item;
        loop {
            if self.stopped() {
                return false;
            }
            match self.tx.try_send(item) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    item = back;
                    if self.oldest.try_recv().is_ok() {
                        self.monitor.add_capture_dropped(1);
                    }
                }
            }
        }
    }

    /// True once the source was dropped.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// How the capture thread reports its open: once, before any sample.
pub type Ready<O> = Sender<Result<O, SourceError>>;

/// The source's end: the queue and the stop flag.
pub struct Capture {
    rx: Receiver<Item>,
    stop: Arc<AtomicBool>,
    name: String,
}

impl Capture {
    /// Runs `body` on a new thread named `name` and waits (at most `timeout`,
    /// and never past the shutdown) for it to report its open through `Ready`.
    pub fn start<O, F>(
        name: &str,
        capacity: usize,
        timeout: Duration,
        monitor: SourceMonitor,
        shutdown: &Shutdown,
        body: F,
    ) -> Result<(Capture, O), SourceError>
    where
        O: Send + 'static,
        F: FnOnce(Feed, Ready<O>) + Send + 'static,
    {
        let action = format!("open {name}");
        let (tx, rx) = bounded(capacity.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let feed = Feed {
            tx,
            oldest: rx.clone(),
            stop: stop.clone(),
            monitor,
        };
        let (ready_tx, ready_rx) = bounded(1);
        std::thread::Builder::new()
            .name(format!("capture-{name}"))
            .spawn(move || body(feed, ready_tx))
            .map_err(|e| {
                SourceError::fatal(&action, format!("cannot start its capture thread: {e}"))
            })?;
        let capture = Capture {
            rx,
            stop,
            name: name.to_string(),
        };
        let opened = wait_ready(&ready_rx, timeout, shutdown, &action)?;
        Ok((capture, opened))
    }

    /// The next captured sample, waiting in `MAX_BLOCK` steps; `None` on shutdown.
    pub fn next(&self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        while !shutdown.is_triggered() {
            match self.rx.recv_timeout(MAX_BLOCK) {
                Ok(item) => return item.map(Some),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let action = format!("capture from {}", self.name);
                    return Err(SourceError::fatal(action, "the capture thread ended"));
                }
            }
        }
        Ok(None)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn wait_ready<O>(
    ready: &Receiver<Result<O, SourceError>>,
    timeout: Duration,
    shutdown: &Shutdown,
    action: &str,
) -> Result<O, SourceError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let why = format!("the device did not open within {} ms", timeout.as_millis());
            return Err(SourceError::fatal(action, why));
        }
        if shutdown.is_triggered() {
            return Err(SourceError::fatal(
                action,
                "stopped before the device opened",
            ));
        }
        match ready.recv_timeout(left.min(MAX_BLOCK)) {
            Ok(opened) => return opened,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(SourceError::fatal(
                    action,
                    "the capture thread ended before the device opened",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{AudioChunk, Sample};
    use crate::time::Timestamp;

    fn chunk(t: u64) -> Item {
        Ok(Sample::Audio(AudioChunk {
            t: Timestamp(t),
            rate_hz: 8000,
            pcm: vec![0.0; 4],
        }))
    }

    #[test]
    fn a_full_queue_keeps_the_newest_and_counts_the_dropped() {
        let monitor = SourceMonitor::new();
        let shutdown = Shutdown::new();
        let (capture, opened) = Capture::start(
            "test",
            2,
            Duration::from_secs(1),
            monitor.clone(),
            &shutdown,
            |feed, ready| {
                ready.send(Ok(7)).unwrap();
                for t in 0..5 {
                    feed.push(chunk(t));
                }
            },
        )
        .unwrap();
        assert_eq!(opened, 7);
        std::thread::sleep(Duration::from_millis(50));
        let times: Vec<u64> = (0..2)
            .map(|_| capture.next(&shutdown).unwrap().unwrap().t().nanos())
            .collect();
        assert_eq!(times, [3, 4]);
        assert_eq!(monitor.report(Instant::now()).capture_dropped, 3);
        assert!(capture.next(&shutdown).is_err(), "the thread ended: fatal");
    }

    #[test]
    fn an_open_failure_or_a_silent_thread_is_an_error() {
        let shutdown = Shutdown::new();
        let failed = Capture::start::<(), _>(
            "cam",
            1,
            Duration::from_secs(1),
            SourceMonitor::new(),
            &shutdown,
            |_, ready| {
                ready
                    .send(Err(SourceError::fatal("open cam", "no such device")))
                    .unwrap();
            },
        );
        assert_eq!(
            failed.err().unwrap().to_string(),
            "open cam: no such device"
        );
        let silent = Capture::start::<(), _>(
            "cam",
            1,
            Duration::from_millis(60),
            SourceMonitor::new(),
            &shutdown,
            |feed, _ready| {
                while !feed.stopped() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            },
        );
        assert!(silent
            .err()
            .unwrap()
            .to_string()
            .contains("did not open within 60 ms"));
    }
}
