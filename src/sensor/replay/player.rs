//! One clip played as a stream: its IMU rows and its frames merged by timestamp
//! (IMU first on a tie), shifted onto the replay timeline. Frames are decoded one
//! at a time as they come due, so a playing clip holds one decoded frame, not the
//! clip (a 37 s clip at 455x256 would be ~320 MB decoded whole). The IMU rows are
//! read up front: a 37 s clip has ~925 of them, 30 KB.

use crate::dataset::video::FrameStream;
use crate::dataset::{Clip, DatasetError};
use crate::sample::{ImuSample, Sample};
use crate::time::Timestamp;

/// The samples of one clip still to play.
pub struct ClipPlayer {
    offset: Timestamp,
    imu: std::iter::Peekable<std::vec::IntoIter<ImuSample>>,
    frames: Option<FrameStream>,
    /// One past the clip's last sample, in clip time (its first is at 0).
    end: Timestamp,
}

impl ClipPlayer {
    /// Opens `clip` (IMU rows read, video opened, nothing decoded) to play from
    /// `offset`; a modality not asked for is not read at all.
    pub fn open(
        clip: &Clip,
        offset: Timestamp,
        video: bool,
        imu: bool,
    ) -> Result<ClipPlayer, DatasetError> {
        let imu = match imu {
            true => clip.load_imu()?.unwrap_or_default(),
            false => Vec::new(),
        };
        let video = match video {
            true => clip.video()?,
            false => None,
        };
        let last_frame = video
            .as_ref()
            .and_then(|v| v.len().checked_sub(1).map(|i| v.frame_time(i)));
        let last = imu.last().map(|s| s.t).max(last_frame);
        Ok(ClipPlayer {
            offset,
            imu: imu.into_iter().peekable(),
            frames: video.map(|v| v.stream()).transpose()?,
            end: last.map_or(Timestamp::ZERO, |t| t.add_nanos(1)),
        })
    }

    /// One past the clip's last sample on the timeline: the end of the span
    /// `align::clip_window_plans` cuts offline, which no full window passes.
    pub fn samples_end(&self) -> Timestamp {
        self.offset.add_nanos(self.end.nanos())
    }

    /// The next sample in timestamp order, on the timeline; `None` when the clip is done.
    pub fn next_sample(&mut self) -> Result<Option<Sample>, DatasetError> {
        let frame_t = self.frames.as_ref().and_then(FrameStream::next_time);
        let imu_first = match (self.imu.peek(), frame_t) {
            (Some(s), Some(f)) => s.t <= f,
            (imu, _) => imu.is_some(),
        };
        if imu_first {
            return Ok(self.imu.next().map(|mut s| {
                s.t = self.offset.add_nanos(s.t.nanos());
                Sample::Imu(s)
            }));
        }
        let Some(frames) = self.frames.as_mut() else {
            return Ok(None);
        };
        Ok(frames.next_frame()?.map(|mut f| {
            f.t = self.offset.add_nanos(f.t.nanos());
            Sample::Frame(f)
        }))
    }
}
