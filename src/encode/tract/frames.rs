//! `FrameStage` for the tract backend: frames through the per-frame plan
//! (split across the threads), windows through the fuse plan.

use super::enabled::TractEncoder;
use crate::encode::frame_stage::{frames_tensor, fuse_inputs};
use crate::encode::{split_outputs, EncodeError, Encoded, FrameFeatures, FrameStage};
use crate::sample::Frame;
use crate::window::ImuBlock;

impl TractEncoder {
    /// The features of an all-zero frame, computed once, as the first row of
    /// a whole window of zero frames: that runs the plans a stream's first
    /// window runs (`frame_chunks`), so no plan is built for this alone.
    pub(super) fn absent_features(&mut self) -> Result<FrameFeatures, EncodeError> {
        if let Some(absent) = &self.absent {
            return Ok(absent.clone());
        }
        let c = &self.contract;
        let t = c.frames.max(1);
        let zeros = vec![0.0; t * 3 * c.height * c.width];
        let mut features = self.run_frames(&zeros, t)?;
        features.truncate(features.len() / t);
        let absent = FrameFeatures::new(features);
        self.absent = Some(absent.clone());
        Ok(absent)
    }
}

impl FrameStage for TractEncoder {
    fn feature_len(&self) -> usize {
        self.cut.as_ref().map_or(0, |cut| cut.feature_len())
    }

    fn encode_frames(&mut self, frames: &[Frame]) -> Result<Vec<FrameFeatures>, EncodeError> {
        if frames.is_empty() {
            return Ok(Vec::new());
        }
        let input = frames_tensor(frames, &self.contract)?;
        let features = self.run_frames(&input, frames.len())?;
        let len = self.feature_len();
        if len == 0 || features.len() != frames.len() * len {
            let got = format!(
                "{} values for {} frames of {len}",
                features.len(),
                frames.len()
            );
            return Err(super::enabled::backend_error(
                "read the frame features",
                got,
            ));
        }
        let rows = features
            .chunks(len)
            .map(|row| FrameFeatures::new(row.to_vec()));
        Ok(rows.collect())
    }

    fn fuse(
        &mut self,
        video: Option<&[FrameFeatures]>,
        imu: Option<&ImuBlock>,
    ) -> Result<Encoded, EncodeError> {
        let absent = self.absent_features()?;
        let inputs = fuse_inputs(video, imu, &absent, &self.contract)?;
        let outputs = self.run_fuse(&inputs.features, &inputs.imu, &inputs.present)?;
        let mut encoded = split_outputs(&inputs.present, outputs, &self.contract, 0, "tract")?;
        encoded
            .pop()
            .ok_or_else(|| super::enabled::backend_error("fuse a window", "no output row"))
    }
}
