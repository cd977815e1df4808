//! A source thread: asks its `Source` for samples, reduces frames to the
//! pipeline's frame size, and sends each sample into its modality's channel.
//!
//! Transient errors are counted and retried after a back-off that grows while
//! they repeat (a source failing every call must not spin a core); a fatal error
//! ends the thread with the error, by the source's name. The health cell is
//! updated per sample, and a guard marks the source failed if it panics.

use super::channel::{SampleSender, Sent};
use super::health::{lock, SourceCell, SourceState};
use super::reduce::reduce_frame;
use super::stage::{PipelineError, StageEnd};
use crate::sample::{Modality, Sample};
use crate::sensor::{Source, SourceError, MAX_BLOCK};
use crate::shutdown::Shutdown;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The first wait after a transient error; doubled per repeat up to `MAX_BLOCK`.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);

pub(super) struct SourceStage {
    pub source: Box<dyn Source>,
    /// One channel per modality the source emits.
    pub senders: Vec<(Modality, SampleSender)>,
    /// Frames are reduced to this (width, height) before they are sent.
    pub frame_size: Option<(u32, u32)>,
    pub cell: Arc<Mutex<SourceCell>>,
    pub shutdown: Shutdown,
}

/// Marks the source failed when its thread unwinds from a panic.
struct PanicGuard(Arc<Mutex<SourceCell>>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut cell = lock(&self.0);
            cell.state = SourceState::Failed;
            cell.last_error = Some("the source thread panicked".into());
        }
    }
}

impl SourceStage {
    pub fn run(mut self) -> Result<StageEnd, PipelineError> {
        let _guard = PanicGuard(self.cell.clone());
        let result = self.pump();
        let mut cell = lock(&self.cell);
        cell.state = match &result {
            Ok(_) => SourceState::Ended,
            Err(_) => SourceState::Failed,
        };
        result
    }

    fn pump(&mut self) -> Result<StageEnd, PipelineError> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.shutdown.is_triggered() {
                return Ok(StageEnd::Stopped);
            }
            if self.senders.iter().all(|(_, s)| s.is_closed()) {
                return Ok(StageEnd::Abandoned);
            }
            match self.source.next_sample(&self.shutdown) {
                Ok(Some(sample)) => {
                    backoff = FIRST_BACKOFF;
                    if let Some(end) = self.deliver(sample) {
                        return Ok(end);
                    }
                }
                Ok(None) if self.shutdown.is_triggered() => return Ok(StageEnd::Stopped),
                Ok(None) => return Ok(StageEnd::Finished),
                Err(e) if e.is_transient() => {
                    self.note_error(&e, false);
                    if self.shutdown.wait_timeout(backoff) {
                        return Ok(StageEnd::Stopped);
                    }
                    backoff = (backoff * 2).min(MAX_BLOCK);
                }
                Err(e) => {
                    self.note_error(&e, true);
                    let name = self.source.name().to_string();
                    return Err(PipelineError::Source { name, error: e });
                }
            }
        }
    }

    /// Sends one sample; `Some(end)` when the thread must stop.
    fn deliver(&mut self, sample: Sample) -> Option<StageEnd> {
        let m = sample.modality();
        let Some(sender) = self.senders.iter().find(|(x, _)| *x == m).map(|(_, s)| s) else {
            let why = format!("emitted a {m} sample, a modality it did not declare");
            self.note_error(&SourceError::transient("check sample", why), false);
            return None;
        };
        let sample = match (sample, self.frame_size) {
            (Sample::Frame(f), Some(size)) => Sample::Frame(reduce_frame(f, size)),
            (s, _) => s,
        };
        let t = sample.t();
        match sender.send(sample, &self.shutdown) {
            Sent::Queued => {}
            Sent::Closed => return Some(StageEnd::Abandoned),
            Sent::Stopped => return Some(StageEnd::Stopped),
        }
        let expected = self.source.expected_rate_hz(m);
        let mut cell = lock(&self.cell);
        cell.state = SourceState::Running;
        cell.last_sample_ns = Some(t.nanos());
        if let Some(stream) = cell.stream_mut(m) {
            stream.delivered += 1;
            stream.rate.tick(Instant::now());
            stream.expected_rate_hz = expected;
            stream.note_time(t.nanos());
        }
        None
    }

    fn note_error(&self, e: &SourceError, fatal: bool) {
        let mut cell = lock(&self.cell);
        match fatal {
            true => cell.fatal_errors += 1,
            false => cell.transient_errors += 1,
        }
        cell.last_error = Some(e.to_string());
    }
}
