//! `[channels]`: capacities of the bounded channels between pipeline threads.
//!
//! Only the sizes are configurable; what happens when one is full is fixed by
//! design: the video channel drops its oldest frame (a late frame is worth less
//! than a fresh one), the IMU channel drops its oldest sample, and the window
//! channel never drops: an enrollment window is user input and the producer
//! waits instead. Every drop is counted and shown by `mmcl status`.

use super::check::Checker;
use super::raw::RawChannels;

pub const DEFAULT_VIDEO_CAPACITY: usize = 16;
pub const DEFAULT_IMU_CAPACITY: usize = 1024;
pub const DEFAULT_WINDOW_CAPACITY: usize = 64;
pub const MAX_CAPACITY: i64 = 4096;

/// The validated `[channels]` section; every capacity in 1..=4096.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelsConfig {
    video_capacity: usize,
    imu_capacity: usize,
    window_capacity: usize,
}

impl Default for ChannelsConfig {
    fn default() -> ChannelsConfig {
        ChannelsConfig {
            video_capacity: DEFAULT_VIDEO_CAPACITY,
            imu_capacity: DEFAULT_IMU_CAPACITY,
            window_capacity: DEFAULT_WINDOW_CAPACITY,
        }
    }
}

impl ChannelsConfig {
    /// Frames between the camera (or replay) and the aligner; full = drop oldest.
    pub fn video_capacity(&self) -> usize {
        self.video_capacity
    }

    /// IMU samples between the IMU source and the aligner; full = drop oldest.
    pub fn imu_capacity(&self) -> usize {
        self.imu_capacity
    }

    /// Windows between the aligner and the encoder; full = the aligner waits (never drops).
    pub fn window_capacity(&self) -> usize {
        self.window_capacity
    }

    pub(crate) fn from_raw(raw: &RawChannels, c: &mut Checker) -> Option<ChannelsConfig> {
        let mut capacity = |key: &str, value: Option<i64>, default: usize| {
            c.int_in(key, value.unwrap_or(default as i64), 1, MAX_CAPACITY)
        };
        let video = capacity(
            "channels.video_capacity",
            raw.video_capacity,
            DEFAULT_VIDEO_CAPACITY,
        );
        let imu = capacity(
            "channels.imu_capacity",
            raw.imu_capacity,
            DEFAULT_IMU_CAPACITY,
        );
        let window = capacity(
            "channels.window_capacity",
            raw.window_capacity,
            DEFAULT_WINDOW_CAPACITY,
        );
        Some(ChannelsConfig {
            video_capacity: video?,
            imu_capacity: imu?,
            window_capacity: window?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawChannels {
        RawChannels {
            video_capacity: Some(self.video_capacity as i64),
            imu_capacity: Some(self.imu_capacity as i64),
            window_capacity: Some(self.window_capacity as i64),
        }
    }
}
