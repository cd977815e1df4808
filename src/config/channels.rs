//! `[channels]`: capacities of the bounded channels between pipeline threads.
//!
//! Only the sizes are configurable; what happens when one is full is fixed by
//! design (`pipeline::PipelineSettings`): a video channel drops its oldest frame
//! (a late frame is worth less than a fresh one), IMU and audio channels never
//! drop (the source waits, and the wait is counted), and the window channel
//! never drops: an enrollment window is user input and the producer waits
//! instead. Every drop and wait is counted and shown by `mmcl status`.
//! `pipeline_settings` hands the section to the pipeline.

use super::check::Checker;
use super::raw::RawChannels;
use crate::pipeline::PipelineSettings;

pub const DEFAULT_VIDEO_CAPACITY: usize = 16;
pub const DEFAULT_IMU_CAPACITY: usize = 1024;
pub const DEFAULT_WINDOW_CAPACITY: usize = 64;
/// 256 chunks of a microphone callback (~10 ms each at 16 kHz): ~2.5 s.
pub const DEFAULT_AUDIO_CAPACITY: usize = 256;
pub const MAX_CAPACITY: i64 = 4096;

/// The validated `[channels]` section; every capacity in 1..=4096.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelsConfig {
    video_capacity: usize,
    imu_capacity: usize,
    window_capacity: usize,
    audio_capacity: usize,
}

impl Default for ChannelsConfig {
    fn default() -> ChannelsConfig {
        ChannelsConfig {
            video_capacity: DEFAULT_VIDEO_CAPACITY,
            imu_capacity: DEFAULT_IMU_CAPACITY,
            window_capacity: DEFAULT_WINDOW_CAPACITY,
            audio_capacity: DEFAULT_AUDIO_CAPACITY,
        }
    }
}

impl ChannelsConfig {
    /// Frames between the camera (or replay) and the aligner; full = drop oldest.
    pub fn video_capacity(&self) -> usize {
        self.video_capacity
    }

    /// IMU samples between the IMU source and the aligner; full = the source waits.
    pub fn imu_capacity(&self) -> usize {
        self.imu_capacity
    }

    /// Windows between the aligner and the encoder; full = the aligner waits (never drops).
    pub fn window_capacity(&self) -> usize {
        self.window_capacity
    }

    /// Audio chunks between the microphone and the aligner; full = the source waits.
    pub fn audio_capacity(&self) -> usize {
        self.audio_capacity
    }

    /// The pipeline's settings: these capacities with its fixed per-modality policies;
    /// the encoder's output holds as many windows as the window channel.
    pub fn pipeline_settings(&self) -> PipelineSettings {
        let mut s = PipelineSettings::default();
        s.video.capacity = self.video_capacity;
        s.imu.capacity = self.imu_capacity;
        s.audio.capacity = self.audio_capacity;
        s.window_capacity = self.window_capacity;
        s.output_capacity = self.window_capacity;
        s
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
        let audio = capacity(
            "channels.audio_capacity",
            raw.audio_capacity,
            DEFAULT_AUDIO_CAPACITY,
        );
        Some(ChannelsConfig {
            video_capacity: video?,
            imu_capacity: imu?,
            window_capacity: window?,
            audio_capacity: audio?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawChannels {
        RawChannels {
            video_capacity: Some(self.video_capacity as i64),
            imu_capacity: Some(self.imu_capacity as i64),
            window_capacity: Some(self.window_capacity as i64),
            audio_capacity: Some(self.audio_capacity as i64),
        }
    }
}
