//! Windows: the aligned multi-modal span the encoder sees.
//!
//! A `Window` is built by the aligner (`align`) from sample streams, or from a
//! whole dataset clip. Each modality is either present with exactly the shape
//! the window spec asks for, or absent: the aligner never fabricates data to
//! fill a gap, and the encoder feeds zeros with `present = 0` for an absent one.

use crate::sample::{Frame, Modality};
use crate::time::Timestamp;

/// The IMU part of a window: 6 channels resampled to `len` points at `rate_hz`,
/// stored channel-major (`data[c * len + i]`), the encoder's `[6, L]` layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ImuBlock {
    pub rate_hz: f32,
    pub len: usize,
    pub data: Vec<f32>,
}

impl ImuBlock {
    pub const CHANNELS: usize = 6;

    /// Builds a block, checking `data.len() == 6 * len` and that every value is finite.
    pub fn new(rate_hz: f32, len: usize, data: Vec<f32>) -> Result<ImuBlock, WindowError> {
        if data.len() != Self::CHANNELS * len {
            return Err(WindowError::ImuShape {
                expected: Self::CHANNELS * len,
                got: data.len(),
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(WindowError::NonFinite {
                modality: Modality::Imu,
                index: i,
            });
        }
        Ok(ImuBlock { rate_hz, len, data })
    }

    /// One channel's `len` values (0..3 acc, 3..6 gyro).
    pub fn channel(&self, c: usize) -> &[f32] {
        &self.data[c * self.len..(c + 1) * self.len]
    }
}

/// The video part of a window: T frames of one size, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoBlock {
    pub frames: Vec<Frame>,
}

impl VideoBlock {
    /// Builds a block, checking there is at least one frame and all share one size.
    pub fn new(frames: Vec<Frame>) -> Result<VideoBlock, WindowError> {
        let Some(first) = frames.first() else {
            return Err(WindowError::EmptyVideo);
        };
        let (w, h) = (first.width, first.height);
        if let Some(bad) = frames.iter().find(|f| f.width != w || f.height != h) {
            return Err(WindowError::FrameSizes {
                first: (w, h),
                other: (bad.width, bad.height),
            });
        }
        Ok(VideoBlock { frames })
    }
}

/// The audio part of a window: mono PCM at `rate_hz`.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBlock {
    pub rate_hz: u32,
    pub pcm: Vec<f32>,
}

/// An aligned span `[start, end)` with each modality present or absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub video: Option<VideoBlock>,
    pub imu: Option<ImuBlock>,
    pub audio: Option<AudioBlock>,
}

impl Window {
    pub fn is_present(&self, m: Modality) -> bool {
        match m {
            Modality::Video => self.video.is_some(),
            Modality::Imu => self.imu.is_some(),
            Modality::Audio => self.audio.is_some(),
        }
    }

    /// The modalities present, in `Modality::ALL` order.
    pub fn present(&self) -> Vec<Modality> {
        Modality::ALL
            .into_iter()
            .filter(|m| self.is_present(*m))
            .collect()
    }

    /// True when no modality is present (such a window is never encoded).
    pub fn is_empty(&self) -> bool {
        self.video.is_none() && self.imu.is_none() && self.audio.is_none()
    }

    /// This window with one modality removed: modality-dynamic evaluation.
    pub fn without(mut self, m: Modality) -> Window {
        match m {
            Modality::Video => self.video = None,
            Modality::Imu => self.imu = None,
            Modality::Audio => self.audio = None,
        }
        self
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WindowError {
    #[error("IMU block needs {expected} values (6 channels x L), got {got}")]
    ImuShape { expected: usize, got: usize },
    #[error("{modality} value {index} is not finite")]
    NonFinite { modality: Modality, index: usize },
    #[error("video block has no frames")]
    EmptyVideo,
    #[error("video frames differ in size: first {first:?}, another {other:?}")]
    FrameSizes {
        first: (u32, u32),
        other: (u32, u32),
    },
}
