//! Microphone sources through cpal (feature `audio`; `enabled` / `disabled`
//! offer one API, chosen here once). The device is the host's default input or
//! one named as cpal lists it; its configuration is negotiated for the
//! profile's rate (`mix::choose`), and what it delivers is mixed to mono and
//! resampled to that rate, since every chunk the aligner takes must carry the
//! window spec's audio rate. Chunks are stamped on the pipeline clock from the
//! driver's capture time, continuous while the stream is (`mix::ChunkClock`).
//!
//! No sound card: the open fails naming the device (cpal's ALSA "null" device,
//! which produces silence as fast as it is read, is refused unless asked for by
//! name), and `live::build` reports it, or marks audio absent when optional.

mod mix;

#[cfg(feature = "audio")]
mod enabled;
#[cfg(feature = "audio")]
use enabled as backend;
#[cfg(not(feature = "audio"))]
mod disabled;
#[cfg(not(feature = "audio"))]
use disabled as backend;

pub use backend::{list, open, ENABLED};
pub use mix::{choose, downmix, ChunkClock, Offer, Resampler};

use super::SourceMonitor;
use crate::time::Clock;
use std::sync::Arc;

/// The device name that means the host's default input.
pub const DEFAULT_DEVICE: &str = "default";

#[derive(Clone)]
pub struct AudioOptions {
    pub name: String,
    /// `"default"` or a device name as `list` gives it.
    pub device: String,
    /// The rate chunks are delivered at (the window spec's audio rate).
    pub rate_hz: u32,
    pub clock: Arc<dyn Clock>,
    pub monitor: SourceMonitor,
}

/// An input device the host lists.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioDeviceInfo {
    pub name: String,
    /// The device's default rate, when it says.
    pub rate_hz: Option<u32>,
    pub channels: Option<u16>,
}
