//! The device data path as a library: a source thread feeds a bounded channel,
//! the aligner cuts windows from it, and the caller encodes and learns.
//!
//! Threads are plain `std::thread`s joined by `crossbeam-channel` bounded channels.
//! A full channel applies its named `ChannelPolicy` and counts what it dropped:
//! live video uses `DropOldest` (a stale frame is worth less than a fresh one), IMU
//! and replay use `Block` (nothing is lost; the source waits).

use crate::align::{AlignError, AlignStats, Aligner, WindowSpec};
use crate::dataset::Clip;
use crate::sample::Sample;
use crate::sensor::replay::{Pacing, ReplaySource};
use crate::sensor::{Source, SourceError};
use crate::time::Timestamp;
use crate::window::Window;
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What a full channel does with a new sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelPolicy {
    /// The sender waits for room: nothing is dropped.
    Block,
    /// The oldest queued sample is dropped to make room (counted).
    DropOldest,
}

/// Why the pipeline stopped early.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("aligner: {0}")]
    Align(#[from] AlignError),
    #[error("source thread panicked")]
    SourcePanicked,
}

/// A running source thread and the receiving end of its channel.
pub struct SourceFeed {
    rx: Receiver<Sample>,
    thread: Option<JoinHandle<Result<(), SourceError>>>,
    dropped: Arc<AtomicU64>,
    shutdown: Arc<AtomicBool>,
}

impl SourceFeed {
    /// Starts `source` on its own thread, sending into a channel of `capacity`.
    pub fn spawn(source: Box<dyn Source>, capacity: usize, policy: ChannelPolicy) -> SourceFeed {
        let (tx, rx) = bounded(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let shutdown = Arc::new(AtomicBool::new(false));
        let sender = PolicySender {
            tx,
            rx: rx.clone(),
            policy,
            dropped: dropped.clone(),
        };
        let stop = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name("mmcl-source".into())
            .spawn(move || pump(source, sender, stop))
            .ok();
        SourceFeed {
            rx,
            thread,
            dropped,
            shutdown,
        }
    }

    /// Samples dropped by the channel policy so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits for the source thread; its error, if it stopped on one.
    fn join(&mut self) -> Result<(), PipelineError> {
        match self.thread.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result.map_err(PipelineError::from),
            Some(Err(_)) => Err(PipelineError::SourcePanicked),
        }
    }
}

impl Drop for SourceFeed {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::Relaxed);
        // Unblock a sender waiting on a full channel, then let the thread end.
        while self.rx.try_recv().is_ok() {}
        let _ = self.join();
    }
}

struct PolicySender {
    tx: Sender<Sample>,
    /// A receiver clone, used only to drop the oldest sample under `DropOldest`.
    rx: Receiver<Sample>,
    policy: ChannelPolicy,
    dropped: Arc<AtomicU64>,
}

impl PolicySender {
    /// False when the receiving side is gone.
    fn send(&self, mut sample: Sample) -> bool {
        if self.policy == ChannelPolicy::Block {
            return self.tx.send(sample).is_ok();
        }
        loop {
            match self.tx.try_send(sample) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if self.rx.try_recv().is_ok() {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    sample = back;
                }
            }
        }
    }
}

fn pump(
    mut source: Box<dyn Source>,
    sender: PolicySender,
    shutdown: Arc<AtomicBool>,
) -> Result<(), SourceError> {
    while !shutdown.load(Ordering::Relaxed) {
        let Some(sample) = source.next_sample()? else {
            break;
        };
        if !sender.send(sample) {
            break;
        }
    }
    Ok(())
}

/// Windows cut from one source feed, in order; ends when the source ends.
pub struct WindowStream {
    feed: SourceFeed,
    aligner: Option<Aligner>,
    ready: VecDeque<Window>,
    stats: Option<AlignStats>,
    /// Samples the aligner refused (e.g. a frame of the wrong size), counted, not fatal.
    rejected: u64,
}

impl WindowStream {
    /// Cuts windows from `feed` with `spec`, the window grid starting at `start`.
    pub fn new(
        feed: SourceFeed,
        spec: WindowSpec,
        start: Timestamp,
    ) -> Result<WindowStream, PipelineError> {
        let modalities = [crate::sample::Modality::Video, crate::sample::Modality::Imu];
        let aligner = Aligner::new(spec, start, &modalities)?;
        Ok(WindowStream {
            feed,
            aligner: Some(aligner),
            ready: VecDeque::new(),
            stats: None,
            rejected: 0,
        })
    }

    /// The aligner's counters (final once the stream has ended).
    pub fn stats(&self) -> Option<AlignStats> {
        self.aligner.as_ref().map(Aligner::stats).or(self.stats)
    }

    /// Samples dropped by the channel plus samples the aligner refused.
    pub fn dropped(&self) -> (u64, u64) {
        (self.feed.dropped(), self.rejected)
    }

    fn refill(&mut self) -> Result<bool, PipelineError> {
        let Some(aligner) = self.aligner.as_mut() else {
            return Ok(false);
        };
        match self.feed.rx.recv() {
            Ok(sample) => {
                if aligner.push(sample).is_err() {
                    self.rejected += 1;
                }
                self.ready.extend(aligner.pop_ready());
            }
            Err(_) => {
                self.feed.join()?;
                if let Some(aligner) = self.aligner.take() {
                    self.stats = Some(aligner.stats());
                    self.ready.extend(aligner.finish());
                }
            }
        }
        Ok(true)
    }
}

impl Iterator for WindowStream {
    type Item = Result<Window, PipelineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(w) = self.ready.pop_front() {
                return Some(Ok(w));
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Plays dataset clips back to back through a replay source, a bounded channel and
/// the aligner, as the daemon's pipeline does with live sensors; returns every window
/// with at least one modality. Clips are separated by more than a window of silence,
/// so no window mixes two clips.
pub fn replay_windows(clips: Vec<Clip>, spec: &WindowSpec) -> Result<Vec<Window>, PipelineError> {
    let gap = spec.len_ns() + spec.stride_ns();
    let source = ReplaySource::new(clips, Timestamp::ZERO, gap, Pacing::Unpaced);
    let feed = SourceFeed::spawn(Box::new(source), REPLAY_CAPACITY, ChannelPolicy::Block);
    let mut windows = Vec::new();
    for w in WindowStream::new(feed, spec.clone(), Timestamp::ZERO)? {
        let w = w?;
        if !w.is_empty() {
            windows.push(w);
        }
    }
    Ok(windows)
}

/// Samples queued between a replay source and the aligner.
const REPLAY_CAPACITY: usize = 256;

#[cfg(test)]
mod tests;
