//! The frame cache: a stream's windows encoded with each frame through the
//! video network once. It keeps, in a bounded ring, the `FrameFeatures` of
//! the last video window's frames that the next window can share, and builds
//! every window from cached and newly encoded frames through the model's fuse
//! stage (`FrameStage`).
//!
//! Sharing comes from the aligner's global frame grid (`align::FrameGrid`):
//! consecutive windows hold the same grid points, and away from the window
//! edges the same frames. A frame is named by its timestamp: within one
//! stream (one clock, duplicates dropped by the aligner) a time is one frame.
//! A caller that encodes another stream with the same cache (another clip, a
//! restarted clock) calls `clear` first.
//!
//! A model without a frame stage, a backend that cannot split one (ONNX
//! Runtime), or windows that do not overlap (capacity 0) take the
//! whole-window path, `Encoder::encode`, unchanged.

use super::{EncodeError, Encoded, Encoder, FrameFeatures, FrameStage};
use crate::align::WindowSpec;
use crate::sample::Frame;
use crate::time::Timestamp;
use crate::window::Window;
use std::collections::VecDeque;

/// What the cache did over its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FrameCounts {
    /// Frames run through the video network.
    pub frames_encoded: u64,
    /// Frames of a window served from the ring instead (a frame a window
    /// uses twice counts once, as encoded or as reused).
    pub frames_reused: u64,
    /// Windows built through the fuse stage.
    pub windows_fused: u64,
    /// Windows encoded whole (`Encoder::encode`).
    pub windows_whole: u64,
}

/// A bounded ring of per-frame features, oldest first.
#[derive(Debug, Clone)]
pub struct FrameCache {
    capacity: usize,
    ring: VecDeque<(Timestamp, FrameFeatures)>,
    counts: FrameCounts,
}

impl FrameCache {
    /// A cache holding at most `capacity` frames' features (0: every window
    /// takes the whole-window path).
    pub fn new(capacity: usize) -> FrameCache {
        FrameCache {
            capacity,
            ring: VecDeque::with_capacity(capacity),
            counts: FrameCounts::default(),
        }
    }

