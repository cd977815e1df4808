//! The streaming `Aligner`: timestamped samples in, `Window`s out, in window
//! order, with bounded buffers. docs/align.md states the rules exactly.
//!
//! `push` only classifies and buffers; `pop_ready` builds every window whose
//! inputs are final and prunes what no later window can use; `finish` flushes
//! at the end of the stream. Readiness (in `emit`) depends on watermarks, so
//! the windows are the same however the input was chunked or interleaved.

use super::error::AlignError;
use super::render::{audio_block, imu_block, video_block};
use super::resample::{GapRule, Grid};
use super::spec::WindowSpec;
use super::track::{ModalityStats, Track};
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
        Ok(Aligner {
            frame_size: spec.frame_size(),
            spec,
            start: start.0,
            modalities,
            video: Track::new(),
            imu: Track::new(),
            audio: Track::new(),
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
            self.stats_mut(m).rejected += 1;
            let (expected, t_ns) = (self.modalities.clone(), sample.t().0);
            return Err(AlignError::UnexpectedModality {
                expected,
                got: m,
                t_ns,
            });
        }
        if let Err(e) = self.check(&sample) {
            self.stats_mut(m).rejected += 1;
            return Err(e);
        }
        let (effective, cutoff) = (self.effective(m), self.cutoff(m));
        let (jump, lateness) = (self.spec.len_ns(), self.spec.lateness_ns());
        match sample {
            Sample::Frame(f) => self.video.push(f, effective, cutoff, jump, lateness),
            Sample::Imu(s) => self.imu.push(s, effective, cutoff, jump, lateness),
            Sample::Audio(a) => self.audio.push(a, effective, cutoff, jump, lateness),
        };
        Ok(())
    }

    /// Counters so far.
    pub fn stats(&self) -> AlignStats {
        AlignStats {
            video: self.video.stats,
            imu: self.imu.stats,
            audio: self.audio.stats,
            windows_emitted: self.windows_emitted,
            empty_windows_suppressed: self.empty_suppressed,
        }
    }

    /// Samples currently buffered for `m` (bounded: see docs/align.md).
    pub fn buffered(&self, m: Modality) -> usize {
        match m {
            Modality::Video => self.video.len(),
            Modality::Imu => self.imu.len(),
            Modality::Audio => self.audio.len(),
        }
    }

    pub(super) fn stats_mut(&mut self, m: Modality) -> &mut ModalityStats {
        match m {
            Modality::Video => &mut self.video.stats,
            Modality::Imu => &mut self.imu.stats,
            Modality::Audio => &mut self.audio.stats,
        }
    }

    /// Refuses samples that could not become part of a valid block.
    fn check(&mut self, sample: &Sample) -> Result<(), AlignError> {
        match sample {
            Sample::Frame(f) => self.check_frame(f),
            Sample::Imu(s) => match s.channels().iter().position(|v| !v.is_finite()) {
                Some(index) => Err(AlignError::NonFinite {
                    modality: Modality::Imu,
                    t_ns: s.t.0,
                    index,
                }),
                None => Ok(()),
            },
            Sample::Audio(a) => check_audio(a, self.spec.audio_rate_hz()),
        }
    }

    fn check_frame(&mut self, f: &Frame) -> Result<(), AlignError> {
        let expected = f.width as usize * f.height as usize * 3;
        if f.width == 0 || f.height == 0 || f.rgb.len() != expected {
            let (width, height, got) = (f.width, f.height, f.rgb.len());
            return Err(AlignError::FrameBuffer {
                t_ns: f.t.0,
                width,
                height,
                expected,
                got,
            });
        }
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

    pub(super) fn watermark(&self, m: Modality) -> Option<u64> {
        let lateness = self.spec.lateness_ns();
        match m {
            Modality::Video => self.video.watermark(lateness),
            Modality::Imu => self.imu.watermark(lateness),
            Modality::Audio => self.audio.watermark(lateness),
        }
    }

    /// `m`'s effective watermark: its own, or another modality's minus the
    /// stall bound when that is further on (a silent sensor stops holding
    /// windows back). Samples older than it are late; it never decreases.
    pub(super) fn effective(&self, m: Modality) -> Option<u64> {
        let others = self
            .modalities
            .iter()
            .filter(|&&o| o != m)
            .filter_map(|&o| self.watermark(o))
            .max();
        self.watermark(m)
            .max(others.map(|w| w.saturating_sub(self.spec.stall_ns())))
    }

    /// Builds window `k` from the buffered samples in its reach.
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
            video_block(grid(self.spec.frames()), frames, self.spec.max_gap_ns())
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

    pub(super) fn prune(&mut self) {
        let cut = |m| self.cutoff(m);
        let (v, i, a) = (
            cut(Modality::Video),
            cut(Modality::Imu),
            cut(Modality::Audio),
        );
        self.video.prune(v);
        self.imu.prune(i);
        self.audio.prune(a);
    }
}

fn check_audio(a: &AudioChunk, rate: u32) -> Result<(), AlignError> {
    if a.rate_hz != rate {
        return Err(AlignError::AudioRate {
            t_ns: a.t.0,
            expected: rate,
            got: a.rate_hz,
        });
    }
    if a.pcm.is_empty() {
        return Err(AlignError::EmptyAudio { t_ns: a.t.0 });
    }
    match a.pcm.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(AlignError::NonFinite {
            modality: Modality::Audio,
            t_ns: a.t.0,
            index,
        }),
        None => Ok(()),
    }
}
