//! Checks a sample must pass before the aligner (or a clip plan) uses it:
//! whole frame buffers, finite values, the spec's audio rate.

use super::error::AlignError;
use crate::sample::{AudioChunk, Frame, ImuSample, Modality};

/// The buffer holds exactly width × height × 3 bytes of a non-empty frame.
pub fn check_frame_buffer(f: &Frame) -> Result<(), AlignError> {
    let expected = f.width as usize * f.height as usize * 3;
    if f.width == 0 || f.height == 0 || f.rgb.len() != expected {
        return Err(AlignError::FrameBuffer {
            t_ns: f.t.0,
            width: f.width,
            height: f.height,
            expected,
            got: f.rgb.len(),
        });
    }
    Ok(())
}

/// All six channels are finite.
pub fn check_imu(s: &ImuSample) -> Result<(), AlignError> {
    match s.channels().iter().position(|v| !v.is_finite()) {
        Some(index) => Err(AlignError::NonFinite {
            modality: Modality::Imu,
            t_ns: s.t.0,
            index,
        }),
        None => Ok(()),
    }
}

/// The chunk has the spec's rate, at least one sample, and finite samples.
pub fn check_audio(a: &AudioChunk, rate: u32) -> Result<(), AlignError> {
    if a.rate_hz != rate {
        return Err(AlignError::AudioRate {
            t_ns: a.t.0,
            expected: rate,
            got: a.rate_hz,
        });
    }
    if a.pcm.is_empty() {
        return Err(AlignError::EmptyAudio { t_ns: a.t.0 });
    }
    match a.pcm.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(AlignError::NonFinite {
            modality: Modality::Audio,
            t_ns: a.t.0,
            index,
        }),
        None => Ok(()),
    }
}
