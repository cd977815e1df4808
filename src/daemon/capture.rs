//! An enrollment being captured: from `enroll_start`, every window the pipeline encodes
//! joins it (its fused embedding), until the stream has covered the requested seconds, the
//! `[daemon] max_enroll_windows` bound is reached, or the client stops it (or, by clips,
//! `daemon::clip_capture`: until N whole clips of the class played). It is learned
//! when the client calls `enroll_stop` (which journals it first); one that nobody claims
//! within `UNCLAIMED` after it completed is dropped, so a vanished client cannot pin the
//! memory or block the next enrollment.

use super::clip_capture::{ClipCapture, WindowSpan};
use crate::classes::{ClassName, Enrollment};
use crate::control::api::EnrollProgress;
use crate::embedding::Embedding;
use crate::sensor::replay::PlayedClip;
use crate::time::Timestamp;
use std::time::{Duration, Instant};

/// How long a completed capture waits for its `enroll_stop`.
pub const UNCLAIMED: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureState {
    Capturing,
    /// The target (seconds or windows) was reached; waiting for `enroll_stop`.
    Complete,
}

/// One enrollment's windows so far.
#[derive(Debug)]
pub struct Capture {
    pub id: u64,
    pub label: ClassName,
    target_ns: Option<u64>,
    max_windows: usize,
    embeddings: Vec<Embedding>,
    span: Option<(Timestamp, Timestamp)>,
    /// The play log's clips the windows came from (replay), for the record's source.
    sources: Vec<String>,
    pub state: CaptureState,
    completed_at: Option<Instant>,
    /// Set for an enrollment by whole clips: it holds the clips' means instead.
    by_clips: Option<ClipCapture>,
}

impl Capture {
    pub fn new(id: u64, label: ClassName, seconds: Option<f64>, max_windows: usize) -> Capture {
        Capture {
            id,
            label,
            target_ns: seconds.map(|s| (s * 1e9).round() as u64),
            max_windows: max_windows.max(1),
            embeddings: Vec::new(),
            span: None,
            sources: Vec::new(),
            state: CaptureState::Capturing,
            completed_at: None,
            by_clips: None,
        }
    }

    /// A capture of `clips` whole clips of `label` (replay), windows `stride_ns` apart.
    pub fn by_clips(id: u64, label: ClassName, clips: usize, stride_ns: u64) -> Capture {
        let by_clips = ClipCapture::new(label.as_str(), clips, stride_ns);
        Capture {
            by_clips: Some(by_clips),
            ..Capture::new(id, label, None, usize::MAX)
        }
    }

    /// True when it takes whole clips and so needs each window's played clip.
    pub fn wants_clips(&self) -> bool {
        self.by_clips.is_some()
    }

    /// Adds one window of an enrollment by clips (`played`: the clip it was cut from).
    pub fn push_played(&mut self, w: WindowSpan, e: &Embedding, played: Option<&PlayedClip>) {
        let Some(clips) = self
            .by_clips
            .as_mut()
            .filter(|_| self.state == CaptureState::Capturing)
        else {
            return;
        };
        clips.push(w, e, played);
        let (first, _) = self.span.unwrap_or((w.start, w.end));
        self.span = Some((first.min(w.start), w.end));
        if clips.is_complete() {
            self.state = CaptureState::Complete;
            self.completed_at = Some(Instant::now());
        }
    }

    /// Adds one window (its span and embedding; `source` names where it came from).
    pub fn push(&mut self, start: Timestamp, end: Timestamp, e: Embedding, source: &str) {
        if self.state != CaptureState::Capturing {
            return;
        }
        self.embeddings.push(e);
        let (first, _) = self.span.unwrap_or((start, end));
        self.span = Some((first.min(start), end));
        if !self.sources.iter().any(|s| s == source) && self.sources.len() < 8 {
            self.sources.push(source.to_string());
        }
        let covered = end.since(first);
        let full = self.embeddings.len() >= self.max_windows;
        if full || self.target_ns.is_some_and(|t| covered >= t) {
            self.state = CaptureState::Complete;
            self.completed_at = Some(Instant::now());
        }
    }

    /// Windows captured (by clips: those of the whole clips).
    pub fn windows(&self) -> usize {
        self.by_clips
            .as_ref()
            .map_or(self.embeddings.len(), ClipCapture::windows)
    }

    /// Seconds of stream from the first window's start to the last window's end.
    pub fn seconds(&self) -> f64 {
        self.span.map_or(0.0, |(a, b)| b.since(a) as f64 * 1e-9)
    }

    /// True when it completed long ago and nobody claimed it.
    pub fn expired(&self, now: Instant) -> bool {
        self.completed_at
            .is_some_and(|t| now.duration_since(t) > UNCLAIMED)
    }

    pub fn progress(&self) -> EnrollProgress {
        let state = match self.state {
            CaptureState::Capturing => "capturing",
            CaptureState::Complete => "complete",
        };
        EnrollProgress {
            id: self.id,
            label: self.label.to_string(),
            state: state.into(),
            windows: self.windows(),
            seconds: self.seconds(),
            target_seconds: self.target_ns.map(|t| t as f64 * 1e-9),
            clips: self.by_clips.as_ref().map(ClipCapture::clips),
            target_clips: self.by_clips.as_ref().map(ClipCapture::wanted),
        }
    }

    /// The enrollment record (`None` without any window; by clips, without a whole clip).
    pub fn into_enrollment(self) -> Option<Enrollment> {
        let span = self.span?;
        if let Some(clips) = self.by_clips {
            let (embeddings, source) = clips.into_parts();
            return (!embeddings.is_empty()).then_some(Enrollment {
                label: self.label,
                embeddings,
                span,
                source,
            });
        }
        Some(Enrollment {
            label: self.label,
            embeddings: self.embeddings,
            span,
            source: self.sources.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> Embedding {
        Embedding::new(vec![1.0, 0.0], 2).unwrap()
    }

    fn s(secs: u64) -> Timestamp {
        Timestamp(secs * 1_000_000_000)
    }

    #[test]
    fn completes_when_the_stream_covered_the_target_or_the_bound() {
        let mut c = Capture::new(1, ClassName::new("walk").unwrap(), Some(6.0), 100);
        c.push(s(10), s(15), e(), "a");
        assert_eq!(c.state, CaptureState::Capturing);
        c.push(s(11), s(16), e(), "b");
        assert_eq!(
            (c.state, c.windows(), c.seconds()),
            (CaptureState::Complete, 2, 6.0)
        );
        c.push(s(12), s(17), e(), "a");
        assert_eq!(c.windows(), 2, "nothing joins a complete capture");
        let record = c.into_enrollment().unwrap();
        assert_eq!(
            (record.span, record.source.as_str()),
            ((s(10), s(16)), "a, b")
        );
        let mut bounded = Capture::new(2, ClassName::new("run").unwrap(), None, 2);
        bounded.push(s(0), s(5), e(), "a");
        bounded.push(s(1), s(6), e(), "a");
        assert_eq!(bounded.progress().state, "complete");
        assert!(Capture::new(3, ClassName::new("x").unwrap(), None, 5)
            .into_enrollment()
            .is_none());
    }
}
