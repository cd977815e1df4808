//! The aligner: timestamped per-modality sample streams cut into `Window`s of
//! fixed length and stride, with the IMU resampled to a fixed grid, T frames
//! sampled per window from one global frame grid (so overlapping windows share
//! frames), and each modality marked present only when its data
//! really covers the window (nothing is fabricated to fill a gap).
//!
//! - `spec`: `WindowParams` validated into `WindowSpec`.
//! - `resample`, `frames`, `render`: one window's blocks from the samples in reach.
//! - `track`, `stream`, `emit`: the streaming `Aligner` (buffers, watermarks, emission).
//! - `clip`: offline dataset work: the whole-clip window, or a clip's fixed windows.
//!
//! docs/align.md states the exact rules (grid, presence, emission, late,
//! duplicate and out-of-order samples, clock jumps, memory bound).

mod check;
mod clip;
mod emit;
mod error;
mod frames;
mod render;
mod resample;
mod spec;
mod stream;
mod track;

pub use clip::{clip_plan, clip_window_plans, ClipPlan};
pub use error::AlignError;
pub use frames::FrameGrid;
pub use spec::{SpecError, WindowParams, WindowSpec};
pub use stream::{AlignStats, Aligner};
pub use track::ModalityStats;
