//! Replay: dataset clips played back as a live stream.
//!
//! Clips are played one after another on one timeline: clip k starts where clip k-1
//! ended (plus a gap), so the aligner sees what a device would. IMU rows and frames are
//! merged in timestamp order. Pacing is injected: `Pacing::Unpaced` hands samples out
//! as fast as they are asked for (benchmarks, the demo); `Pacing::Clock` waits until a
//! `Clock` reaches each sample's time divided by `speed` (a desktop replay profile).

use super::{Source, SourceError};
use crate::dataset::Clip;
use crate::sample::{Frame, ImuSample, Modality, Sample};
use crate::time::{Clock, Timestamp};
use std::collections::VecDeque;
use std::sync::Arc;

/// How replayed samples are paced.
#[derive(Clone)]
pub enum Pacing {
    Unpaced,
    Clock { clock: Arc<dyn Clock>, speed: f64 },
}

/// Plays a list of clips back to back.
pub struct ReplaySource {
    clips: VecDeque<Clip>,
    pacing: Pacing,
    /// Where the next clip starts on the replay timeline.
    next_start: Timestamp,
    /// Silence between clips, so no window spans two clips' samples.
    gap_ns: u64,
    pending: VecDeque<Sample>,
    /// Clock reading when replay started (for paced replay).
    origin: Option<Timestamp>,
    modalities: [Modality; 2],
}

impl ReplaySource {
    /// Replays `clips` starting at `start`, leaving `gap_ns` of silence between clips.
    pub fn new(clips: Vec<Clip>, start: Timestamp, gap_ns: u64, pacing: Pacing) -> ReplaySource {
        ReplaySource {
            clips: clips.into(),
            pacing,
            next_start: start,
            gap_ns,
            pending: VecDeque::new(),
            origin: None,
            modalities: [Modality::Video, Modality::Imu],
        }
    }

    /// Loads the next clip's samples, shifted onto the timeline, in timestamp order.
    fn load_next_clip(&mut self) -> Result<bool, SourceError> {
        let Some(clip) = self.clips.pop_front() else {
            return Ok(false);
        };
        let err = |source| SourceError::Dataset {
            clip: clip.id().to_string(),
            source: Box::new(source),
        };
        let offset = self.next_start;
        let imu = clip.load_imu().map_err(err)?.unwrap_or_default();
        let frames = match clip.video().map_err(err)? {
            Some(video) => {
                let all: Vec<usize> = (0..video.len()).collect();
                video.decode_many(&all).map_err(err)?
            }
            None => Vec::new(),
        };
        let duration = Timestamp::from_secs_f64(clip.duration_secs()).nanos();
        self.pending = merge(offset, imu, frames);
        self.next_start = offset.add_nanos(duration).add_nanos(self.gap_ns);
        Ok(true)
    }

    fn wait_for(&mut self, t: Timestamp) {
        let Pacing::Clock { clock, speed } = &self.pacing else {
            return;
        };
        let origin = *self.origin.get_or_insert_with(|| clock.now());
        let due = origin.add_nanos((t.nanos() as f64 / speed.max(1e-6)) as u64);
        let now = clock.now();
        if due > now {
            std::thread::sleep(std::time::Duration::from_nanos(due.since(now)));
        }
    }
}

/// Shifts both streams by `offset` and merges them by timestamp (IMU first on ties).
fn merge(offset: Timestamp, imu: Vec<ImuSample>, frames: Vec<Frame>) -> VecDeque<Sample> {
    let shift = |t: Timestamp| offset.add_nanos(t.nanos());
    let mut imu = imu.into_iter().map(|mut s| {
        s.t = shift(s.t);
        Sample::Imu(s)
    });
    let mut frames = frames.into_iter().map(|mut f| {
        f.t = shift(f.t);
        Sample::Frame(f)
    });
    let mut out = VecDeque::new();
    let (mut a, mut b) = (imu.next(), frames.next());
    loop {
        match (a.take(), b.take()) {
            (Some(x), Some(y)) if x.t() <= y.t() => {
                out.push_back(x);
                (a, b) = (imu.next(), Some(y));
            }
            (x, Some(y)) => {
                out.push_back(y);
                (a, b) = (x, frames.next());
            }
            (Some(x), None) => {
                out.push_back(x);
                a = imu.next();
            }
            (None, None) => return out,
        }
    }
}

impl Source for ReplaySource {
    fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    fn next_sample(&mut self) -> Result<Option<Sample>, SourceError> {
        while self.pending.is_empty() {
            if !self.load_next_clip()? {
                return Ok(None);
            }
        }
        let Some(sample) = self.pending.pop_front() else {
            return Ok(None);
        };
        self.wait_for(sample.t());
        Ok(Some(sample))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imu(t_ms: u64) -> ImuSample {
        ImuSample {
            t: Timestamp(t_ms * 1_000_000),
            acc: [0.0; 3],
            gyro: [0.0; 3],
        }
    }

    fn frame(t_ms: u64) -> Frame {
        Frame::new(Timestamp(t_ms * 1_000_000), 1, 1, vec![0; 3]).unwrap()
    }

    #[test]
    fn merge_orders_by_time_and_shifts_onto_the_timeline() {
        let merged = merge(
            Timestamp(1_000_000_000),
            vec![imu(0), imu(40), imu(80)],
            vec![frame(0), frame(50)],
        );
        let got: Vec<(Modality, u64)> = merged
            .iter()
            .map(|s| (s.modality(), s.t().nanos() / 1_000_000))
            .collect();
        use Modality::*;
        assert_eq!(
            got,
            vec![
                (Imu, 1000),
                (Video, 1000),
                (Imu, 1040),
                (Video, 1050),
                (Imu, 1080)
            ]
        );
    }
}
