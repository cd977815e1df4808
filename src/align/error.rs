//! `AlignError`: a sample or clip the aligner refuses. A refused sample
//! changes nothing already accepted; it is only counted (`rejected`).

use crate::sample::Modality;
use crate::window::WindowError;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AlignError {
    #[error("aligner was built with no modalities")]
    NoModalities,
    #[error("aligner for {expected:?} refused a {got} sample at t={t_ns} ns: that modality is not aligned")]
    UnexpectedModality {
        expected: Vec<Modality>,
        got: Modality,
        t_ns: u64,
    },
    #[error(
        "frame at t={t_ns} ns is {width}x{height}, which needs {expected} RGB bytes, got {got}"
    )]
    FrameBuffer {
        t_ns: u64,
        width: u32,
        height: u32,
        expected: usize,
        got: usize,
    },
    #[error(
        "frame at t={t_ns} ns is {got:?} (width, height), the stream's frames are {expected:?}"
    )]
    FrameSize {
        t_ns: u64,
        expected: (u32, u32),
        got: (u32, u32),
    },
    #[error("{modality} sample at t={t_ns} ns has a non-finite value at channel/index {index}")]
    NonFinite {
        modality: Modality,
        t_ns: u64,
        index: usize,
    },
    #[error("audio chunk at t={t_ns} ns is {got} Hz, the window spec expects {expected} Hz")]
    AudioRate { t_ns: u64, expected: u32, got: u32 },
    #[error("audio chunk at t={t_ns} ns has no samples")]
    EmptyAudio { t_ns: u64 },
    #[error("clip has no IMU samples and no frames")]
    EmptyClip,
    #[error("clip spans a single instant (t={t_ns} ns); a clip needs two distinct timestamps")]
    ClipTooShort { t_ns: u64 },
    #[error("clip {modality} timestamps must strictly increase: index {index} is t={t_ns} ns after t={prev_ns} ns")]
    Unsorted {
        modality: Modality,
        index: usize,
        prev_ns: u64,
        t_ns: u64,
    },
    #[error("clip plan asked for {expected} frames, got {got}")]
    FrameCount { expected: usize, got: usize },
    #[error("frame {index} at t={t_ns} ns lies outside the clip [{start_ns}, {end_ns}) ns")]
    FrameOutsideClip {
        index: usize,
        t_ns: u64,
        start_ns: u64,
        end_ns: u64,
    },
    #[error("building the clip's window: {0}")]
    Window(#[from] WindowError),
}
