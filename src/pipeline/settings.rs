//! The graph's settings: plain structs (the lead maps a profile's `[channels]`
//! onto them). Capacities bound memory (docs/pipeline.md); policies say what a
//! full channel does, and are fixed per modality by design: a stale frame is
//! worth less than a fresh one (drop the oldest), an IMU or audio sample is
//! never dropped silently (the source waits, and the wait is counted).

use crate::sample::Modality;
use std::time::Duration;

/// What a full channel does with a new sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelPolicy {
    /// The sender waits for room (nothing is dropped; the time waited is counted).
    Block,
    /// The oldest queued sample is dropped to make room (counted).
    DropOldest,
}

impl ChannelPolicy {
    pub fn name(self) -> &'static str {
        match self {
            ChannelPolicy::Block => "block",
            ChannelPolicy::DropOldest => "drop_oldest",
        }
    }
}

/// One channel's size and policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSettings {
    /// Samples held at most (at least 1).
    pub capacity: usize,
    pub policy: ChannelPolicy,
}

/// Everything the graph needs besides its sources, window spec and encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// Frames from each video source to the aligner (`[channels] video_capacity`).
    pub video: ChannelSettings,
    /// IMU samples from each IMU source (`imu_capacity`).
    pub imu: ChannelSettings,
    /// Audio chunks from each audio source.
    pub audio: ChannelSettings,
    /// Windows between the aligner and the encoder (`window_capacity`); never drops.
    pub window_capacity: usize,
    /// Items between the last stage and the consumer; never drops.
    pub output_capacity: usize,
    /// How long `join` waits for a stage after the shutdown before reporting it
    /// as hung (a source that ignores the `Source` contract).
    pub join_timeout: Duration,
    /// The windows-only form's frame size (width, height): frames are reduced to
    /// it when they enter the pipeline. The encoder form uses the encoder's input
    /// size instead. `None`: frames enter at the size they come.
    pub frame_size: Option<(u32, u32)>,
}

impl Default for PipelineSettings {
    /// The profile defaults (`config::channels`), with the policies above.
    fn default() -> Self {
        PipelineSettings {
            video: ChannelSettings {
                capacity: 16,
                policy: ChannelPolicy::DropOldest,
            },
            imu: ChannelSettings {
                capacity: 1024,
                policy: ChannelPolicy::Block,
            },
            audio: ChannelSettings {
                capacity: 256,
                policy: ChannelPolicy::Block,
            },
            window_capacity: 64,
            output_capacity: 64,
            join_timeout: Duration::from_millis(250),
            frame_size: None,
        }
    }
}

impl PipelineSettings {
    /// Every channel blocks: nothing is dropped anywhere. For replaying
    /// recordings unpaced (tools, the demo), where a full channel means the
    /// consumer is slower than decoding, not that data is going stale.
    pub fn lossless() -> PipelineSettings {
        let mut s = PipelineSettings::default();
        s.video.policy = ChannelPolicy::Block;
        s
    }

    /// The channel settings of `modality`.
    pub fn channel(&self, modality: Modality) -> ChannelSettings {
        let c = match modality {
            Modality::Video => self.video,
            Modality::Imu => self.imu,
            Modality::Audio => self.audio,
        };
        ChannelSettings {
            capacity: c.capacity.max(1),
            policy: c.policy,
        }
    }
}
