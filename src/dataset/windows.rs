//! A clip read the way the encoder reads it: its IMU and video opened, its fixed
//! windows planned (`align::clip_window_plans`), and the frames each window needs
//! decoded at the encoder's size. This is the one code path behind both `embed`
//! (`clip_windows`) and `dataset check` (`plan_clip` + `check_decodes`), so a
//! check that passes means the encoder's reader will read every clip it counted:
//! a clip with no files, one with no window holding video or IMU, or a frame that
//! will not decode fails here for both.

use super::clip::Clip;
use super::error::{ClipProblem, DatasetError};
use super::frames::REPORTED_FRAMES;
use super::video::{VideoSource, VideoStorage};
use crate::align::{clip_window_plans, ClipPlan, WindowSpec};
use crate::encode::preprocess::Size;
use crate::sample::Frame;
use crate::window::Window;

/// What an encoder reads from a clip: its windows and its frame size.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSpec {
    pub windows: WindowSpec,
    /// The encoder's input frame size; frames are resized to it as they are decoded.
    pub frame_size: Size,
}

/// A clip opened and planned, nothing decoded yet. Holds only windows that have
/// video or IMU; there is at least one.
#[derive(Debug)]
pub struct PlannedClip {
    video: Option<VideoSource>,
    plans: Vec<ClipPlan>,
}

/// Reads `clip`'s sensor file and video header and plans its windows.
pub fn plan_clip(clip: &Clip, spec: &WindowSpec) -> Result<PlannedClip, DatasetError> {
    let imu = clip.load_imu()?;
    let video = clip.video()?;
    if imu.is_none() && video.is_none() {
        return Err(clip_error(clip, ClipProblem::NoFiles));
    }
    let times = video.as_ref().map(VideoSource::frame_times);
    let plans = clip_window_plans(spec, imu.as_deref(), times.as_deref())
        .map_err(|e| clip_error(clip, ClipProblem::Align(e)))?;
    let plans: Vec<ClipPlan> = plans
        .into_iter()
        .filter(|p| p.imu.is_some() || p.frame_indices.is_some())
        .collect();
    if plans.is_empty() {
        let problem = ClipProblem::NoWindow {
            seconds: clip.duration_secs(),
            window_seconds: spec.params().seconds,
        };
        return Err(clip_error(clip, problem));
    }
    Ok(PlannedClip { video, plans })
}

/// The error of `clip` as a whole, at its list line.
pub fn clip_error(clip: &Clip, problem: ClipProblem) -> DatasetError {
    DatasetError::Clip {
        path: clip.list_file(),
        line: clip.entry().line,
        clip: clip.id().to_string(),
        problem,
    }
}

/// All the clip's windows with their frames decoded at `spec.frame_size` (never a
/// full-size frame kept). A long clip holds many windows: `embed` takes them a
/// chunk at a time (`PlannedClip::into_chunks`) instead.
pub fn clip_windows(clip: &Clip, spec: &ReadSpec) -> Result<Vec<Window>, DatasetError> {
    let planned = plan_clip(clip, &spec.windows)?;
    planned
        .into_chunks(clip, usize::MAX, spec.frame_size)
        .try_fold(Vec::new(), |mut all, chunk| {
            all.extend(chunk?);
            Ok(all)
        })
}

/// One planned window with its frames decoded.
fn build_window(
    clip: &Clip,
    video: Option<&VideoSource>,
    plan: ClipPlan,
    size: Size,
) -> Result<Window, DatasetError> {
    let frames = match (video, &plan.frame_indices) {
        (Some(video), Some(indices)) => decode(video, indices, size)?,
        _ => Vec::new(),
    };
    plan.into_window(frames)
        .map_err(|e| clip_error(clip, ClipProblem::Align(e)))
}

impl PlannedClip {
    /// Windows planned (each has video or IMU).
    pub fn windows(&self) -> usize {
        self.plans.len()
    }

    /// The windows in order, `chunk` at a time, each chunk's frames decoded (at
    /// `size`) when it is taken: at most `chunk` windows of frames exist at once,
    /// however long the clip.
    pub fn into_chunks<'a>(
        self,
        clip: &'a Clip,
        chunk: usize,
        size: Size,
    ) -> impl Iterator<Item = Result<Vec<Window>, DatasetError>> + 'a {
        let PlannedClip { video, plans } = self;
        let mut plans = plans.into_iter().peekable();
        std::iter::from_fn(move || {
            plans.peek()?;
            let taken: Vec<ClipPlan> = plans.by_ref().take(chunk.max(1)).collect();
            let built = taken
                .into_iter()
                .map(|p| build_window(clip, video.as_ref(), p, size));
            Some(built.collect())
        })
    }

    /// Decodes every frame the windows need, as `clip_windows` would, keeping none;
    /// returns the first `REPORTED_FRAMES` that fail and a count of the rest. The
    /// resize after decoding cannot fail, so it is left out.
    pub fn check_decodes(&self) -> Vec<DatasetError> {
        let Some(video) = &self.video else {
            return Vec::new();
        };
        let mut wanted: Vec<usize> = (self.plans.iter())
            .filter_map(|p| p.frame_indices.as_deref())
            .flatten()
            .copied()
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        match video.storage() {
            VideoStorage::Frames(_) => each_decode(video, &wanted),
            // One sequential pass: an `.mp4` cannot be decoded frame by frame.
            VideoStorage::Mp4(_) => video.decode_many(&wanted).err().into_iter().collect(),
        }
    }
}

/// Decodes each of `wanted` on its own, describing the first few failures.
fn each_decode(video: &VideoSource, wanted: &[usize]) -> Vec<DatasetError> {
    let mut errors = Vec::new();
    let mut bad = 0usize;
    for &index in wanted {
        if let Err(e) = video.decode(index) {
            bad += 1;
            if bad <= REPORTED_FRAMES {
                errors.push(e);
            }
        }
    }
    if bad > REPORTED_FRAMES {
        errors.push(DatasetError::More {
            path: video.path().to_path_buf(),
            count: bad - REPORTED_FRAMES,
            what: "frames that do not decode",
        });
    }
    errors
}

/// The frames at `indices` (in time order; neighbours may repeat), each resized to
/// `size` as soon as it is decoded.
fn decode(video: &VideoSource, indices: &[usize], size: Size) -> Result<Vec<Frame>, DatasetError> {
    let VideoStorage::Frames(folder) = video.storage() else {
        let frames = video.decode_many(indices)?;
        return Ok(frames
            .into_iter()
            .map(|f| super::decode::shrink(f, size))
            .collect());
    };
    let mut frames: Vec<Frame> = Vec::with_capacity(indices.len());
    for (k, &index) in indices.iter().enumerate() {
        // A repeated neighbour is decoded once and used twice.
        let repeat = k > 0 && indices.get(k - 1) == Some(&index);
        let frame = match frames.last() {
            Some(last) if repeat => last.clone(),
            _ => folder.decode_at(index, video.frame_time(index), size)?,
        };
        frames.push(frame);
    }
    Ok(frames)
}
