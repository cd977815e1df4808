//! Bisection over sizes: the largest count that still fits a byte or slot budget, which sizes
//! the replay buffer's per-class level (`buffer::water_fill`) and the analytic head's automatic
//! projection (`strategies::analytic`).

/// The largest `n` in `0..=max` with `fits(n)`, for a `fits` that holds up to some point and
/// fails beyond it; 0 when it fails for every `n >= 1` (`fits(0)` is never asked).
pub fn largest_fitting(max: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_fitting_size_as_a_linear_scan_does() {
        for max in 0..40 {
            for limit in 0..50 {
                let scan = (0..=max).rev().find(|n| *n <= limit).unwrap_or(0);
                assert_eq!(largest_fitting(max, |n| n <= limit), scan, "{max} {limit}");
            }
        }
        assert_eq!(largest_fitting(usize::MAX, |n| n <= 1 << 40), 1 << 40);
    }
}
