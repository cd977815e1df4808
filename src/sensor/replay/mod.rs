//! Replay: dataset clips played back as a live stream.
//!
//! The clips of a `Playlist` are played one after another on one timeline: clip
//! k starts where clip k-1 ended plus a gap (more than a window, so no window
//! mixes two clips), so the aligner sees what a device would. Each clip streams
//! frame by frame (`player`); the `PlayLog` records each clip's span as it
//! starts. Pacing is injected (`sensor::Pacing`). On a window grid
//! (`on_window_grid`) each clip starts on a window boundary, so the stream cuts a
//! clip into the windows the offline embedding cuts it into.

mod player;
mod playlist;

pub use playlist::{PlayLog, PlayedClip, Playlist, DEFAULT_PLAY_LOG_CAPACITY};

use super::{Pacer, Pacing, Source, SourceError};
use crate::dataset::layout::NOMINAL_RATE_HZ;
use crate::dataset::Clip;
use crate::sample::{Modality, Sample};
use crate::shutdown::Shutdown;
use crate::time::Timestamp;
use player::ClipPlayer;

/// Plays a playlist of clips on one timeline.
pub struct ReplaySource {
    name: String,
    playlist: Playlist,
    /// Play position of the next clip to open (counts across loops).
    position: usize,
    pacer: Pacer,
    /// Where the next clip starts on the replay timeline.
    next_start: Timestamp,
    /// Silence between clips, so no window spans two clips' samples.
    gap_ns: u64,
    /// Where the aligner's windows start (`start`) and their stride: each clip's first
    /// sample is put on it when set.
    grid: Option<(Timestamp, u64)>,
    /// The clip playing now, with its id for errors.
    playing: Option<(String, ClipPlayer)>,
    log: PlayLog,
    /// The playing clip's frames per second of clip time (health's expected rate).
    video_fps: Option<f64>,
    /// What it plays of each clip: video and IMU unless narrowed by `only`.
    modalities: Vec<Modality>,
}

impl ReplaySource {
    /// Plays `playlist` from `start` on the timeline, `gap_ns` of silence between
    /// clips. The source is named "replay" and logs into a fresh `PlayLog`.
    pub fn new(playlist: Playlist, start: Timestamp, gap_ns: u64, pacing: Pacing) -> ReplaySource {
        ReplaySource {
            name: "replay".into(),
            playlist,
            position: 0,
            pacer: Pacer::new(pacing),
            next_start: start,
            gap_ns,
            grid: None,
            playing: None,
            log: PlayLog::default(),
            video_fps: None,
            modalities: vec![Modality::Video, Modality::Imu],
        }
    }

    pub fn with_name(mut self, name: impl Into<String>) -> ReplaySource {
        self.name = name.into();
        self
    }

    /// Plays only `modalities` of each clip (the others are not even read): a
    /// replayed video next to a live IMU, say. Audio is ignored (clips have none).
    pub fn only(mut self, modalities: &[Modality]) -> ReplaySource {
        self.modalities = [Modality::Video, Modality::Imu]
            .into_iter()
            .filter(|m| modalities.contains(m))
            .collect();
        self
    }

    /// Starts every clip on the window grid of an aligner whose windows start at this
    /// source's `start`, every `stride_ns`: a clip's streamed windows then begin at its
    /// first sample, as `align::clip_window_plans` cuts them offline.
    pub fn on_window_grid(mut self, stride_ns: u64) -> ReplaySource {
        self.grid = (stride_ns > 0).then_some((self.next_start, stride_ns));
        self
    }

    /// Logs into `log` (e.g. one with another capacity) instead of its own.
    pub fn with_log(mut self, log: PlayLog) -> ReplaySource {
        self.log = log;
        self
    }

    /// The shared play log; clone it before the source moves into a pipeline.
    pub fn play_log(&self) -> PlayLog {
        self.log.clone()
    }

    /// Opens the next clip of the playlist; false when the playlist is done.
    fn open_next(&mut self) -> Result<bool, SourceError> {
        let Some(clip) = self.playlist.at(self.position).cloned() else {
            return Ok(false);
        };
        self.position += 1;
        let offset = self.grid_point(self.next_start);
        let (video, imu) = (
            self.modalities.contains(&Modality::Video),
            self.modalities.contains(&Modality::Imu),
        );
        let player =
            ClipPlayer::open(&clip, offset, video, imu).map_err(|e| SourceError::Clip {
                clip: clip.id().to_string(),
                error: Box::new(e),
            })?;
        let duration = Timestamp::from_secs_f64(clip.duration_secs()).nanos();
        self.record(
            &clip,
            (offset, offset.add_nanos(duration)),
            player.samples_end(),
        );
        self.video_fps = clip_fps(&clip);
        self.next_start = offset.add_nanos(duration).add_nanos(self.gap_ns);
        self.playing = Some((clip.id().to_string(), player));
        Ok(true)
    }

    /// The first grid point at or after `t` (`t` itself without a grid).
    fn grid_point(&self, t: Timestamp) -> Timestamp {
        let Some((anchor, stride)) = self.grid else {
            return t;
        };
        let steps = t.since(anchor).div_ceil(stride);
        anchor.add_nanos(steps.saturating_mul(stride))
    }

    fn record(&self, clip: &Clip, (start, end): (Timestamp, Timestamp), samples_end: Timestamp) {
        self.log.record(PlayedClip {
            clip: clip.id().to_string(),
            label: clip.label(),
            start,
            end,
            samples_end,
        });
    }

    /// The next sample of the playing clip, moving to the next clip as each ends.
    fn next_unpaced(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        // A looping playlist of clips without samples must still see the signal.
        while !shutdown.is_triggered() {
            let Some((clip, player)) = self.playing.as_mut() else {
                if self.open_next()? {
                    continue;
                }
                return Ok(None);
            };
            let next = player.next_sample().map_err(|e| SourceError::Clip {
                clip: clip.clone(),
                error: Box::new(e),
            })?;
            match next {
                Some(sample) => return Ok(Some(sample)),
                None => self.playing = None,
            }
        }
        Ok(None)
    }
}

/// Frames per second of clip time, when the clip has frames and a duration.
fn clip_fps(clip: &Clip) -> Option<f64> {
    let frames = clip.entry().num_frames as f64;
    let secs = clip.duration_secs();
    (frames > 0.0 && secs > 0.0).then(|| frames / secs)
}

impl Source for ReplaySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        let Some(sample) = self.next_unpaced(shutdown)? else {
            return Ok(None);
        };
        Ok(self
            .pacer
            .wait_until(sample.t(), shutdown)
            .then_some(sample))
    }

    /// Rates in wall-clock terms: clip rates times the speed; unknown when unpaced.
    fn expected_rate_hz(&self, modality: Modality) -> Option<f64> {
        let speed = self.pacer.pacing().speed()?;
        match modality {
            Modality::Imu => Some(NOMINAL_RATE_HZ * speed),
            Modality::Video => self.video_fps.map(|fps| fps * speed),
            Modality::Audio => None,
        }
    }
}
