//! The streaming `Aligner`: timestamped samples in, `Window`s out, in window
//! order, with bounded buffers. docs/align.md states the rules exactly.
//!
//! `push` only classifies and buffers; `pop_ready` builds every window whose
//! inputs are final and prunes what no later window can use; `finish` flushes
//! at the end of the stream. Readiness (in `emit`) depends on watermarks, so
//! the windows are the same however the input was chunked or interleaved.

use super::check::{check_audio, check_frame_buffer, check_imu};
use super::error::AlignError;
use super::frames::FrameGrid;
use super::render::{audio_block, imu_block, video_block};
use super::resample::{GapRule, Grid};
use super::spec::WindowSpec;
use super::track::{Buffer, ModalityStats, Track};
use crate::sample::{AudioChunk, Frame, ImuSample, Modality, Sample};
use crate::time::Timestamp;
use crate::window::Window;

/// Counters over the aligner's life (see `ModalityStats` for each field).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AlignStats {
    pub video: ModalityStats,
    pub imu: ModalityStats,
    pub audio: ModalityStats,
    pub windows_emitted: u64,
    /// Empty windows (no modality present) not emitted because `max_empty_run`
    /// empty windows had already been emitted in a row.
    pub empty_windows_suppressed: u64,
}

impl AlignStats {
    pub fn of(&self, m: Modality) -> &ModalityStats {
        match m {
            Modality::Video => &self.video,
            Modality::Imu => &self.imu,
            Modality::Audio => &self.audio,
        }
    }
}

/// Cuts per-modality sample streams into windows `[start + k * stride, + seconds)`.
#[derive(Debug)]
pub struct Aligner {
    pub(super) spec: WindowSpec,
    pub(super) start: u64,
    /// The modalities aligned, in `Modality::ALL` order, no repeats.
    pub(super) modalities: Vec<Modality>,
    pub(super) video: Track<Frame>,
    pub(super) imu: Track<ImuSample>,
    pub(super) audio: Track<AudioChunk>,
    /// The size every frame must have: the spec's, else the first frame's.
    frame_size: Option<(u32, u32)>,
    /// Index of the next window to emit.
    pub(super) next: u64,
    /// Empty windows emitted since the last non-empty one.
    pub(super) empty_run: u32,
    pub(super) windows_emitted: u64,
    pub(super) empty_suppressed: u64,
}

impl Aligner {
    /// An aligner whose first window starts at `start`; `modalities` are the
    /// streams it expects (repeats ignored; at least one).
    pub fn new(
        spec: WindowSpec,
        start: Timestamp,
        modalities: &[Modality],
    ) -> Result<Aligner, AlignError> {
        let modalities: Vec<Modality> = Modality::ALL
            .into_iter()
            .filter(|m| modalities.contains(m))
            .collect();
        if modalities.is_empty() {
            return Err(AlignError::NoModalities);
        }
        // A forward or backward step of more than one window counts as a clock jump.
        let (lateness, jump) = (spec.lateness_ns(), spec.len_ns());
        Ok(Aligner {
            frame_size: spec.frame_size(),
            spec,
            start: start.0,
            modalities,
            video: Track::new(lateness, jump),
            imu: Track::new(lateness, jump),
            audio: Track::new(lateness, jump),
            next: 0,
            empty_run: 0,
            windows_emitted: 0,
            empty_suppressed: 0,
        })
    }

    pub fn spec(&self) -> &WindowSpec {
        &self.spec
    }

    pub fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    /// Takes one sample. An error refuses that sample only (counted as
    /// `rejected`); late, duplicate and stale samples are dropped and counted,
    /// not errors, since a live sensor produces them.
    pub fn push(&mut self, sample: Sample) -> Result<(), AlignError> {
        let m = sample.modality();
        if !self.modalities.contains(&m) {
            self.track_mut(m).stats_mut().rejected += 1;
            let (expected, t_ns) = (self.modalities.clone(), sample.t().0);
            return Err(AlignError::UnexpectedModality {
                expected,
                got: m,
                t_ns,
            });
        }
        if let Err(e) = self.check(&sample) {
            self.track_mut(m).stats_mut().rejected += 1;
            return Err(e);
        }
        let (effective, cutoff) = (self.effective(m), self.cutoff(m));
        match sample {
            Sample::Frame(f) => self.video.push(f, effective, cutoff),
            Sample::Imu(s) => self.imu.push(s, effective, cutoff),
            Sample::Audio(a) => self.audio.push(a, effective, cutoff),
        };
        Ok(())
    }

    /// Counters so far.
    pub fn stats(&self) -> AlignStats {
        AlignStats {
            video: *self.video.stats(),
            imu: *self.imu.stats(),
            audio: *self.audio.stats(),
            windows_emitted: self.windows_emitted,
            empty_windows_suppressed: self.empty_suppressed,
        }
    }

    /// Samples currently buffered for `m` (bounded: see docs/align.md).
    pub fn buffered(&self, m: Modality) -> usize {
        self.track(m).len()
    }

