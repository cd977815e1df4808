//! The embedding's modality blocks (`LearnerConfig::modality_dims`, from the encoder contract)
//! and the two ways the learner uses them so that a window with a modality absent is still
//! classified from the modalities present (docs/learning.md):
//! - `augment`: each training row also as its variants with modalities absent, derived as the
//!   encoder fuses (models/README.md "Fusion": per-modality L2-normalized blocks, masked by
//!   `present`, concatenated and scaled by `sqrt(2 / n_present)`). The learner normalizes
//!   every row, so zeroing a block and normalizing again is exactly the variant the encoder
//!   would have produced for the same window (`tests/learn_modality.rs` checks it on the
//!   cache's encoded variants). Nothing extra is stored: variants are made when training.
//! - `masked_cosine`: the cosine over the blocks a row has present, for the strategies that
//!   score by class means (ncm, icarl); equal to the plain cosine when every block is present.
//!
//! A block is absent when it is exactly zero (the encoder's contract: absent blocks are zeros).

use super::linalg::{dot, normalize_into};
use super::ClassId;

/// Which blocks of `row` are present (not all zero), in block order.
pub fn present(row: &[f32], dims: &[usize]) -> Vec<bool> {
    let mut at = 0;
    dims.iter()
        .map(|d| {
            let block = row.get(at..at + d).unwrap_or_default();
            at += d;
            block.iter().any(|v| *v != 0.0)
        })
        .collect()
}

/// The block subsets a row with blocks `present` is also learned as: every non-empty proper
/// subset of its present blocks (with two modalities: each one alone), as keep-masks.
fn variant_masks(present: &[bool]) -> Vec<Vec<bool>> {
    let on: Vec<usize> = (0..present.len()).filter(|b| present[*b]).collect();
    if on.len() < 2 || on.len() > 8 {
        return Vec::new();
    }
    let full = (1u32 << on.len()) - 1;
    (1..full)
        .map(|subset| {
            let mut keep = vec![false; present.len()];
            for (bit, b) in on.iter().enumerate() {
                keep[*b] = subset >> bit & 1 == 1;
            }
            keep
        })
        .collect()
}

/// `row` with the blocks not in `keep` zeroed, normalized.
fn masked(row: &[f32], dims: &[usize], keep: &[bool]) -> Vec<f32> {
    let mut out = row.to_vec();
    let mut at = 0;
    for (d, k) in dims.iter().zip(keep) {
        if !k {
            out.iter_mut().skip(at).take(*d).for_each(|v| *v = 0.0);
        }
        at += d;
    }
    let mut unit = vec![0.0; out.len()];
    normalize_into(&out, &mut unit);
    unit
}

/// The rows `xn` (normalized, `dim` wide) with their labels, followed by every row's
/// modality-absent variants (normalized) with the row's label. With fewer than two blocks,
/// the rows alone.
pub fn augment(xn: Vec<f32>, labels: Vec<ClassId>, dims: &[usize]) -> (Vec<f32>, Vec<ClassId>) {
    let dim: usize = dims.iter().sum();
    if dims.len() < 2 || dim == 0 {
        return (xn, labels);
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (row, label) in xn.chunks_exact(dim).zip(&labels) {
        for keep in variant_masks(&present(row, dims)) {
            x.extend(masked(row, dims, &keep));
            y.push(*label);
        }
    }
    let mut all_x = xn;
    all_x.extend(x);
    let mut all_y = labels;
    all_y.extend(y);
    (all_x, all_y)
}

/// `row` (a fused embedding) as the encoder would have fused the same window with block
/// `absent` missing: that block zeroed and the present ones rescaled from `sqrt(2 / n)` to
/// `sqrt(2 / (n - 1))`. `None` when no block would be left, or `absent` is not a block.
pub fn without(row: &[f32], dims: &[usize], absent: usize) -> Option<Vec<f32>> {
    let on = present(row, dims);
    let n = on.iter().filter(|p| **p).count();
    if absent >= dims.len() || row.len() != dims.iter().sum::<usize>() {
        return None;
    }
    if !on[absent] {
        return (n > 0).then(|| row.to_vec());
    }
    if n < 2 {
        return None;
    }
    let gain = (n as f32 / (n - 1) as f32).sqrt();
    let start: usize = dims[..absent].iter().sum();
    let out = row
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if (start..start + dims[absent]).contains(&i) {
                0.0
            } else {
                v * gain
            }
        })
        .collect();
    Some(out)
}

