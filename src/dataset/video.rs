//! `VideoSource`: a clip's frames, from a frame folder or an `.mp4`, with the
//! clip's frame timing. Callers see one API; which storage backs it is decided
//! once, in `Clip::video`. `FrameStream` plays every frame in order, decoding one
//! at a time, so a replayed clip never holds more than one decoded frame.

use super::error::DatasetError;
use super::frames::FrameFolder;
use super::mp4::{Mp4Stream, Mp4Video};
use crate::sample::Frame;
use crate::time::Timestamp;
use std::path::Path;

/// Where a clip's frames are stored.
#[derive(Debug, Clone)]
pub enum VideoStorage {
    Frames(FrameFolder),
    Mp4(Mp4Video),
}

/// A clip's video: `len()` frames spread evenly over the clip's duration.
///
/// Frame `j` is at `j * duration / len` (see `Clip::duration_secs` for the
/// duration). Frame folders decode lazily, one file per index; an `.mp4`
/// decodes sequentially from its first frame, so ask for several frames with
/// one `decode_many` rather than many `decode` calls.
#[derive(Debug, Clone)]
pub struct VideoSource {
    storage: VideoStorage,
    duration_secs: f64,
}

impl VideoSource {
    pub fn new(storage: VideoStorage, duration_secs: f64) -> VideoSource {
        VideoSource {
            storage,
            duration_secs,
        }
    }

    pub fn storage(&self) -> &VideoStorage {
        &self.storage
    }

    /// The frame folder or `.mp4` file.
    pub fn path(&self) -> &Path {
        match &self.storage {
            VideoStorage::Frames(f) => f.dir(),
            VideoStorage::Mp4(m) => m.path(),
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        match &self.storage {
            VideoStorage::Frames(f) => f.len(),
            VideoStorage::Mp4(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The clip's duration in seconds, over which the frames are spread.
    pub fn duration_secs(&self) -> f64 {
        self.duration_secs
    }

    /// The timestamp of frame `index` (from the clip start): `index * duration / len`.
    pub fn frame_time(&self, index: usize) -> Timestamp {
        let len = self.len().max(1) as f64;
        Timestamp::from_secs_f64(index as f64 * self.duration_secs / len)
    }

    /// Every frame's timestamp, in order.
    pub fn frame_times(&self) -> Vec<Timestamp> {
        (0..self.len()).map(|i| self.frame_time(i)).collect()
    }

    /// Decodes frame `index` (0-based) to RGB8, stamped with `frame_time(index)`.
    pub fn decode(&self, index: usize) -> Result<Frame, DatasetError> {
        let mut frames = self.decode_many(&[index])?;
        frames.pop().ok_or_else(|| DatasetError::FrameIndex {
            path: self.path().to_path_buf(),
            index,
            len: self.len(),
        })
    }

    /// Decodes the frames at `indices` (any order, repeats allowed) and returns them
    /// in that order. For an `.mp4` this is one sequential pass that keeps only
    /// the requested frames.
    pub fn decode_many(&self, indices: &[usize]) -> Result<Vec<Frame>, DatasetError> {
        match &self.storage {
            VideoStorage::Frames(f) => indices
                .iter()
                .map(|&i| f.decode(i, self.frame_time(i)))
                .collect(),
            VideoStorage::Mp4(m) => {
                let mut wanted: Vec<usize> = indices.to_vec();
                wanted.sort_unstable();
                wanted.dedup();
                let timed: Vec<(usize, Timestamp)> =
                    wanted.iter().map(|&i| (i, self.frame_time(i))).collect();
                let decoded = m.decode_frames(&timed)?;
                Ok(in_request_order(indices, &wanted, decoded))
            }
        }
    }

    /// Every frame in order, decoded as the stream is read (one frame in memory).
    pub fn stream(&self) -> Result<FrameStream, DatasetError> {
        let decoder = match &self.storage {
            VideoStorage::Frames(_) => None,
            VideoStorage::Mp4(m) => Some(m.stream()?),
        };
        Ok(FrameStream {
            video: self.clone(),
            next: 0,
            decoder,
        })
    }
}

/// A clip's frames in order, each decoded when it is taken.
pub struct FrameStream {
    video: VideoSource,
    /// Index of the next frame to hand out.
    next: usize,
    /// The sequential H.264 decoder of an `.mp4`; `None` for a frame folder.
    decoder: Option<Mp4Stream>,
}

impl FrameStream {
    /// The timestamp of the next frame (no decoding), `None` after the last.
    pub fn next_time(&self) -> Option<Timestamp> {
        (self.next < self.video.len()).then(|| self.video.frame_time(self.next))
    }

    /// Decodes and returns the next frame, stamped `frame_time(index)`; `None` after
    /// the last. An `.mp4` that outputs fewer pictures than it has samples is an error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DatasetError> {
        let Some(t) = self.next_time() else {
            return Ok(None);
        };
        let index = self.next;
        self.next += 1;
        let VideoStorage::Frames(folder) = &self.video.storage else {
            return self.next_decoded(index, t);
        };
        folder.decode(index, t).map(Some)
    }

    fn next_decoded(&mut self, index: usize, t: Timestamp) -> Result<Option<Frame>, DatasetError> {
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(None);
        };
        match decoder.next_output(&|_| Some(t))? {
            Some(Some(frame)) => Ok(Some(frame)),
            _ => Err(decoder.missing_frame(index)),
        }
    }
}

/// Maps frames decoded for the sorted, distinct `wanted` back onto `indices`.
fn in_request_order(indices: &[usize], wanted: &[usize], decoded: Vec<Frame>) -> Vec<Frame> {
    indices
        .iter()
        .filter_map(|i| {
            wanted
                .binary_search(i)
                .ok()
                .and_then(|pos| decoded.get(pos))
                .cloned()
        })
        .collect()
}
