//! The aligner thread: fan-in from every source channel (one `Select` over them
//! and the shutdown signal), windows out on the bounded window channel.
//!
//! Each time a sample arrives it takes whatever else is already queued on every
//! channel (at most one channel's capacity each), sorts that batch by time and
//! pushes it: samples that waited in different queues reach the aligner in time
//! order, so queueing adds no skew between modalities (the skew condition of
//! docs/align.md is then about when sources produce, which pacing bounds). A
//! source whose channel closes (it ended or failed) is dropped from the select;
//! its modality goes absent through the aligner's stall rule while the others go
//! on. When every source has ended, `finish` flushes the last windows.

use super::channel::{Gauge, PolicySender, Sent};
use super::health::{lock, AlignCell, StageState};
use super::stage::{PipelineError, StageEnd};
use crate::align::Aligner;
use crate::sample::{Modality, Sample};
use crate::shutdown::Shutdown;
use crate::window::Window;
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use std::sync::{Arc, Mutex};

/// A window as the aligner emitted it, with its place in the sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqWindow {
    /// 0 for the aligner's first window, +1 per window (empty ones included).
    pub seq: u64,
    pub window: Window,
}

/// One source channel as the aligner reads it.
pub(super) struct Input {
    pub rx: Receiver<Sample>,
    pub gauge: Arc<Gauge>,
}

pub(super) struct AlignStage {
    pub aligner: Aligner,
    pub inputs: Vec<Input>,
    pub emitter: Emitter,
    pub cell: Arc<Mutex<AlignCell>>,
    /// Dropped when this thread ends: tells the sources the aligner is gone.
    pub _downstream: Sender<()>,
}

/// The window channel's sending side, numbering windows as they go.
pub(super) struct Emitter {
    pub out: PolicySender<SeqWindow>,
    pub shutdown: Shutdown,
    pub next_seq: u64,
}

impl Emitter {
    /// Sends windows in order; `Some(end)` when the consumer is gone or shutdown came.
    fn send_all(&mut self, windows: Vec<Window>) -> Option<StageEnd> {
        for window in windows {
            let seq = self.next_seq;
            self.next_seq += 1;
            match self.out.send(SeqWindow { seq, window }, &self.shutdown) {
                Sent::Queued => {}
                Sent::Closed => return Some(StageEnd::Abandoned),
                Sent::Stopped => return Some(StageEnd::Stopped),
            }
        }
        None
    }
}

impl AlignStage {
    pub fn run(mut self) -> Result<StageEnd, PipelineError> {
        let inputs = std::mem::take(&mut self.inputs);
        let cell = self.cell.clone();
        let end = self.select_loop(&inputs);
        lock(&cell).state = StageState::Ended;
        end
    }

    fn select_loop(mut self, inputs: &[Input]) -> Result<StageEnd, PipelineError> {
        let mut select = Select::new();
        for input in inputs {
            select.recv(&input.rx);
        }
        let shutdown = self.emitter.shutdown.clone();
        let stop = select.recv(shutdown.signal());
        let mut open = inputs.len();
        loop {
            let op = select.select();
            let i = op.index();
            let Some(input) = inputs.get(i).filter(|_| i != stop) else {
                let _ = op.recv(shutdown.signal());
                return Ok(StageEnd::Stopped);
            };
            match op.recv(&input.rx) {
                Ok(sample) => {
                    if let Some(end) = self.take_batch(sample, inputs) {
                        return Ok(end);
                    }
                }
                Err(_) => {
                    select.remove(i);
                    open -= 1;
                    if open == 0 {
                        return Ok(self.finish());
                    }
                }
            }
        }
    }

    /// Pushes `first` and everything already queued, in time order, then emits.
    fn take_batch(&mut self, first: Sample, inputs: &[Input]) -> Option<StageEnd> {
        let mut batch = vec![first];
        for input in inputs {
            for _ in 0..input.gauge.capacity {
                match input.rx.try_recv() {
                    Ok(sample) => batch.push(sample),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            input.gauge.set_depth(input.rx.len());
        }
        // Stable: a source's own order is kept among equal times.
        batch.sort_by_key(Sample::t);
        for sample in batch {
            if let Err(e) = self.aligner.push(sample) {
                lock(&self.cell).last_error = Some(e.to_string());
            }
        }
        let windows = self.aligner.pop_ready();
        self.report();
        self.emitter.send_all(windows)
    }

    fn report(&self) {
        let mut cell = lock(&self.cell);
        cell.stats = self.aligner.stats();
        for &m in self.aligner.modalities() {
            cell.buffered.insert(m, self.aligner.buffered(m));
        }
    }

    /// Every source has ended: flush the aligner. Its stats are read before
    /// `finish` (which consumes it); the flushed windows are added by hand.
    fn finish(self) -> StageEnd {
        let AlignStage {
            aligner,
            mut emitter,
            cell,
            ..
        } = self;
        let mut stats = aligner.stats();
        let modalities = aligner.modalities().to_vec();
        let windows = aligner.finish();
        stats.windows_emitted += windows.len() as u64;
        for w in &windows {
            for m in modalities.iter().filter(|m| !w.is_present(**m)) {
                count_absent(&mut stats, *m);
            }
        }
        {
            let mut cell = lock(&cell);
            cell.stats = stats;
            cell.buffered.values_mut().for_each(|n| *n = 0);
        }
        emitter.send_all(windows).unwrap_or(StageEnd::Finished)
    }
}

fn count_absent(stats: &mut crate::align::AlignStats, m: Modality) {
    match m {
        Modality::Video => stats.video.windows_absent += 1,
        Modality::Imu => stats.imu.windows_absent += 1,
        Modality::Audio => stats.audio.windows_absent += 1,
    }
}