    pub(super) fn track(&self, m: Modality) -> &dyn Buffer {
        match m {
            Modality::Video => &self.video,
            Modality::Imu => &self.imu,
            Modality::Audio => &self.audio,
        }
    }

    pub(super) fn track_mut(&mut self, m: Modality) -> &mut dyn Buffer {
        match m {
            Modality::Video => &mut self.video,
            Modality::Imu => &mut self.imu,
            Modality::Audio => &mut self.audio,
        }
    }

    /// Refuses samples that could not become part of a valid block.
    fn check(&mut self, sample: &Sample) -> Result<(), AlignError> {
        match sample {
            Sample::Frame(f) => self.check_frame(f),
            Sample::Imu(s) => check_imu(s),
            Sample::Audio(a) => check_audio(a, self.spec.audio_rate_hz()),
        }
    }

    /// A frame needs a whole buffer and the stream's one size (the spec's,
    /// else the first valid frame's).
    fn check_frame(&mut self, f: &Frame) -> Result<(), AlignError> {
        check_frame_buffer(f)?;
        let size = *self.frame_size.get_or_insert((f.width, f.height));
        if size != (f.width, f.height) {
            return Err(AlignError::FrameSize {
                t_ns: f.t.0,
                expected: size,
                got: (f.width, f.height),
            });
        }
        Ok(())
    }

    /// Window `k`'s span, `None` past the end of the clock.
    pub(super) fn bounds(&self, k: u64) -> Option<(u64, u64)> {
        let start = self
            .start
            .checked_add(k.checked_mul(self.spec.stride_ns())?)?;
        Some((start, start.checked_add(self.spec.len_ns())?))
    }

    /// How far outside a window `m`'s samples can still shape it: the IMU and
    /// audio grids use the samples bracketing their points (up to max_gap
    /// away) and count samples within one grid period; frames must lie inside.
    pub(super) fn horizon(&self, m: Modality) -> u64 {
        let len = self.spec.len_ns();
        match m {
            Modality::Video => 0,
            Modality::Imu => self.spec.max_gap_ns().max(len / self.spec.imu_len() as u64),
            Modality::Audio => self
                .spec
                .max_gap_ns()
                .max(len / self.spec.audio_len() as u64),
        }
    }

    /// The oldest time a window still to come can use for `m`.
    pub(super) fn cutoff(&self, m: Modality) -> u64 {
        self.bounds(self.next)
            .map_or(u64::MAX, |(s, _)| s.saturating_sub(self.horizon(m)))
    }

    /// `m`'s effective watermark: its own, or another modality's minus the
    /// stall bound when that is further on (a silent sensor stops holding
    /// windows back). Samples older than it are late; it never decreases.
    pub(super) fn effective(&self, m: Modality) -> Option<u64> {
        let others = self
            .modalities
            .iter()
            .filter(|&&o| o != m)
            .filter_map(|&o| self.track(o).watermark())
            .max();
        self.track(m)
            .watermark()
            .max(others.map(|w| w.saturating_sub(self.spec.stall_ns())))
    }

    /// Builds the window `[start, end)` from the buffered samples in its reach.
    pub(super) fn render(&self, start: u64, end: u64) -> Window {
        let has = |m| self.modalities.contains(&m);
        let rule = GapRule {
            max_gap: self.spec.max_gap_ns(),
            min_coverage: self.spec.min_coverage(),
        };
        let grid = |len| Grid {
            start,
            span: end - start,
            len,
        };
        let reach = |m| {
            (
                start.saturating_sub(self.horizon(m)),
                end.saturating_add(self.horizon(m)),
            )
        };
        let video = has(Modality::Video).then(|| {
            let frames = self.video.between(start, end - 1);
            let points = self.frame_grid().points_in(start);
            video_block(&points, frames, self.spec.max_gap_ns())
        });
        let imu = has(Modality::Imu).then(|| {
            let (lo, hi) = reach(Modality::Imu);
            imu_block(grid(self.spec.imu_len()), self.imu.between(lo, hi), rule)
        });
        let audio = has(Modality::Audio).then(|| {
            let (lo, hi) = reach(Modality::Audio);
            let chunks = self.audio.between(lo, hi);
            audio_block(
                grid(self.spec.audio_len()),
                chunks,
                self.spec.audio_rate_hz(),
                lo,
                hi,
                rule,
            )
        });
        let (video, imu, audio) = (video.flatten(), imu.flatten(), audio.flatten());
        Window {
            start: Timestamp(start),
            end: Timestamp(end),
            video,
            imu,
            audio,
        }
    }

    /// The stream's frame grid: T points per window length from the first
    /// window's start, so overlapping windows share their frames.
    pub fn frame_grid(&self) -> FrameGrid {
        FrameGrid {
            origin: self.start,
            span: self.spec.len_ns(),
            frames: self.spec.frames(),
        }
    }

    /// Drops from every track what no window still to come can use.
    pub(super) fn prune(&mut self) {
        for m in Modality::ALL {
            let cutoff = self.cutoff(m);
            self.track_mut(m).prune(cutoff);
        }
    }
}
