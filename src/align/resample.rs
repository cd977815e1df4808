//! Resampling a timestamped stream (IMU rows, audio samples) onto a fixed grid
//! by linear interpolation, and the presence rule that decides when the
//! result is real data rather than a guess.
//!
//! The grid has `len` points at the centres of `len` equal cells of
//! `[start, start + span)`: t_i = start + (i + 0.5) * span / len. Centres keep
//! every point strictly inside the window, so a stream running through the
//! window never needs extrapolation, and the same rule serves stream windows
//! (span = window length) and whole clips (span = clip length).

/// `len` points at the cell centres of `[start, start + span)`, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub start: u64,
    pub span: u64,
    pub len: usize,
}

impl Grid {
    /// Point `i`: start + floor((2i + 1) * span / (2 len)), exact integer arithmetic.
    pub fn point(&self, i: usize) -> u64 {
        let num = (2 * i as u128 + 1) * u128::from(self.span);
        let off = num / (2 * self.len.max(1) as u128);
        self.start.saturating_add(off as u64)
    }

    /// One cell's width (floor), the distance within which a real sample
    /// counts as covering a grid point.
    pub fn period(&self) -> u64 {
        self.span / self.len.max(1) as u64
    }

    /// The grid's effective rate, len / span (equals the spec's rate when
    /// seconds * rate is a whole number, as for 5.12 s at 25 Hz).
    pub fn rate_hz(&self) -> f32 {
        (self.len as f64 / (self.span.max(1) as f64 * 1e-9)) as f32
    }
}

/// When a resampled stream counts as present.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapRule {
    /// Longest span between the two samples bracketing a grid point.
    pub max_gap: u64,
    /// Fraction of grid points that need a real sample within one period.
    pub min_coverage: f64,
}

/// Why a resampled stream is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// Grid point `at` has no sample on one side, or its two bracketing
    /// samples are more than `max_gap` apart.
    Gap { at: u64 },
    /// Only `covered` of `len` grid points have a real sample within one period.
    Coverage { covered: usize, len: usize },
}

/// Interpolates `points` (strictly increasing times, `C` channels each) onto
/// `grid`, returning channel-major values (`out[c * len + i]`).
///
/// Each grid point g takes the latest sample a with a.t <= g and the earliest
/// b with b.t > g; a sample exactly at g is used as is. The stream is absent
/// when some point lacks a or b or has b.t - a.t > max_gap (nothing is ever
/// extrapolated), or when fewer than min_coverage of the points have a real
/// sample within one grid period (so long bridged holes cannot pass as data).
pub fn resample<const C: usize>(
    grid: Grid,
    points: &[(u64, [f32; C])],
    rule: GapRule,
) -> Result<Vec<f32>, Absence> {
    let mut out = vec![0.0f32; C * grid.len];
    let mut next = 0; // first sample after the current grid point
    let mut covered = 0;
    for i in 0..grid.len {
        let g = grid.point(i);
        next += points
            .get(next..)
            .map_or(0, |rest| rest.partition_point(|p| p.0 <= g));
        let (values, nearest) = value_at(g, next, points, rule.max_gap)?;
        if nearest <= grid.period() {
            covered += 1;
        }
        for (c, v) in values.into_iter().enumerate() {
            if let Some(slot) = out.get_mut(c * grid.len + i) {
                *slot = v;
            }
        }
    }
    if (covered as f64) < rule.min_coverage * grid.len as f64 {
        return Err(Absence::Coverage {
            covered,
            len: grid.len,
        });
    }
    Ok(out)
}

