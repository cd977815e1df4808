//! The encoder thread: windows in as they come, encoded windows out.
//!
//! It takes one window, then whatever else is already queued up to the
//! encoder's batch size, so a backlog is encoded in batches while a steady
//! stream is encoded window by window with no added wait. Windows with no
//! modality present carry nothing to encode and are passed over (counted). An
//! encoder error ends the thread with the error; upstream stages then stop.
//! Windows go through the stage's `FrameCache`: with a model that has a frame
//! stage, each frame of the stream runs through the video network once, and a
//! window costs its new frames plus one fuse.

use super::align_stage::SeqWindow;
use super::channel::{PolicySender, Sent};
use super::health::{lock, EncodeCell, StageState};
use super::stage::{PipelineError, StageEnd};
use crate::encode::{Encoded, Encoder, FrameCache};
use crate::sample::Modality;
use crate::shutdown::Shutdown;
use crate::time::Timestamp;
use crate::window::Window;
use crossbeam_channel::{select, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One encoded window: what the daemon's predictor and enrollment consume.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedWindow {
    /// The aligner's sequence number of the window.
    pub seq: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The modalities present in the window, in `Modality::ALL` order.
    pub present: Vec<Modality>,
    /// The fused and per-modality embeddings.
    pub encoded: Encoded,
}

pub(super) struct EncodeStage {
    pub encoder: Box<dyn Encoder>,
    /// Sized for the aligner's window and stride (`FrameCache::for_spec`).
    pub frames: FrameCache,
    pub input: Receiver<SeqWindow>,
    pub out: PolicySender<EncodedWindow>,
    pub cell: Arc<Mutex<EncodeCell>>,
    pub shutdown: Shutdown,
}

impl EncodeStage {
    pub fn run(mut self) -> Result<StageEnd, PipelineError> {
        let result = self.serve();
        let mut cell = lock(&self.cell);
        cell.state = match &result {
            Ok(_) => StageState::Ended,
            Err(e) => {
                cell.last_error = Some(e.to_string());
                StageState::Failed
            }
        };
        result
    }

    fn serve(&mut self) -> Result<StageEnd, PipelineError> {
        loop {
            let first = select! {
                recv(self.input) -> w => match w {
                    Ok(w) => w,
                    Err(_) => return Ok(StageEnd::Finished),
                },
                recv(self.shutdown.signal()) -> _ => return Ok(StageEnd::Stopped),
            };
            let batch = self.take_queued(first);
            let encoded = self.encode(batch)?;
            for item in encoded {
                match self.out.send(item, &self.shutdown) {
                    Sent::Queued => {}
                    Sent::Closed => return Ok(StageEnd::Abandoned),
                    Sent::Stopped => return Ok(StageEnd::Stopped),
                }
            }
        }
    }

    /// `first` and the windows already queued, up to a batch, empty ones left out.
    fn take_queued(&mut self, first: SeqWindow) -> Vec<SeqWindow> {
        let most = self.encoder.batch_size().max(1);
        let mut batch = vec![first];
        while batch.len() < most {
            match self.input.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let before = batch.len();
        batch.retain(|w| !w.window.is_empty());
        lock(&self.cell).windows_skipped_empty += (before - batch.len()) as u64;
        batch
    }

    fn encode(&mut self, batch: Vec<SeqWindow>) -> Result<Vec<EncodedWindow>, PipelineError> {
        let n = batch.len();
        let since = Instant::now();
        let encoded = encode_windows(self.encoder.as_mut(), &mut self.frames, batch)?;
        if n > 0 {
            self.note(since, n);
        }
        Ok(encoded)
    }

    fn note(&self, since: Instant, n: usize) {
        let per_window = since.elapsed().as_secs_f64() * 1e3 / n.max(1) as f64;
        let mut cell = lock(&self.cell);
        cell.frames = self.frames.counts();
        cell.batches += 1;
        cell.windows_encoded += n as u64;
        for _ in 0..n {
            cell.ms_per_window.push(per_window);
        }
    }
}

/// Encodes one batch of windows in order, through `frames`; the error names
/// the encoder and the windows' sequence numbers.
pub(super) fn encode_windows(
    encoder: &mut dyn Encoder,
    frames: &mut FrameCache,
    batch: Vec<SeqWindow>,
) -> Result<Vec<EncodedWindow>, PipelineError> {
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
        return Ok(Vec::new());
    };
    let (first_seq, last_seq) = (first.seq, last.seq);
    let (seqs, windows): (Vec<u64>, Vec<Window>) =
        batch.into_iter().map(|w| (w.seq, w.window)).unzip();
    let encoded = frames
        .encode(encoder, &windows)
        .map_err(|error| PipelineError::Encode {
            encoder: encoder.contract().name.clone(),
            first_seq,
            last_seq,
            error,
        })?;
    Ok(windows
        .into_iter()
        .zip(seqs)
        .zip(encoded)
        .map(|((w, seq), encoded)| EncodedWindow {
            seq,
            start: w.start,
            end: w.end,
            present: w.present(),
            encoded,
        })
        .collect())
}
