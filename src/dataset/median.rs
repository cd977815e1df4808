//! The running median the reference loader applies to each sensor channel.
//!
//! The reference (`scipy.signal.medfilt`, kernel 5) zero-pads both ends. For an
//! accelerometer axis carrying gravity (about ±1 g) that is a bias, not a
//! neutral choice: with two zeros in a window of five, the first and last two
//! outputs become the real neighbour *closest to zero*, e.g. `{0, 0, 0.9, 1.0,
//! 1.1}` -> 0.9 instead of 1.0. Here the window instead shrinks symmetrically at
//! the edges (radius `min(k/2, i, n-1-i)`), so every output is the median of
//! real readings only, the window stays centred (no time shift) and odd (a true
//! middle element); the very first and last readings pass through unchanged.
//! Interior outputs are identical to scipy's.

/// Median-filters `x` with an odd window of `kernel` (an even kernel is rounded up
/// to the next odd size; 0 or 1 returns `x`). Values must be finite (the CSV parser
/// guarantees it); the output has the same length as `x`.
pub fn median_filter(x: &[f32], kernel: usize) -> Vec<f32> {
    let radius = kernel / 2;
    let n = x.len();
    let mut window = Vec::with_capacity(2 * radius + 1);
    (0..n)
        .map(|i| {
            let r = radius.min(i).min(n - 1 - i);
            window.clear();
            window.extend_from_slice(&x[i - r..=i + r]);
            window.sort_unstable_by(f32::total_cmp);
            window[r]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        let x = [5.0, 1.0, 4.0, 2.0, 8.0, 3.0, 7.0];
        // i=0: {5} -> 5; i=1: {5,1,4} -> 4; i=2: {5,1,4,2,8} -> 4; i=3: {1,4,2,8,3} -> 3;
        // i=4: {4,2,8,3,7} -> 4; i=5: {8,3,7} -> 7; i=6: {7} -> 7.
        assert_eq!(median_filter(&x, 5), [5.0, 4.0, 4.0, 3.0, 4.0, 7.0, 7.0]);
        assert_eq!(median_filter(&x, 3), [5.0, 4.0, 2.0, 4.0, 3.0, 7.0, 7.0]);
        assert_eq!(median_filter(&x, 1), x);
        assert_eq!(median_filter(&x, 4), median_filter(&x, 5));
    }

    /// `scipy.signal.medfilt` semantics: zero padding at both ends.
    fn zero_padded(x: &[f32], kernel: usize) -> Vec<f32> {
        let r = kernel / 2;
        let padded: Vec<f32> = std::iter::repeat_n(0.0, r)
            .chain(x.iter().copied())
            .chain(std::iter::repeat_n(0.0, r))
            .collect();
        padded
            .windows(kernel)
            .map(|w| {
                let mut w = w.to_vec();
                w.sort_unstable_by(f32::total_cmp);
                w[r]
            })
            .collect()
    }

    #[test]
    fn equals_scipy_inside_and_keeps_gravity_at_the_edges() {
        let x = [1.0, 1.02, 0.2, 1.0, 0.97, 3.0, 1.01, 0.99, 1.0];
        let ours = median_filter(&x, 5);
        let scipy = zero_padded(&x, 5);
        assert_eq!(ours[2..7], scipy[2..7]);
        // The dip at row 2 leaks into scipy's first output (min of the real readings
        // 1.0, 1.02, 0.2); the shrunk window removes it.
        assert_eq!(scipy[0], 0.2);
        assert_eq!(ours, [1.0; 9]);
        assert_eq!(median_filter(&[-1.0; 6], 5), [-1.0; 6]);
    }

    #[test]
    fn short_and_empty_inputs() {
        assert!(median_filter(&[], 5).is_empty());
        assert_eq!(median_filter(&[2.0], 5), [2.0]);
        assert_eq!(median_filter(&[2.0, 9.0], 5), [2.0, 9.0]);
        assert_eq!(median_filter(&[2.0, 9.0, 3.0], 5), [2.0, 3.0, 3.0]);
    }
}
