//! `Mp4Video` with the `mp4` feature: demux with the `mp4` crate, AVCC ->
//! Annex-B (`annexb`), decode with openh264 (built from source), I420 -> RGB8.
//!
//! `Mp4Stream` is the one decoder loop: it feeds samples in order and hands out
//! each output picture as it comes, converted to RGB only when the caller wants
//! that index. Replay reads it frame by frame (memory: one frame plus the
//! decoder's reorder queue); `decode_frames` reads it up to the last wanted index.

use super::annexb::{avcc_to_annexb, push_nal};
use crate::dataset::error::DatasetError;
use crate::sample::Frame;
use crate::time::Timestamp;
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

type Reader = ::mp4::Mp4Reader<BufReader<File>>;

/// An opened `.mp4` clip: its H.264 track and frame count (one sample per frame).
#[derive(Debug, Clone)]
pub struct Mp4Video {
    path: PathBuf,
    track_id: u32,
    len: usize,
}

impl Mp4Video {
    /// Reads the container header (not the pixels) and finds the H.264 track.
    pub fn open(path: &Path, _clip: &str) -> Result<Mp4Video, DatasetError> {
        let reader = read_header(path)?;
        let track_id =
            h264_track(&reader).ok_or_else(|| mp4_error(path, "has no H.264 video track"))?;
        let count = reader
            .sample_count(track_id)
            .map_err(|e| mp4_error(path, format!("cannot count samples: {e}")))?;
        Ok(Mp4Video {
            path: path.to_path_buf(),
            track_id,
            len: count as usize,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of frames (video samples).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A sequential decoder over the whole track, positioned before frame 0.
    pub fn stream(&self) -> Result<Mp4Stream, DatasetError> {
        Mp4Stream::open(self)
    }

    /// Decodes the frames at `wanted` (0-based indices, strictly increasing, each with
    /// its timestamp) in one sequential pass from the first sample.
    pub fn decode_frames(&self, wanted: &[(usize, Timestamp)]) -> Result<Vec<Frame>, DatasetError> {
        if let Some(&(index, _)) = wanted.iter().find(|(i, _)| *i >= self.len) {
            return Err(DatasetError::FrameIndex {
                path: self.path.clone(),
                index,
                len: self.len,
            });
        }
        let Some(&(last, _)) = wanted.last() else {
            return Ok(Vec::new());
        };
        let stamp = |index: usize| {
            let pos = wanted.binary_search_by_key(&index, |(i, _)| *i).ok()?;
            wanted.get(pos).map(|(_, t)| *t)
        };
        let mut stream = self.stream()?;
        let mut kept = Vec::with_capacity(wanted.len());
        while stream.produced() <= last {
            match stream.next_output(&stamp)? {
                Some(frame) => kept.extend(frame),
                None => break,
            }
        }
        match wanted.get(kept.len()) {
            Some(&(missing, _)) => Err(stream.missing_frame(missing)),
            None => Ok(kept),
        }
    }
}

/// One sequential decode of a clip's track, output picture by output picture.
pub struct Mp4Stream {
    path: PathBuf,
    track_id: u32,
    len: usize,
    reader: Reader,
    decoder: Decoder,
    length_size: usize,
    parameter_sets: Vec<u8>,
    /// The 1-based id of the next sample to feed.
    next_sample: u32,
    /// Pictures output so far, in presentation order; the next gets this index.
    produced: usize,
    /// Pictures drained from the decoder after the last sample (converted if wanted).
    drained: VecDeque<Option<Frame>>,
    /// Whether the decoder has been drained (the track is exhausted).
    flushed: bool,
}

impl Mp4Stream {
    fn open(video: &Mp4Video) -> Result<Mp4Stream, DatasetError> {
        let path = &video.path;
        let reader = read_header(path)?;
        let (length_size, parameter_sets) = avc_config(&reader, video.track_id)
            .ok_or_else(|| mp4_error(path, "H.264 track has no avcC configuration (SPS/PPS)"))?;
        // Reordering streams (B-frames) are flushed once at the end, as openh264 advises.
        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let decoder = Decoder::with_api_config(openh264::OpenH264API::from_source(), config)
            .map_err(|e| mp4_error(path, format!("cannot start the H.264 decoder: {e}")))?;
        Ok(Mp4Stream {
            path: path.clone(),
            track_id: video.track_id,
            len: video.len,
            reader,
            decoder,
            length_size,
            parameter_sets,
            next_sample: 1,
            produced: 0,
            drained: VecDeque::new(),
            flushed: false,
        })
    }

    /// Pictures output so far (the index the next one will have).
    pub fn produced(&self) -> usize {
        self.produced
    }

    /// The next output picture: `Some(Some(frame))` when `stamp` gives its index a
    /// timestamp (only then is it converted to RGB), `Some(None)` for a picture not
    /// wanted, `None` once the track is exhausted.
    pub fn next_output(
        &mut self,
        stamp: &dyn Fn(usize) -> Option<Timestamp>,
    ) -> Result<Option<Option<Frame>>, DatasetError> {
        loop {
            if let Some(frame) = self.drained.pop_front() {
                self.produced += 1;
                return Ok(Some(frame));
            }
            if self.flushed {
                return Ok(None);
            }
            if self.next_sample as usize > self.len {
                self.drain(stamp)?;
                continue;
            }
            if let Some(frame) = self.feed_one(stamp)? {
                self.produced += 1;
                return Ok(Some(frame));
            }
        }
    }

    /// Feeds the next sample; the picture it completed, if any (converted if wanted).
    fn feed_one(
        &mut self,
        stamp: &dyn Fn(usize) -> Option<Timestamp>,
    ) -> Result<Option<Option<Frame>>, DatasetError> {
        let sample_id = self.next_sample;
        self.next_sample += 1;
        let path = &self.path;
        let sample = self
            .reader
            .read_sample(self.track_id, sample_id)
            .map_err(|e| mp4_error(path, format!("cannot read sample {sample_id}: {e}")))?;
        let Some(sample) = sample else {
            return Ok(None);
        };
        let mut packet = Vec::with_capacity(sample.bytes.len() + self.parameter_sets.len());
        if sample.is_sync {
            // Parameter sets live in the avcC box, not in the stream; repeat them at
            // each key frame so the decoder always has the ones in force.
            packet.extend_from_slice(&self.parameter_sets);
        }
        avcc_to_annexb(&sample.bytes, self.length_size, &mut packet)
            .map_err(|e| mp4_error(path, format!("sample {sample_id}: {e}")))?;
        let picture = self
            .decoder
            .decode(&packet)
            .map_err(|e| mp4_error(path, format!("cannot decode sample {sample_id}: {e}")))?;
        match picture {
            Some(picture) => to_frame(&picture, path, stamp(self.produced)).map(Some),
            None => Ok(None),
        }
    }

    /// Takes the pictures the decoder still holds after the last sample.
    fn drain(&mut self, stamp: &dyn Fn(usize) -> Option<Timestamp>) -> Result<(), DatasetError> {
        self.flushed = true;
        let path = &self.path;
        let rest = self
            .decoder
            .flush_remaining()
            .map_err(|e| mp4_error(path, format!("cannot flush decoder: {e}")))?;
        for (k, picture) in rest.iter().enumerate() {
            let frame = to_frame(picture, path, stamp(self.produced + k))?;
            self.drained.push_back(frame);
        }
        Ok(())
    }

    /// The error for a frame index the track never output.
    pub fn missing_frame(&self, index: usize) -> DatasetError {
        let message = format!(
            "frame {index} was not decoded: the decoder produced {} frames for the {} samples of the track",
            self.produced, self.len
        );
        mp4_error(&self.path, message)
    }
}

/// Converts a picture to an RGB frame stamped `t`; `None` (no conversion cost) without a `t`.
fn to_frame(
    picture: &DecodedYUV<'_>,
    path: &Path,
    t: Option<Timestamp>,
) -> Result<Option<Frame>, DatasetError> {
    let Some(t) = t else {
        return Ok(None);
    };
    let (w, h) = picture.dimensions();
    let mut rgb = vec![0u8; w * h * 3];
    picture.write_rgb8(&mut rgb);
    let (width, height) = (u32::try_from(w).unwrap_or(0), u32::try_from(h).unwrap_or(0));
    Frame::new(t, width, height, rgb)
        .map(Some)
        .map_err(|source| DatasetError::FrameSize {
            path: path.to_path_buf(),
            source,
        })
}

fn read_header(path: &Path) -> Result<Reader, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, "open mp4", e))?;
    let size = file
        .metadata()
        .map_err(|e| DatasetError::io(path, "stat mp4", e))?
        .len();
    ::mp4::Mp4Reader::read_header(BufReader::new(file), size)
        .map_err(|e| mp4_error(path, format!("cannot read mp4 header: {e}")))
}

/// The lowest-numbered H.264 track (HashMap order is not stable).
fn h264_track(reader: &Reader) -> Option<u32> {
    let is_h264 = |t: &::mp4::Mp4Track| matches!(t.media_type(), Ok(::mp4::MediaType::H264));
    reader
        .tracks()
        .values()
        .filter(|t| is_h264(t))
        .map(|t| t.track_id())
        .min()
}

/// The track's NAL length size and its SPS/PPS as Annex-B bytes.
fn avc_config(reader: &Reader, track_id: u32) -> Option<(usize, Vec<u8>)> {
    let track = reader.tracks().get(&track_id)?;
    let avcc = &track.trak.mdia.minf.stbl.stsd.avc1.as_ref()?.avcc;
    let mut sets = Vec::new();
    for nal in avcc
        .sequence_parameter_sets
        .iter()
        .chain(&avcc.picture_parameter_sets)
    {
        push_nal(&mut sets, &nal.bytes);
    }
    Some((usize::from(avcc.length_size_minus_one & 0x3) + 1, sets))
}

fn mp4_error(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError::Mp4 {
        path: path.to_path_buf(),
        message: message.into(),
    }
}
