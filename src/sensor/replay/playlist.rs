//! What a replay plays and what it has played: the `Playlist` (clips in order,
//! optionally looping) and the shared, bounded `PlayLog` (each clip's id, class
//! and span on the timeline), which lets a consumer find the true class of a
//! window by its span: ground truth for the daemon's "now playing" and online
//! accuracy.

use crate::dataset::Clip;
use crate::learn::ClassId;
use crate::time::Timestamp;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// The clips a replay source plays, in order; with `looping`, from the first
/// again after the last, forever.
#[derive(Debug, Clone)]
pub struct Playlist {
    clips: Vec<Clip>,
    looping: bool,
}

impl Playlist {
    /// Plays `clips` once, in order.
    pub fn once(clips: Vec<Clip>) -> Playlist {
        Playlist {
            clips,
            looping: false,
        }
    }

    /// Plays `clips` in order, then again, until the pipeline stops.
    pub fn looping(clips: Vec<Clip>) -> Playlist {
        Playlist {
            clips,
            looping: true,
        }
    }

    pub fn clips(&self) -> &[Clip] {
        &self.clips
    }

    pub fn is_looping(&self) -> bool {
        self.looping
    }

    /// The clip at play position `k` (0, 1, 2, ... over every pass), `None` after
    /// the end of a playlist that does not loop (or an empty one).
    pub fn at(&self, k: usize) -> Option<&Clip> {
        match self.looping {
            false => self.clips.get(k),
            true => self.clips.get(k.checked_rem(self.clips.len())?),
        }
    }
}

/// One clip as played: where it lies on the replay timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlayedClip {
    /// `<k_name>/<clip>` (`Clip::id`).
    pub clip: String,
    pub label: ClassId,
    /// The span `[start, end)` its samples occupy on the timeline.
    pub start: Timestamp,
    pub end: Timestamp,
    /// One past its last sample (`end` is the nominal rows / 25 Hz end, up to a sample
    /// period later): a window ending after it is not one of the clip's offline windows.
    pub samples_end: Timestamp,
}

impl PlayedClip {
    /// Nanoseconds of `[start, end)` this clip covers.
    fn overlap(&self, start: Timestamp, end: Timestamp) -> u64 {
        let (lo, hi) = (self.start.max(start), self.end.min(end));
        hi.since(lo)
    }
}

/// The clips a replay source has started, newest last; shared (clone the handle
/// before the source moves into the pipeline) and bounded: the oldest entry
/// goes once `capacity` are held, so a looping replay costs constant memory.
#[derive(Debug, Clone)]
pub struct PlayLog {
    entries: Arc<Mutex<VecDeque<PlayedClip>>>,
    capacity: usize,
}

/// Entries a play log keeps unless told otherwise: at a 37 s clip that is over
/// two hours of replay, far more than any window or consumer lags behind.
pub const DEFAULT_PLAY_LOG_CAPACITY: usize = 256;

impl Default for PlayLog {
    fn default() -> Self {
        PlayLog::new(DEFAULT_PLAY_LOG_CAPACITY)
    }
}

impl PlayLog {
    /// A log keeping the last `capacity` clips (at least one).
    pub fn new(capacity: usize) -> PlayLog {
        PlayLog {
            entries: Arc::new(Mutex::new(VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    pub(super) fn record(&self, played: PlayedClip) {
        let mut entries = self.lock();
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(played);
    }

    /// The entries held, oldest first.
    pub fn entries(&self) -> Vec<PlayedClip> {
        self.lock().iter().cloned().collect()
    }

    /// The clip started last (what is playing now, or was when the replay ended).
    pub fn now_playing(&self) -> Option<PlayedClip> {
        self.lock().back().cloned()
    }

    /// The clip a window `[start, end)` was cut from: the held entry covering
    /// most of it (the earlier on a tie); `None` when it covers no clip held.
    pub fn lookup(&self, start: Timestamp, end: Timestamp) -> Option<PlayedClip> {
        let entries = self.lock();
        let mut best: Option<(&PlayedClip, u64)> = None;
        for e in entries.iter() {
            let o = e.overlap(start, end);
            if o > 0 && best.is_none_or(|(_, b)| o > b) {
                best = Some((e, o));
            }
        }
        best.map(|(e, _)| e.clone())
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<PlayedClip>> {
        // Entries are whole values pushed under the lock: a poisoned log is still consistent.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn played(clip: &str, label: ClassId, start_s: u64, end_s: u64) -> PlayedClip {
        PlayedClip {
            clip: clip.into(),
            label,
            start: Timestamp(start_s * 1_000_000_000),
            end: Timestamp(end_s * 1_000_000_000),
            samples_end: Timestamp(end_s * 1_000_000_000),
        }
    }

    fn s(secs: u64) -> Timestamp {
        Timestamp(secs * 1_000_000_000)
    }

    #[test]
    fn lookup_takes_the_clip_covering_most_of_the_window() {
        let log = PlayLog::new(8);
        log.record(played("a", 0, 0, 10));
        log.record(played("b", 3, 12, 20));
        assert_eq!(log.lookup(s(2), s(7)).map(|p| p.clip), Some("a".into()));
        // [8, 14): 2 s of a, 2 s of b: the earlier wins the tie.
        assert_eq!(log.lookup(s(8), s(14)).map(|p| p.clip), Some("a".into()));
        assert_eq!(log.lookup(s(9), s(15)).map(|p| p.label), Some(3));
        // In the gap between clips, and after the last one: no class.
        assert_eq!(log.lookup(s(10), s(12)), None);
        assert_eq!(log.lookup(s(30), s(35)), None);
        assert_eq!(log.now_playing().map(|p| p.clip), Some("b".into()));
    }

    #[test]
    fn the_log_keeps_only_its_capacity() {
        let log = PlayLog::new(2);
        for k in 0..5 {
            log.record(played(&k.to_string(), 0, 10 * k, 10 * k + 5));
        }
        let kept: Vec<String> = log.entries().into_iter().map(|p| p.clip).collect();
        assert_eq!(kept, ["3", "4"]);
    }

    #[test]
    fn a_looping_playlist_wraps_and_an_empty_one_ends() {
        let none = Playlist::looping(Vec::new());
        assert!(none.at(0).is_none());
        let once = Playlist::once(Vec::new());
        assert!(once.at(3).is_none() && !once.is_looping());
    }
}
