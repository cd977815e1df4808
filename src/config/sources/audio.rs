//! `[sources.audio]`: a microphone by name, its rate, and whether it may be
//! missing; `[sources.restart]`: how a lost live device is reopened.

use super::super::check::Checker;
use super::super::raw::{RawAudio, RawRestart};
use crate::sensor::Backoff;
use std::time::Duration;

pub const DEFAULT_AUDIO_DEVICE: &str = "default";
pub const DEFAULT_AUDIO_RATE_HZ: u32 = 16_000;
pub const DEFAULT_RESTART_INITIAL_MS: u64 = 100;
pub const DEFAULT_RESTART_MAX_MS: u64 = 10_000;
/// A device lost for good is retried at least once an hour.
pub const MAX_RESTART_MS: i64 = 3_600_000;

/// `[sources.audio]`: a capture device by name (cpal) and the rate asked of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSource {
    device: String,
    rate_hz: u32,
    optional: bool,
}

impl AudioSource {
    /// The device name as cpal lists it; `"default"` = the host's default input.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Sample rate in 8000..=192000 Hz.
    pub fn rate_hz(&self) -> u32 {
        self.rate_hz
    }

    pub fn optional(&self) -> bool {
        self.optional
    }

    pub(super) fn from_raw(raw: &RawAudio, c: &mut Checker) -> Option<AudioSource> {
        let device = raw
            .device
            .clone()
            .unwrap_or_else(|| DEFAULT_AUDIO_DEVICE.to_string());
        let device = if device.trim().is_empty() {
            c.error(
                "sources.audio.device",
                format!("{device:?}"),
                "must not be empty",
            )
        } else {
            Some(device)
        };
        let rate = c.int_in(
            "sources.audio.rate_hz",
            raw.rate_hz.unwrap_or(DEFAULT_AUDIO_RATE_HZ.into()),
            8000,
            192_000,
        );
        Some(AudioSource {
            device: device?,
            rate_hz: rate?,
            optional: raw.optional.unwrap_or(false),
        })
    }

    pub(super) fn to_raw(&self) -> RawAudio {
        RawAudio {
            device: Some(self.device.clone()),
            rate_hz: Some(self.rate_hz.into()),
            optional: Some(self.optional),
        }
    }
}

/// `[sources.restart]`: how a lost live device is reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartConfig {
    initial_ms: u64,
    max_ms: u64,
}

impl Default for RestartConfig {
    fn default() -> Self {
        RestartConfig {
            initial_ms: DEFAULT_RESTART_INITIAL_MS,
            max_ms: DEFAULT_RESTART_MAX_MS,
        }
    }
}

impl RestartConfig {
    /// First wait after a loss, in 1..=3600000 ms; doubled per failed attempt.
    pub fn initial_ms(&self) -> u64 {
        self.initial_ms
    }

    /// Longest wait, in initial_ms..=3600000 ms.
    pub fn max_ms(&self) -> u64 {
        self.max_ms
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            initial: Duration::from_millis(self.initial_ms),
            max: Duration::from_millis(self.max_ms),
        }
    }

    pub(super) fn from_raw(raw: &RawRestart, c: &mut Checker) -> Option<RestartConfig> {
        let initial = raw.initial_ms.unwrap_or(DEFAULT_RESTART_INITIAL_MS as i64);
        let initial: Option<u64> =
            c.int_in("sources.restart.initial_ms", initial, 1, MAX_RESTART_MS);
        let max = raw.max_ms.unwrap_or(DEFAULT_RESTART_MAX_MS as i64);
        let lo = initial.map_or(1, |i| i as i64);
        let max = match initial {
            Some(_) if max < lo => c.error(
                "sources.restart.max_ms",
                max.to_string(),
                format!("must be >= sources.restart.initial_ms ({lo}) and <= {MAX_RESTART_MS}"),
            ),
            _ => c.int_in("sources.restart.max_ms", max, 1, MAX_RESTART_MS),
        };
        Some(RestartConfig {
            initial_ms: initial?,
            max_ms: max?,
        })
    }

    pub(super) fn to_raw(self) -> RawRestart {
        RawRestart {
            initial_ms: Some(self.initial_ms as i64),
            max_ms: Some(self.max_ms as i64),
        }
    }
}
