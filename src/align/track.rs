//! One modality's buffer inside the aligner: samples sorted by time, the
//! newest time seen, and the per-modality counters.
//!
//! A track decides a sample's fate from its own history only (and the
//! effective watermark the aligner hands it), so that fate does not depend
//! on how the modalities were interleaved on the way in.

use crate::sample::{AudioChunk, Frame, ImuSample};

/// What the aligner needs from a buffered sample: its time and the time its
/// data runs to (later than `t` only for audio chunks).
pub trait Timed {
    fn t(&self) -> u64;
    fn end(&self) -> u64 {
        self.t()
    }
}

impl Timed for ImuSample {
    fn t(&self) -> u64 {
        self.t.0
    }
}

impl Timed for Frame {
    fn t(&self) -> u64 {
        self.t.0
    }
}

impl Timed for AudioChunk {
    fn t(&self) -> u64 {
        self.t.0
    }
    fn end(&self) -> u64 {
        let dur = self.pcm.len() as u128 * 1_000_000_000 / u128::from(self.rate_hz.max(1));
        self.t
            .0
            .saturating_add(u64::try_from(dur).unwrap_or(u64::MAX))
    }
}

/// Counters for one modality. Every sample pushed lands in exactly one of
/// `accepted`, `late_dropped`, `duplicates_dropped`, `stale_dropped`, `rejected`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ModalityStats {
    /// Samples kept for future windows.
    pub accepted: u64,
    /// Samples older than the modality's effective watermark (they could
    /// change a window already emitted, or one whose inputs are final).
    pub late_dropped: u64,
    /// Samples with the same timestamp as one already buffered (first kept).
    pub duplicates_dropped: u64,
    /// In-order samples too old for any window still to come (before the
    /// first window, or between windows when stride > seconds).
    pub stale_dropped: u64,
    /// Samples refused with an `AlignError` (bad frame size, non-finite value...).
    pub rejected: u64,
    /// Accepted samples older than the newest one seen (reordered within lateness).
    pub out_of_order_accepted: u64,
    /// Accepted samples more than one window length after the newest one seen.
    pub clock_jumps_forward: u64,
    /// Runs of samples more than one window length behind the watermark
    /// (each run counted once; its samples are also `late_dropped`).
    pub clock_jumps_backward: u64,
    /// Emitted windows in which this modality is absent.
    pub windows_absent: u64,
}

/// How a pushed sample was classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Accepted,
    Late,
    Duplicate,
    Stale,
}

/// A modality's sorted buffer.
#[derive(Debug)]
pub struct Track<S> {
    items: Vec<S>,
    newest: Option<u64>,
    in_backward_jump: bool,
    /// The reordering bound: the own watermark is newest - lateness.
    lateness: u64,
    /// The distance between consecutive times counted as a clock jump.
    jump: u64,
    stats: ModalityStats,
}

/// What the aligner asks of any track, whatever its sample type.
pub trait Buffer {
    /// The newest accepted time minus lateness: this modality's own watermark.
    fn watermark(&self) -> Option<u64>;
    /// The newest time accepted (stale samples included).
    fn newest(&self) -> Option<u64>;
    /// The earliest buffered time.
    fn first_t(&self) -> Option<u64>;
    fn len(&self) -> usize;
    /// Drops every leading sample whose data ends before `cutoff`.
    fn prune(&mut self, cutoff: u64);
    fn stats(&self) -> &ModalityStats;
    fn stats_mut(&mut self) -> &mut ModalityStats;
}

impl<S: Timed> Buffer for Track<S> {
    fn watermark(&self) -> Option<u64> {
        self.newest.map(|t| t.saturating_sub(self.lateness))
    }

    fn newest(&self) -> Option<u64> {
        self.newest
    }

    fn first_t(&self) -> Option<u64> {
        self.items.first().map(Timed::t)
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn prune(&mut self, cutoff: u64) {
        let keep_from = self
            .items
            .iter()
            .position(|x| x.end() >= cutoff)
            .unwrap_or(self.items.len());
        self.items.drain(..keep_from);
    }

    fn stats(&self) -> &ModalityStats {
        &self.stats
    }

    fn stats_mut(&mut self) -> &mut ModalityStats {
        &mut self.stats
    }
}

impl<S: Timed> Track<S> {
    pub fn new(lateness: u64, jump: u64) -> Track<S> {
        Track {
            items: Vec::new(),
            newest: None,
            in_backward_jump: false,
            lateness,
            jump,
            stats: ModalityStats::default(),
        }
    }