/// The value at `g` from the samples bracketing it (`next` indexes the first
/// sample after g), and the distance to the nearer of the two.
fn value_at<const C: usize>(
    g: u64,
    next: usize,
    points: &[(u64, [f32; C])],
    max_gap: u64,
) -> Result<([f32; C], u64), Absence> {
    let gap = Absence::Gap { at: g };
    let a = next.checked_sub(1).and_then(|k| points.get(k)).ok_or(gap)?;
    if a.0 == g {
        return Ok((a.1, 0));
    }
    let b = points.get(next).ok_or(gap)?;
    if b.0 - a.0 > max_gap {
        return Err(gap);
    }
    let f = (g - a.0) as f64 / (b.0 - a.0) as f64;
    let values = std::array::from_fn(|c| {
        (f64::from(a.1[c]) + (f64::from(b.1[c]) - f64::from(a.1[c])) * f) as f32
    });
    Ok((values, (g - a.0).min(b.0 - g)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const LOOSE: GapRule = GapRule {
        max_gap: 500 * MS,
        min_coverage: 0.0,
    };

    fn pts(rows: &[(u64, f32)]) -> Vec<(u64, [f32; 1])> {
        rows.iter().map(|&(t, v)| (t * MS, [v])).collect()
    }

    #[test]
    fn grid_points_are_cell_centres() {
        let g = Grid {
            start: 1000,
            span: 120 * MS,
            len: 3,
        };
        let got: Vec<u64> = (0..3).map(|i| g.point(i)).collect();
        assert_eq!(got, vec![1000 + 20 * MS, 1000 + 60 * MS, 1000 + 100 * MS]);
        assert_eq!(g.period(), 40 * MS);
        assert_eq!(
            Grid {
                start: 0,
                span: 5_120_000_000,
                len: 128
            }
            .rate_hz(),
            25.0
        );
    }

    #[test]
    fn interpolates_between_bracketing_samples() {
        // Samples at 0, 40, 80, 120 ms with values 0, 4, 2, 10; grid at 20, 60, 100 ms:
        // 20 is halfway 0..4 -> 2; 60 halfway 4..2 -> 3; 100 halfway 2..10 -> 6.
        let g = Grid {
            start: 0,
            span: 120 * MS,
            len: 3,
        };
        let out = resample(
            g,
            &pts(&[(0, 0.0), (40, 4.0), (80, 2.0), (120, 10.0)]),
            LOOSE,
        );
        assert_eq!(out, Ok(vec![2.0, 3.0, 6.0]));
    }

    #[test]
    fn uneven_spacing_and_exact_hits() {
        // Samples at 0, 30, 60, 100 ms, values 0, 3, 9, 1. Grid 20, 60, 100:
        // 20 -> 0 + 3 * 20/30 = 2; 60 and 100 hit samples exactly -> 9, 1.
        let g = Grid {
            start: 0,
            span: 120 * MS,
            len: 3,
        };
        let out = resample(
            g,
            &pts(&[(0, 0.0), (30, 3.0), (60, 9.0), (100, 1.0)]),
            LOOSE,
        );
        assert_eq!(out, Ok(vec![2.0, 9.0, 1.0]));
    }

    #[test]
    fn channel_major_layout() {
        let g = Grid {
            start: 0,
            span: 80 * MS,
            len: 2,
        }; // points 20, 60
        let p = vec![
            (0, [0.0, 10.0]),
            (40 * MS, [4.0, 20.0]),
            (80 * MS, [8.0, 0.0]),
        ];
        assert_eq!(resample(g, &p, LOOSE), Ok(vec![2.0, 6.0, 15.0, 10.0]));
    }

    #[test]
    fn never_extrapolates() {
        let g = Grid {
            start: 0,
            span: 120 * MS,
            len: 3,
        };
        // Stream ends at 80 ms: the point at 100 ms has nothing after it.
        let out = resample(g, &pts(&[(0, 0.0), (40, 4.0), (80, 8.0)]), LOOSE);
        assert_eq!(out, Err(Absence::Gap { at: 100 * MS }));
        // Stream starts at 30 ms: the point at 20 ms has nothing before it.
        let out = resample(g, &pts(&[(30, 0.0), (70, 4.0), (110, 8.0)]), LOOSE);
        assert_eq!(out, Err(Absence::Gap { at: 20 * MS }));
    }

    #[test]
    fn gap_wider_than_max_gap_is_absent() {
        let g = Grid {
            start: 0,
            span: 120 * MS,
            len: 3,
        };
        let rule = GapRule {
            max_gap: 50 * MS,
            min_coverage: 0.0,
        };
        let out = resample(
            g,
            &pts(&[(0, 0.0), (40, 4.0), (110, 8.0), (130, 9.0)]),
            rule,
        );
        assert_eq!(out, Err(Absence::Gap { at: 60 * MS })); // 40..110 is 70 ms
        let rule = GapRule {
            max_gap: 70 * MS,
            ..rule
        };
        let out = resample(
            g,
            &pts(&[(0, 0.0), (40, 4.0), (110, 11.0), (130, 9.0)]),
            rule,
        );
        assert_eq!(out, Ok(vec![2.0, 6.0, 10.0]));
    }

    #[test]
    fn coverage_counts_points_near_real_samples() {
        // 10 points, 10 ms cells over [0, 100): centres 5, 15, ..., 95.
        // Samples at 0, 10, 20, 70, 80, 90, 100: points 35..55 (3 of them) are
        // bridged over the 20..70 hole with no sample within 10 ms -> 7/10 covered.
        let g = Grid {
            start: 0,
            span: 100 * MS,
            len: 10,
        };
        let p = pts(&[
            (0, 0.0),
            (10, 0.0),
            (20, 0.0),
            (70, 0.0),
            (80, 0.0),
            (90, 0.0),
            (100, 0.0),
        ]);
        let rule = GapRule {
            max_gap: 50 * MS,
            min_coverage: 0.7,
        };
        assert!(resample(g, &p, rule).is_ok());
        let rule = GapRule {
            min_coverage: 0.71,
            ..rule
        };
        assert_eq!(
            resample(g, &p, rule),
            Err(Absence::Coverage {
                covered: 7,
                len: 10
            })
        );
    }
}
