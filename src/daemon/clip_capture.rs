//! Enrollment by whole clips (`enroll LABEL --clips N`, replay only): the windows of the
//! next N clips of class LABEL that the replay plays from their first window, each clip
//! learned as one embedding, the mean of its windows — the sample `mmcl embed` caches for
//! a clip and `mmcl bench cl` trains on, so a daemon enrolled this way learns what the
//! offline benchmark learns. A clip counts only whole: every window from its first sample
//! while a window fits before its last (`align::clip_window_plans`), none lost; one joined
//! midway, or missing a window (a full channel dropped frames), is skipped.

use super::replay::display_name;
use crate::embedding::{Embedding, MeanEmbedding};
use crate::sensor::replay::PlayedClip;
use crate::time::Timestamp;

/// One encoded window, as the capture sees it.
#[derive(Debug, Clone, Copy)]
pub struct WindowSpan {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The clips captured so far and the one in progress.
#[derive(Debug)]
pub struct ClipCapture {
    /// Matched against the played clip's class folder, with or without its `<n>_`.
    class: String,
    wanted: usize,
    stride_ns: u64,
    current: Option<Current>,
    /// One mean embedding per whole clip, in play order.
    means: Vec<Embedding>,
    /// The whole clips' ids (at most `SOURCES_KEPT`) and windows.
    clips: Vec<String>,
    windows: usize,
}

/// The clip whose windows are arriving.
#[derive(Debug)]
struct Current {
    clip: PlayedClip,
    mean: MeanEmbedding,
    windows: usize,
    /// Where its next window must start for the clip to stay whole.
    next_start: Timestamp,
}

/// How many clip ids the enrollment's `source` names.
const SOURCES_KEPT: usize = 8;

impl ClipCapture {
    /// Captures `wanted` clips of `class` cut into windows `stride_ns` apart.
    pub fn new(class: &str, wanted: usize, stride_ns: u64) -> ClipCapture {
        ClipCapture {
            class: class.to_string(),
            wanted: wanted.max(1),
            stride_ns: stride_ns.max(1),
            current: None,
            means: Vec::new(),
            clips: Vec::new(),
            windows: 0,
        }
    }

    /// True once `wanted` whole clips are in.
    pub fn is_complete(&self) -> bool {
        self.means.len() >= self.wanted
    }

    pub fn clips(&self) -> usize {
        self.means.len()
    }

    pub fn wanted(&self) -> usize {
        self.wanted
    }

    /// Windows of the whole clips captured.
    pub fn windows(&self) -> usize {
        self.windows
    }

    /// Takes one window (its embedding, and the clip it was cut from, if any).
    pub fn push(&mut self, w: WindowSpan, embedding: &Embedding, played: Option<&PlayedClip>) {
        if self.is_complete() {
            return;
        }
        let Some(played) = played.filter(|p| self.is_of_class(p)) else {
            self.current = None;
            return;
        };
        if self.current.as_ref().is_some_and(|c| c.clip != *played) {
            self.current = None;
        }
        if self.current.is_none() && w.start == played.start {
            self.current = Some(Current {
                clip: played.clone(),
                mean: MeanEmbedding::new(embedding.dim()),
                windows: 0,
                next_start: played.start,
            });
        }
        self.add(w, embedding);
    }

    /// Adds `w` to the clip in progress; a clip whose last window came in is done.
    fn add(&mut self, w: WindowSpan, embedding: &Embedding) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        if w.end > c.clip.samples_end {
            return; // past the clip's last sample: not one of its offline windows
        }
        if w.start != c.next_start {
            self.current = None; // a window was lost: the clip is not whole
            return;
        }
        c.mean.add(embedding.as_slice());
        c.windows += 1;
        c.next_start = w.start.add_nanos(self.stride_ns);
        let window_ns = w.end.since(w.start);
        if c.next_start.add_nanos(window_ns) > c.clip.samples_end {
            self.finish_clip();
        }
    }

    fn finish_clip(&mut self) {
        let Some(c) = self.current.take() else {
            return;
        };
        // The windows' embeddings were checked finite, so their mean is too.
        if let Ok(mean) = c.mean.embedding() {
            self.means.push(mean);
            self.windows += c.windows;
            if self.clips.len() < SOURCES_KEPT {
                self.clips.push(c.clip.clip);
            }
        }
    }

    fn is_of_class(&self, p: &PlayedClip) -> bool {
        let folder = p.clip.split('/').next().unwrap_or_default();
        self.class.eq_ignore_ascii_case(folder)
            || self.class.eq_ignore_ascii_case(&display_name(folder))
    }

    /// The whole clips' mean embeddings and where they came from (`replay a, b`).
    pub fn into_parts(self) -> (Vec<Embedding>, String) {
        (
            self.means,
            format!("replay clips {}", self.clips.join(", ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn played(clip: &str, start_s: u64, samples_end_ns: u64) -> PlayedClip {
        PlayedClip {
            clip: clip.into(),
            label: 0,
            start: Timestamp(start_s * S),
            end: Timestamp(samples_end_ns + S / 25),
            samples_end: Timestamp(samples_end_ns),
        }
    }

    fn w(start_ms: u64) -> WindowSpan {
        WindowSpan {
            start: Timestamp(start_ms * 1_000_000),
            end: Timestamp(start_ms * 1_000_000 + 2 * S),
        }
    }

    fn e(v: f32) -> Embedding {
        Embedding::new(vec![v, 1.0], 2).unwrap()
    }

    #[test]
    fn whole_clips_of_the_class_become_one_mean_each() {
        let mut c = ClipCapture::new("walking", 2, S);
        // 4.96 s of samples from 10 s: windows at 10, 11, 12 s fit; 13 s would end at 15.
        let a = played("3_walking/a", 10, 14_960_000_001);
        c.push(w(11_000), &e(9.0), Some(&a)); // joined midway: skipped
        let b = played("3_walking/b", 20, 24_960_000_001);
        let other = played("4_running/x", 30, 34_960_000_001);
        for (t, v) in [(20_000, 1.0), (21_000, 2.0), (22_000, 6.0)] {
            c.push(w(t), &e(v), Some(&b));
        }
        c.push(w(23_000), &e(50.0), Some(&b)); // overhangs the last sample
        assert_eq!((c.clips(), c.windows()), (1, 3));
        c.push(w(30_000), &e(7.0), Some(&other));
        let d = played("3_walking/d", 40, 43_960_000_001);
        c.push(w(40_000), &e(1.0), Some(&d));
        c.push(w(42_000), &e(1.0), Some(&d)); // 41 s lost: not whole
        let f = played("3_walking/f", 50, 52_000_000_000);
        c.push(w(50_000), &e(4.0), Some(&f));
        assert!(c.is_complete());
        c.push(w(60_000), &e(4.0), Some(&f));
        let (means, source) = c.into_parts();
        assert_eq!(means, vec![e(3.0), e(4.0)]);
        assert_eq!(source, "replay clips 3_walking/b, 3_walking/f");
    }

    #[test]
    fn a_window_outside_any_clip_of_the_class_breaks_the_clip() {
        let mut c = ClipCapture::new("3_Walking", 1, S);
        let a = played("3_walking/a", 0, 3_960_000_001);
        c.push(w(0), &e(1.0), Some(&a));
        c.push(w(1_000), &e(1.0), None);
        c.push(w(2_000), &e(1.0), Some(&a));
        assert_eq!(c.clips(), 0);
        c.push(w(0), &e(1.0), Some(&a));
        c.push(w(1_000), &e(3.0), Some(&a));
        assert_eq!(c.clips(), 1, "the folder name matches too");
    }
}