    #[cfg(test)]
    pub fn items(&self) -> &[S] {
        &self.items
    }

    /// Classifies `s` and keeps it if accepted. `effective` is the watermark
    /// below which samples are late; `cutoff` the oldest time a window still
    /// to come can use.
    pub fn push(&mut self, s: S, effective: Option<u64>, cutoff: u64) -> Fate {
        let t = s.t();
        if effective.is_some_and(|e| t < e) {
            self.note_late(t);
            return Fate::Late;
        }
        let at = self.items.partition_point(|x| x.t() < t);
        if self.items.get(at).is_some_and(|x| x.t() == t) {
            self.stats.duplicates_dropped += 1;
            return Fate::Duplicate;
        }
        let reordered = self.newest.is_some_and(|n| t < n);
        self.note_newest(t);
        if s.end() < cutoff {
            self.stats.stale_dropped += 1;
            return Fate::Stale;
        }
        self.stats.out_of_order_accepted += u64::from(reordered);
        self.stats.accepted += 1;
        self.items.insert(at, s);
        Fate::Accepted
    }

    fn note_late(&mut self, t: u64) {
        self.stats.late_dropped += 1;
        let far = self
            .watermark()
            .is_some_and(|w| t.saturating_add(self.jump) < w);
        if far && !self.in_backward_jump {
            self.stats.clock_jumps_backward += 1;
        }
        self.in_backward_jump = far;
    }

    /// Updates the newest time and the jump counter for a sample that is
    /// neither late nor a duplicate (stale samples too: the watermark must
    /// not depend on when windows were emitted).
    fn note_newest(&mut self, t: u64) {
        self.in_backward_jump = false;
        if self.newest.is_some_and(|n| t > n.saturating_add(self.jump)) {
            self.stats.clock_jumps_forward += 1;
        }
        self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
    }

    /// Samples with `lo <= t <= hi` (for audio: whose data reaches `lo`).
    pub fn between(&self, lo: u64, hi: u64) -> &[S] {
        let from = self
            .items
            .iter()
            .position(|x| x.end() >= lo)
            .unwrap_or(self.items.len());
        let to = self.items.partition_point(|x| x.t() <= hi).max(from);
        self.items.get(from..to).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn imu(t: u64) -> ImuSample {
        ImuSample {
            t: Timestamp(t),
            acc: [0.0; 3],
            gyro: [0.0; 3],
        }
    }

    #[test]
    fn classifies_late_duplicate_stale_and_reordered() {
        let mut tr: Track<ImuSample> = Track::new(10, 1000);
        assert_eq!(tr.push(imu(100), None, 50), Fate::Accepted);
        assert_eq!(tr.push(imu(100), None, 50), Fate::Duplicate);
        assert_eq!(tr.push(imu(95), Some(90), 50), Fate::Accepted);
        assert_eq!(tr.push(imu(80), Some(90), 50), Fate::Late);
        assert_eq!(tr.push(imu(40), None, 50), Fate::Stale);
        let times: Vec<u64> = tr.items().iter().map(Timed::t).collect();
        assert_eq!(times, vec![95, 100]);
        let s = *tr.stats();
        assert_eq!(
            (
                s.accepted,
                s.duplicates_dropped,
                s.late_dropped,
                s.stale_dropped
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(s.out_of_order_accepted, 1); // 95 (the stale 40 is not kept)
    }

    #[test]
    fn backward_jump_counted_once_per_run() {
        let mut tr: Track<ImuSample> = Track::new(10, 1000);
        tr.push(imu(10_000), None, 0);
        for t in [5, 6, 7] {
            assert_eq!(tr.push(imu(t), Some(9_990), 0), Fate::Late);
        }
        assert_eq!(tr.stats().clock_jumps_backward, 1);
        tr.push(imu(10_005), Some(9_990), 0);
        tr.push(imu(8), Some(9_995), 0);
        assert_eq!(tr.stats().clock_jumps_backward, 2);
        tr.push(imu(50_000), Some(9_995), 0);
        assert_eq!(tr.stats().clock_jumps_forward, 1);
    }

    #[test]
    fn prune_and_between() {
        let mut tr: Track<ImuSample> = Track::new(10, 1000);
        for t in [10, 20, 30, 40] {
            tr.push(imu(t), None, 0);
        }
        let span: Vec<u64> = tr.between(15, 30).iter().map(Timed::t).collect();
        assert_eq!(span, vec![20, 30]);
        tr.prune(25);
        assert_eq!(tr.first_t(), Some(30));
        assert!(tr.between(41, 50).is_empty());
    }
}