/// Cosine of `x` and `m` over the blocks present in `x` (all of them when `dims` has fewer
/// than two blocks); 0 when either side is zero there.
pub fn masked_cosine(x: &[f32], m: &[f32], dims: &[usize]) -> f32 {
    let (mut xm, mut mm, mut xx) = (0.0, 0.0, 0.0);
    let whole = [x.len()];
    let blocks = if dims.len() < 2 { &whole[..] } else { dims };
    let mut at = 0;
    for d in blocks {
        let (xb, mb) = (x.get(at..at + d), m.get(at..at + d));
        at += d;
        let (Some(xb), Some(mb)) = (xb, mb) else {
            continue;
        };
        let norm_x = dot(xb, xb);
        if norm_x > 0.0 {
            xm += dot(xb, mb);
            mm += dot(mb, mb);
            xx += norm_x;
        }
    }
    if xx > 0.0 && mm > 0.0 {
        xm / (xx.sqrt() * mm.sqrt())
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blocks_give_one_variant_per_modality_and_absent_blocks_none() {
        let dims = [2, 3];
        let full = vec![0.6, 0.0, 0.0, 0.8, 0.0];
        let video_only = vec![1.0, 0.0, 0.0, 0.0, 0.0];
        let mut xn = full.clone();
        xn.extend(&video_only);
        let (x, y) = augment(xn, vec![4, 5], &dims);
        assert_eq!(y, [4, 5, 4, 4]);
        assert_eq!(&x[10..15], &[1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&x[15..20], &[0.0, 0.0, 0.0, 1.0, 0.0]);
        let (x, y) = augment(full.clone(), vec![1], &[5]);
        assert_eq!((x, y), (full, vec![1]));
    }

    #[test]
    fn without_follows_the_fusion_rule() {
        let dims = [2, 2];
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let fused = [0.6 * s * 2f32.sqrt(), 0.8, 1.0, 0.0];
        let imu_only = without(&fused, &dims, 0).unwrap();
        assert_eq!(&imu_only[..2], &[0.0, 0.0]);
        assert!((imu_only[2] - 2f32.sqrt()).abs() < 1e-6);
        assert_eq!(without(&imu_only, &dims, 0).unwrap(), imu_only);
        assert_eq!(without(&imu_only, &dims, 1), None);
        assert_eq!(without(&fused, &dims, 2), None);
    }

    #[test]
    fn three_blocks_give_every_proper_subset() {
        assert_eq!(variant_masks(&[true, true, true]).len(), 6);
        assert_eq!(variant_masks(&[true, false, true]).len(), 2);
        assert!(variant_masks(&[false, true, false]).is_empty());
    }

    #[test]
    fn masked_cosine_ignores_absent_blocks_and_equals_cosine_when_all_present() {
        let dims = [2, 2];
        let m = [1.0, 0.0, 0.0, 1.0];
        let imu_only = [0.0, 0.0, 0.0, 2.0];
        assert!((masked_cosine(&imu_only, &m, &dims) - 1.0).abs() < 1e-6);
        let x = [0.5, 0.5, 0.5, -0.5];
        let plain = dot(&x, &m) / (dot(&x, &x).sqrt() * dot(&m, &m).sqrt());
        assert!((masked_cosine(&x, &m, &dims) - plain).abs() < 1e-6);
        assert!((masked_cosine(&x, &m, &[]) - plain).abs() < 1e-6);
        assert_eq!(masked_cosine(&[0.0; 4], &m, &dims), 0.0);
    }
}
