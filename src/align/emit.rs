//! When the aligner emits a window, and the bound on runs of empty windows.
//!
//! Window k is ready once, for every aligned modality m, the effective
//! watermark E_m has passed the last instant that can shape m in k (the
//! window end for frames; end + horizon for the IMU and audio grids). Every
//! sample at or before that instant has then arrived or will be dropped as
//! late, so the window's content is final: the same in every interleaving.

use super::stream::Aligner;
use crate::sample::Modality;
use crate::window::Window;

impl Aligner {
    /// Every window that is ready, in order. Call it often: buffers shrink
    /// only when windows are emitted.
    pub fn pop_ready(&mut self) -> Vec<Window> {
        self.drain(false)
    }

    /// End of stream: emits every remaining window that starts at or before
    /// the newest timestamp accepted, as if every watermark were infinite.
    pub fn finish(mut self) -> Vec<Window> {
        self.drain(true)
    }

    fn drain(&mut self, flush: bool) -> Vec<Window> {
        let mut out = Vec::new();
        while let Some((start, end)) = self
            .bounds(self.next)
            .filter(|&(s, e)| self.ready(s, e, flush))
        {
            let window = self.render(start, end);
            self.next += 1;
            self.prune();
            self.deliver(window, &mut out, flush);
        }
        out
    }

    fn ready(&self, start: u64, end: u64, flush: bool) -> bool {
        if flush {
            return self.newest().is_some_and(|t| start <= t);
        }
        self.modalities.iter().all(|&m| {
            let last_needed = match m {
                Modality::Video => end - 1,
                _ => end.saturating_add(self.horizon(m)),
            };
            self.effective(m).is_some_and(|e| e > last_needed)
        })
    }

    /// The newest timestamp accepted in any modality.
    fn newest(&self) -> Option<u64> {
        Modality::ALL
            .into_iter()
            .filter_map(|m| self.track(m).newest())
            .max()
    }

    /// Emits `w`, unless it is empty and `max_empty_run` empty windows were
    /// just emitted: then it and every following window that provably has no
    /// sample in reach are counted as suppressed and skipped in one step (a
    /// clock jump of hours costs no more than one of seconds).
    fn deliver(&mut self, w: Window, out: &mut Vec<Window>, flush: bool) {
        if !w.is_empty() {
            self.empty_run = 0;
        } else if self.empty_run < self.spec.max_empty_run() {
            self.empty_run += 1;
        } else {
            self.empty_suppressed += 1;
            self.skip_empty(flush);
            return;
        }
        for m in Modality::ALL {
            if self.modalities.contains(&m) && !w.is_present(m) {
                self.track_mut(m).stats_mut().windows_absent += 1;
            }
        }
        self.windows_emitted += 1;
        out.push(w);
    }

    /// Moves `next` past the windows that end before any sample still to be
    /// used (buffered, or at or after a watermark) can reach them.
    fn skip_empty(&mut self, flush: bool) {
        let floor = self
            .modalities
            .iter()
            .filter_map(|&m| self.earliest_reach(m, flush))
            .min();
        let stop = self.first_after_stream(flush);
        let target = floor
            .map_or(stop, |f| self.first_ending_at_or_after(f))
            .min(stop);
        if target > self.next {
            self.empty_suppressed += target - self.next;
            self.next = target;
            self.prune();
        }
    }

    /// The earliest instant a sample of `m` still to be used can shape a
    /// window: min(oldest buffered, effective watermark) - horizon.
    fn earliest_reach(&self, m: Modality, flush: bool) -> Option<u64> {
        let first = self.track(m).first_t();
        let future = if flush { None } else { self.effective(m) };
        let earliest = match (first, future) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        earliest.map(|t| t.saturating_sub(self.horizon(m)))
    }

    /// The first window index whose end is at or after `t`.
    fn first_ending_at_or_after(&self, t: u64) -> u64 {
        let first_end = self.start.saturating_add(self.spec.len_ns());
        t.saturating_sub(first_end).div_ceil(self.spec.stride_ns())
    }

    /// In a flush, the first window starting after the newest sample (no
    /// window from there on is emitted); live, no limit.
    fn first_after_stream(&self, flush: bool) -> u64 {
        match self.newest().filter(|_| flush) {
            Some(t) if t >= self.start => (t - self.start) / self.spec.stride_ns() + 1,
            Some(_) => 0,
            None if flush => 0,
            None => u64::MAX,
        }
    }
}
