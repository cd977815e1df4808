//! Frame sampling: T frames per window, TSN test-time style.
//!
//! The window (or clip) is cut into T equal segments; segment k takes the
//! frame nearest its centre among the frames inside the span (a tie goes to
//! the earlier frame). The video is present only if every centre has a frame
//! within `max_gap` of it. A frame may be nearest to two neighbouring centres
//! when the frame rate is below T per window; it is then used twice, in time
//! order, rather than leaving a segment empty.

use super::resample::Grid;

/// For each of `grid.len` segment centres, the index into `times` (strictly
/// increasing, all inside the span) of the nearest frame; `None` if some
/// centre has no frame within `max_gap`.
pub fn select_frames(grid: Grid, times: &[u64], max_gap: u64) -> Option<Vec<usize>> {
    (0..grid.len)
        .map(|k| {
            nearest(grid.point(k), times)
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

    #[test]
    fn picks_nearest_to_segment_centres() {
        // 4 segments over [0, 400 ms): centres 50, 150, 250, 350.
        // Frames every 33 ms from 0: 0,33,66,99,...; nearest to 50 is 33 (17)
        // vs 66 (16) -> 66 (index 2); 150: 132 (18) vs 165 (15) -> 165 (5);
        // 250: 231 (19) vs 264 (14) -> 264 (8); 350: 330 (20) vs 363 (13) -> 363 (11).
        let times: Vec<u64> = (0..13).map(|i| i * 33 * MS).collect();
        let g = Grid {
            start: 0,
            span: 400 * MS,
            len: 4,
        };
        assert_eq!(select_frames(g, &times, 100 * MS), Some(vec![2, 5, 8, 11]));
    }

    #[test]
    fn tie_goes_to_earlier_frame() {
        // Centre 50 is 10 ms from both 40 and 60.
        let g = Grid {
            start: 0,
            span: 100 * MS,
            len: 1,
        };
        assert_eq!(select_frames(g, &ms(&[40, 60]), 100 * MS), Some(vec![0]));
    }

    #[test]
    fn low_frame_rate_repeats_frames() {
        // 4 centres 50, 150, 250, 350 and frames at 90 and 310 only.
        let g = Grid {
            start: 0,
            span: 400 * MS,
            len: 4,
        };
        assert_eq!(
            select_frames(g, &ms(&[90, 310]), 200 * MS),
            Some(vec![0, 0, 1, 1])
        );
    }

    #[test]
    fn centre_without_frame_within_max_gap_is_absent() {
        let g = Grid {
            start: 0,
            span: 400 * MS,
            len: 4,
        };
        // Centre 350 is 40 ms from the last frame at 310.
        assert_eq!(
            select_frames(g, &ms(&[40, 160, 250, 310]), 40 * MS),
            Some(vec![0, 1, 2, 3])
        );
        assert_eq!(select_frames(g, &ms(&[40, 160, 250, 310]), 39 * MS), None);
        assert_eq!(select_frames(g, &[], 1000 * MS), None);
    }
}
