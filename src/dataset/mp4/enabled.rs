//! `Mp4Video` with the `mp4` feature: demux with the `mp4` crate, AVCC ->
//! Annex-B (`annexb`), decode with openh264 (built from source), I420 -> RGB8.

use super::annexb::{avcc_to_annexb, push_nal};
use crate::dataset::error::DatasetError;
use crate::sample::Frame;
use crate::time::Timestamp;
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
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
        let mut pass = Pass::new(self, wanted)?;
        pass.run(last)?;
        pass.finish(last)
    }
}

/// One sequential decode over a clip, keeping only the wanted frames.
struct Pass<'a> {
    video: &'a Mp4Video,
    reader: Reader,
    decoder: Decoder,
    length_size: usize,
    parameter_sets: Vec<u8>,
    wanted: &'a [(usize, Timestamp)],
    /// Frames output so far, in presentation order; the next output gets this index.
    produced: usize,
    kept: Vec<Frame>,
}

impl<'a> Pass<'a> {
    fn new(
        video: &'a Mp4Video,
        wanted: &'a [(usize, Timestamp)],
    ) -> Result<Pass<'a>, DatasetError> {
        let path = &video.path;
        let reader = read_header(path)?;
        let (length_size, parameter_sets) = avc_config(&reader, video.track_id)
            .ok_or_else(|| mp4_error(path, "H.264 track has no avcC configuration (SPS/PPS)"))?;
        // Reordering streams (B-frames) are flushed once at the end, as openh264 advises.
        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let decoder = Decoder::with_api_config(openh264::OpenH264API::from_source(), config)
            .map_err(|e| mp4_error(path, format!("cannot start the H.264 decoder: {e}")))?;
        Ok(Pass {
            video,
            reader,
            decoder,
            length_size,
            parameter_sets,
            wanted,
            produced: 0,
            kept: Vec::new(),
        })
    }

    /// Feeds samples in order until frame `last` has been output (or the track ends).
    fn run(&mut self, last: usize) -> Result<(), DatasetError> {
        let path = self.video.path.clone();
        let mut packet = Vec::new();
        for sample_id in 1..=self.video.len as u32 {
            if self.produced > last {
                break;
            }
            let sample = self
                .reader
                .read_sample(self.video.track_id, sample_id)
                .map_err(|e| mp4_error(&path, format!("cannot read sample {sample_id}: {e}")))?;
            let Some(sample) = sample else { continue };
            packet.clear();
            if sample.is_sync {
                // Parameter sets live in the avcC box, not in the stream; repeat them at
                // each key frame so the decoder always has the ones in force.
                packet.extend_from_slice(&self.parameter_sets);
            }
            avcc_to_annexb(&sample.bytes, self.length_size, &mut packet)
                .map_err(|e| mp4_error(&path, format!("sample {sample_id}: {e}")))?;
            let decoded = self.decoder.decode(&packet);
            let picture = decoded
                .map_err(|e| mp4_error(&path, format!("cannot decode sample {sample_id}: {e}")))?;
            if let Some(picture) = picture {
                let frame = to_frame(&picture, &path, self.produced, self.wanted)?;
                self.keep(frame);
            }
        }
        Ok(())
    }

    /// Drains frames the decoder still holds, then checks every wanted frame came out.
    fn finish(mut self, last: usize) -> Result<Vec<Frame>, DatasetError> {
        let path = self.video.path.clone();
        if self.produced <= last {
            let rest = self
                .decoder
                .flush_remaining()
                .map_err(|e| mp4_error(&path, format!("cannot flush decoder: {e}")))?;
            let mut frames = Vec::new();
            for (k, picture) in rest.iter().enumerate() {
                frames.push(to_frame(picture, &path, self.produced + k, self.wanted)?);
            }
            frames.into_iter().for_each(|f| self.keep(f));
        }
        if let Some(&(missing, _)) = self.wanted.get(self.kept.len()) {
            let message = format!(
                "frame {missing} was not decoded: the decoder produced {} frames for the {} samples of the track",
                self.produced, self.video.len
            );
            return Err(mp4_error(&path, message));
        }
        Ok(self.kept)
    }

    /// Counts one output frame and keeps it if wanted (`to_frame` returned `Some`).
    fn keep(&mut self, frame: Option<Frame>) {
        self.produced += 1;
        self.kept.extend(frame);
    }
}

/// Converts output frame `index` to RGB if it is wanted; `None` otherwise (no conversion cost).
fn to_frame(
    picture: &DecodedYUV<'_>,
    path: &Path,
    index: usize,
    wanted: &[(usize, Timestamp)],
) -> Result<Option<Frame>, DatasetError> {
    let Ok(pos) = wanted.binary_search_by_key(&index, |(i, _)| *i) else {
        return Ok(None);
    };
    let t = wanted.get(pos).map_or(Timestamp::ZERO, |(_, t)| *t);
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
