//! A clip stored as an `.mp4` (H.264) instead of a frame folder.
//!
//! The decoder is optional (cargo feature `mp4`: the `mp4` demuxer and the
//! openh264 decoder, built from C source). `enabled` and `disabled` offer the
//! same `Mp4Video` API; without the feature `Mp4Video::open` refuses the clip
//! with a clear error, and `Mp4Video` has no values, so nothing else can run.
//!
//! H.264 frames depend on earlier ones, so decoding is sequential from the
//! first sample: `Mp4Stream` hands out the pictures one at a time (replay plays
//! a clip through it, holding one frame at a time), and `decode_frames` makes
//! one pass up to the last wanted index and keeps only the wanted frames
//! (memory grows with what is asked, not with the clip). Counting frames
//! (`len`) reads the container header only.

#[cfg(feature = "mp4")]
mod annexb;
#[cfg(feature = "mp4")]
mod enabled;
#[cfg(feature = "mp4")]
pub use enabled::{Mp4Stream, Mp4Video};

#[cfg(not(feature = "mp4"))]
mod disabled;
#[cfg(not(feature = "mp4"))]
pub use disabled::{Mp4Stream, Mp4Video};

/// Whether this build can decode `.mp4` clips.
pub const ENABLED: bool = cfg!(feature = "mp4");
