//! The frame stage: an encoder split where its model declares
//! `mmcl.frame_stage.*` (`contract::FrameStageTensors`), so that each frame is
//! encoded once and any window is built from the features of its frames.
//!
//! A video window of T frames costs T per-frame networks; consecutive windows
//! share most of their frames (windows every second, 8 frames over 5.12 s), so
//! a runtime that keeps each frame's `FrameFeatures` pays for the new frames
//! only. `FrameStage::fuse` runs the rest of the graph (the mean over frames,
//! the IMU branch, the fusion) and returns the `Encoded` that
//! `Encoder::encode` gives for the same window.

use super::preprocess::{check_imu, write_frame, PreprocessError};
use super::{EncodeError, Encoded, ModelContract};
use crate::sample::Frame;
use crate::window::ImuBlock;

/// One frame's row of the model's frame-stage output, flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameFeatures(Vec<f32>);

impl FrameFeatures {
    /// Wraps values read back from a cache; `fuse` checks their length.
    pub fn new(values: Vec<f32>) -> FrameFeatures {
        FrameFeatures(values)
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The two halves of an encoder with a frame stage.
///
/// Required: all three methods. `encode_frames` then `fuse` over a window's
/// frames equals `Encoder::encode` of that window within float rounding (tract
/// picks its product kernels by row count, so chunks of other sizes differ by
/// ~1e-6). On error nothing is returned, as for `encode`.
pub trait FrameStage {
    /// Values in each `FrameFeatures` this stage makes and takes.
    fn feature_len(&self) -> usize;

    /// Encodes frames of any size (resized and normalized as a window's
    /// frames are), one `FrameFeatures` per frame, in order.
    fn encode_frames(&mut self, frames: &[Frame]) -> Result<Vec<FrameFeatures>, EncodeError>;

    /// One window from the features of its T frames (`None`: video absent)
    /// and its IMU block (`None`: absent). At least one must be present.
    fn fuse(
        &mut self,
        video: Option<&[FrameFeatures]>,
        imu: Option<&ImuBlock>,
    ) -> Result<Encoded, EncodeError>;
}

/// Frames to the `[F, 3, H, W]` tensor of the frame stage's input.
pub(crate) fn frames_tensor(frames: &[Frame], c: &ModelContract) -> Result<Vec<f32>, EncodeError> {
    let frame_len = 3 * c.height * c.width;
    let mut out = vec![0.0; frames.len() * frame_len];
    for (i, (frame, slot)) in frames
        .iter()
        .zip(out.chunks_mut(frame_len.max(1)))
        .enumerate()
    {
        write_frame(frame, c, (0, i), slot)?;
    }
    Ok(out)
}

/// The fuse stage's input tensors for one window.
pub(crate) struct FuseInputs {
    /// `[T, ...]`: the window's frame features, row after row.
    pub features: Vec<f32>,
    /// `[1, 6, L]`, zeros when the IMU is absent.
    pub imu: Vec<f32>,
    /// `[1, 2]`: video, imu.
    pub present: Vec<f32>,
}

/// One window's `FuseInputs`; `absent`, the features of an all-zero frame,
/// stands in for missing video (what the whole graph computes for it).
pub(crate) fn fuse_inputs(
    video: Option<&[FrameFeatures]>,
    imu: Option<&ImuBlock>,
    absent: &FrameFeatures,
    c: &ModelContract,
) -> Result<FuseInputs, EncodeError> {
    if video.is_none() && imu.is_none() {
        return Err(PreprocessError::Empty { window: 0 }.into());
    }
    let rows = video.unwrap_or(&[]);
    if video.is_some() && rows.len() != c.frames {
        let (expected, got) = (c.frames, rows.len());
        return Err(PreprocessError::FrameCount {
            window: 0,
            expected,
            got,
        }
        .into());
    }
    let mut features = Vec::with_capacity(c.frames * absent.len());
    for t in 0..c.frames {
        let row = rows.get(t).unwrap_or(absent);
        if row.len() != absent.len() {
            let (expected, got) = (absent.len(), row.len());
            return Err(EncodeError::FrameFeatures {
                frame: t,
                expected,
                got,
            });
        }
        features.extend_from_slice(row.as_slice());
    }
    let mut imu_values = vec![0.0; 6 * c.imu_len];
    if let Some(block) = imu {
        check_imu(block, c, 0)?;
        imu_values.copy_from_slice(&block.data);
    }
    let present = vec![
        f32::from(u8::from(video.is_some())),
        f32::from(u8::from(imu.is_some())),
    ];
    Ok(FuseInputs {
        features,
        imu: imu_values,
        present,
    })
}
