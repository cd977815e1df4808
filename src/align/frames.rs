//! Frame sampling: T frames per window from one global grid, TSN test-time
//! style.
//!
//! The grid has T points per window length, from the first window's start,
//! for the whole stream: g_j = origin + floor((2j + 1) * seconds / (2T)), the
//! segment centres of window 0 continued forever. Any window
//! `[s, s + seconds)` holds exactly T of them (g_{j+T} = g_j + seconds), and
//! each takes the frame nearest it among the frames inside the window (a tie
//! goes to the earlier frame). Overlapping windows therefore share their
//! grid points and, away from their edges, their frames: the encoder's frame
//! cache encodes each once (per-window segment centres would move by the
//! stride, which is rarely a multiple of the period, and share none). The
//! video is present only if every point has a frame within `max_gap` of it.
//! A frame may be nearest to two neighbouring points when the frame rate is
//! below T per window; it is then used twice, in time order, rather than
//! leaving a segment empty.

/// The global frame grid: `frames` points per `span` nanoseconds from `origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGrid {
    /// The first window's start.
    pub origin: u64,
    /// The window length.
    pub span: u64,
    /// T, points per window.
    pub frames: usize,
}

impl FrameGrid {
    /// Point j: origin + floor((2j + 1) * span / (2T)), exact integer arithmetic.
    fn point(&self, j: u128) -> u64 {
        let off = (2 * j + 1) * u128::from(self.span) / (2 * self.frames.max(1) as u128);
        u64::try_from(off).map_or(u64::MAX, |off| self.origin.saturating_add(off))
    }

    /// The T points inside `[start, start + span)`, in order (`start` at or
    /// after `origin`; an earlier one is taken as `origin`).
    pub fn points_in(&self, start: u64) -> Vec<u64> {
        let (t, span) = (self.frames.max(1) as u128, u128::from(self.span).max(1));
        let d = u128::from(start.saturating_sub(self.origin));
        // The first j with floor((2j + 1) span / 2T) >= d: (2j + 1) span >= 2T d.
        let first = (2 * t * d).saturating_sub(span).div_ceil(2 * span);
        (first..first + t).map(|j| self.point(j)).collect()
    }
}

/// For each of `points`, the index into `times` (strictly increasing, all
/// inside the window) of the nearest frame; `None` if some point has no
/// frame within `max_gap`.
pub fn select_frames(points: &[u64], times: &[u64], max_gap: u64) -> Option<Vec<usize>> {
    points
        .iter()
        .map(|&c| {
            nearest(c, times)
                .filter(|&(_, d)| d <= max_gap)
                .map(|(i, _)| i)
        })
        .collect()
}

/// Index of the time nearest `c` and its distance; the earlier one on a tie.
fn nearest(c: u64, times: &[u64]) -> Option<(usize, u64)> {
    let after = times.partition_point(|&t| t < c);
    let later = times.get(after).map(|&t| (after, t - c));
    let earlier = after
        .checked_sub(1)
        .and_then(|i| times.get(i).map(|&t| (i, c - t)));
    match (earlier, later) {
        (Some(e), Some(l)) => Some(if l.1 < e.1 { l } else { e }),
        (e, l) => e.or(l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn ms(v: &[u64]) -> Vec<u64> {
        v.iter().map(|t| t * MS).collect()
    }

    /// The T points of the window `[start, start + span)` on a grid from 0.
    fn points(span_ms: u64, frames: usize, start_ms: u64) -> Vec<u64> {
        let grid = FrameGrid {
            origin: 0,
            span: span_ms * MS,
            frames,
        };
        grid.points_in(start_ms * MS)
    }

    #[test]
    fn the_grid_continues_window_zeros_segment_centres() {
        // 400 ms windows, 4 frames: period 100 ms, points at 50, 150, 250, ...
        assert_eq!(points(400, 4, 0), ms(&[50, 150, 250, 350]));
        // A window starting at 130 ms holds 150..450; one at 150 ms still
        // holds 150 (the span is half-open at its end, closed at its start).
        assert_eq!(points(400, 4, 130), ms(&[150, 250, 350, 450]));
        assert_eq!(points(400, 4, 150), ms(&[150, 250, 350, 450]));
        assert_eq!(points(400, 4, 151), ms(&[250, 350, 450, 550]));
        // The default window: 5.12 s, 8 frames, a window every second.
        let s = 3_000;
        let expected: Vec<u64> = (5..13).map(|j| (2 * j + 1) * 320).collect();
        assert_eq!(points(5_120, 8, s), ms(&expected));
    }

    #[test]
    fn any_window_holds_exactly_t_points_inside_it() {
        // Spans not divisible by 2T: floors everywhere.
        for (span, frames) in [(1_000_003u64, 3usize), (999, 7), (5, 8), (17, 1)] {
            let grid = FrameGrid {
                origin: 11,
                span,
                frames,
            };
            for start in (11..11 + 3 * span).step_by(7) {
                let p = grid.points_in(start);
                assert_eq!(p.len(), frames);
                assert!(p.iter().all(|&g| g >= start && g < start + span), "{p:?}");
                assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
                // No grid point just before the window is left out.
                let before = grid.points_in(start.saturating_sub(span));
                let missed = before.iter().any(|&g| g >= start && !p.contains(&g));
                assert!(!missed, "{start}: {before:?} vs {p:?}");
            }
        }
    }

    #[test]
    fn picks_nearest_to_each_point() {
        // Points 50, 150, 250, 350 ms; frames every 33 ms from 0: 0,33,66,99,...;
        // nearest to 50 is 33 (17) vs 66 (16) -> 66 (index 2); 150: 132 (18) vs
        // 165 (15) -> 165 (5); 250: 231 (19) vs 264 (14) -> 264 (8); 350: 330
        // (20) vs 363 (13) -> 363 (11).
        let times: Vec<u64> = (0..13).map(|i| i * 33 * MS).collect();
        let p = points(400, 4, 0);
        assert_eq!(select_frames(&p, &times, 100 * MS), Some(vec![2, 5, 8, 11]));
    }

    #[test]
    fn tie_goes_to_earlier_frame() {
        // Point 50 is 10 ms from both 40 and 60.
        let p = points(100, 1, 0);
        assert_eq!(select_frames(&p, &ms(&[40, 60]), 100 * MS), Some(vec![0]));
    }

    #[test]
    fn low_frame_rate_repeats_frames() {
        // 4 points 50, 150, 250, 350 and frames at 90 and 310 only.
        let p = points(400, 4, 0);
        assert_eq!(
            select_frames(&p, &ms(&[90, 310]), 200 * MS),
            Some(vec![0, 0, 1, 1])
        );
    }

    #[test]
    fn point_without_frame_within_max_gap_is_absent() {
        let p = points(400, 4, 0);
        // Point 350 is 40 ms from the last frame at 310.
        assert_eq!(
            select_frames(&p, &ms(&[40, 160, 250, 310]), 40 * MS),
            Some(vec![0, 1, 2, 3])
        );
        assert_eq!(select_frames(&p, &ms(&[40, 160, 250, 310]), 39 * MS), None);
        assert_eq!(select_frames(&p, &[], 1000 * MS), None);
    }
}