    /// The cache a stream cut by `spec` needs: room for every frame of a
    /// window that a later window can use. Window k+1's first grid point is
    /// at least floor(stride * T / seconds) points after window k's, so at
    /// most T - floor(stride * T / seconds) of k's points lie in k+1, plus one
    /// frame: the point just before k+1 starts may have picked a frame after
    /// that start (frames lie inside the window, not inside the segment). The
    /// default 5.12 s window every second needs all 8; windows that do not
    /// overlap share nothing (0: the whole-window path).
    pub fn for_spec(spec: &WindowSpec) -> FrameCache {
        let (stride, len) = (spec.stride_ns(), spec.len_ns());
        if stride >= len {
            return FrameCache::new(0);
        }
        let t = spec.frames() as u128;
        let shift = u128::from(stride) * t / u128::from(len).max(1);
        let capacity = (t - shift.min(t) + 1).min(t);
        FrameCache::new(usize::try_from(capacity).unwrap_or(spec.frames()))
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Frames whose features are held now (at most `capacity`).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    pub fn counts(&self) -> FrameCounts {
        self.counts
    }

    /// Forgets every frame (another stream follows); the counts stay.
    pub fn clear(&mut self) {
        self.ring.clear();
    }

    /// Encodes `windows` (in stream order), one `Encoded` per window, equal
    /// to `encoder.encode(windows)` within float rounding. On error nothing is
    /// returned; the ring holds what the last window encoded before it left.
    pub fn encode(
        &mut self,
        encoder: &mut dyn Encoder,
        windows: &[Window],
    ) -> Result<Vec<Encoded>, EncodeError> {
        let stage = match encoder.frame_stage() {
            Some(stage) if self.capacity > 0 => stage,
            _ => {
                self.counts.windows_whole += windows.len() as u64;
                return encoder.encode(windows);
            }
        };
        windows
            .iter()
            .map(|w| self.encode_window(stage, w))
            .collect()
    }

    fn encode_window(
        &mut self,
        stage: &mut dyn FrameStage,
        window: &Window,
    ) -> Result<Encoded, EncodeError> {
        let frames = window.video.as_ref().map(|v| v.frames.as_slice());
        let features = frames.map(|f| self.features(stage, f)).transpose()?;
        let encoded = stage.fuse(features.as_deref(), window.imu.as_ref())?;
        self.counts.windows_fused += 1;
        if let (Some(frames), Some(features)) = (frames, features) {
            self.keep(frames, features);
        }
        Ok(encoded)
    }

    /// The features of `frames`, in order: from the ring, or encoded now in
    /// one call (each missing frame once, even when the window repeats it).
    fn features(
        &mut self,
        stage: &mut dyn FrameStage,
        frames: &[Frame],
    ) -> Result<Vec<FrameFeatures>, EncodeError> {
        let mut missing: Vec<Frame> = Vec::new();
        let mut reused: Option<Timestamp> = None;
        // Frames come in time order, so a repeated frame follows itself.
        for f in frames {
            if reused == Some(f.t) || missing.iter().any(|m| m.t == f.t) {
                continue;
            }
            if self.cached(f.t).is_some() {
                self.counts.frames_reused += 1;
                reused = Some(f.t);
            } else {
                missing.push(f.clone());
            }
        }
        let fresh = stage.encode_frames(&missing)?;
        if fresh.len() != missing.len() {
            let (frames, got) = (missing.len(), fresh.len());
            return Err(EncodeError::FrameRows { frames, got });
        }
        self.counts.frames_encoded += missing.len() as u64;
        let mut out = Vec::with_capacity(frames.len());
        for f in frames {
            let row = match missing.iter().position(|m| m.t == f.t) {
                Some(i) => fresh.get(i),
                None => self.cached(f.t),
            };
            // Every frame is either missing (encoded now) or cached.
            let (frames, got) = (missing.len(), fresh.len());
            out.push(row.cloned().ok_or(EncodeError::FrameRows { frames, got })?);
        }
        Ok(out)
    }

    fn cached(&self, t: Timestamp) -> Option<&FrameFeatures> {
        self.ring.iter().find(|(at, _)| *at == t).map(|(_, f)| f)
    }

    /// Keeps the last `capacity` distinct frames of a window (frames in time
    /// order): the only ones a later window can share, since a window's
    /// frames lie inside it and later windows start later.
    fn keep(&mut self, frames: &[Frame], features: Vec<FrameFeatures>) {
        let mut distinct: Vec<(Timestamp, FrameFeatures)> =
            frames.iter().map(|f| f.t).zip(features).collect();
        distinct.dedup_by_key(|(t, _)| *t);
        let skip = distinct.len().saturating_sub(self.capacity);
        self.ring.clear();
        self.ring.extend(distinct.into_iter().skip(skip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::WindowParams;

    fn capacity(seconds: f64, stride_seconds: f64, frames: usize) -> usize {
        let params = WindowParams {
            seconds,
            stride_seconds,
            frames,
            ..WindowParams::default()
        };
        FrameCache::for_spec(&WindowSpec::new(params).unwrap()).capacity()
    }

    #[test]
    fn capacity_follows_window_and_stride() {
        // Period 0.64 s: a stride of 1 s moves the grid by 1 or 2 points.
        assert_eq!(capacity(5.12, 1.0, 8), 8);
        assert_eq!(capacity(5.12, 1.3, 8), 7);
        // The offline windows, half a window apart: 4 points shared, + 1.
        assert_eq!(capacity(5.12, 2.56, 8), 5);
        assert_eq!(capacity(5.12, 4.5, 8), 2);
        // Adjacent or gapped windows share nothing.
        assert_eq!(capacity(5.12, 5.12, 8), 0);
        assert_eq!(capacity(5.12, 9.0, 8), 0);
        assert_eq!(capacity(2.0, 1.9, 1), 1);
    }
}
