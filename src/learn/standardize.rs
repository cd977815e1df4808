//! `Standardizer`: the per-modality-block feature map of the SGD head when
//! `LearnerConfig::standardize` is on (er, proto, joint by default; docs/learning.md).
//!
//! Each present block of a normalized embedding is normalized on its own (so it reads the
//! same whether or not the other blocks are present: the encoder normalizes per modality
//! before fusing), centered and scaled per dimension by the running mean and deviation of
//! every block seen so far, normalized again, and the row is normalized as a whole; absent
//! blocks stay zero. Centering is what lets a cosine head separate classes within one block:
//! the raw blocks share a large common direction, so the cosines of all classes are close
//! (on val, er/joint with the video absent gain ~8 points). The statistics are
//! `Prototypes` with one entry per block (Chan et al.'s merge, so they equal the batch
//! statistics of everything learned); a strategy that replays its exemplars re-maps them with
//! the current statistics at every `learn`, so its head follows them.

use super::linalg::normalize_into;
use super::prototypes::Prototypes;
use super::snapshot::{Reader, Writer};
use super::LearnError;

/// Per-dimension variance floor, relative to the block's mean variance: keeps a dimension
/// that barely varies from being blown up into noise.
const FLOOR: f32 = 0.01;

#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    dims: Vec<usize>,
    /// One `Prototypes` per block, holding one entry (id 0): count, mean, m2.
    stats: Vec<Prototypes>,
}

impl Standardizer {
    /// For an embedding of blocks `dims` (the whole as one block when fewer than two).
    pub fn new(dim: usize, modality_dims: &[usize]) -> Standardizer {
        let dims = super::whiten::blocks(dim, modality_dims);
        let stats = dims.iter().map(|d| Prototypes::new(*d, true)).collect();
        Standardizer { dims, stats }
    }

    /// Bytes it holds once every block has been seen.
    pub fn bytes(dim: usize, modality_dims: &[usize]) -> usize {
        super::whiten::blocks(dim, modality_dims)
            .iter()
            .map(|d| Prototypes::bytes_per_class(*d, true))
            .sum()
    }

    pub fn memory_bytes(&self) -> usize {
        self.stats.iter().map(Prototypes::memory_bytes).sum()
    }

    /// The row's blocks, each normalized (absent blocks: `None`).
    fn unit_blocks(&self, row: &[f32]) -> Vec<Option<Vec<f32>>> {
        let mut at = 0;
        self.dims
            .iter()
            .map(|d| {
                let block = row.get(at..at + d).unwrap_or_default();
                at += d;
                block.iter().any(|v| *v != 0.0).then(|| {
                    let mut unit = vec![0.0; *d];
                    normalize_into(block, &mut unit);
                    unit
                })
            })
            .collect()
    }

    /// Folds the present blocks of `rows` (`n x dim`) into the statistics.
    pub fn update(&mut self, rows: &[f32]) {
        let dim: usize = self.dims.iter().sum();
        let mut per_block: Vec<Vec<Vec<f32>>> = vec![Vec::new(); self.dims.len()];
        for row in rows.chunks_exact(dim.max(1)) {
            for (b, unit) in self.unit_blocks(row).into_iter().enumerate() {
                per_block[b].extend(unit);
            }
        }
        for (stats, units) in self.stats.iter_mut().zip(&per_block) {
            let refs: Vec<&[f32]> = units.iter().map(Vec::as_slice).collect();
            stats.update(0, &refs);
        }
    }

    /// Maps `rows` (`n x dim`) in place (module docs); before any update, only the
    /// per-block normalization.
    pub fn apply(&self, rows: &mut [f32]) {
        let dim: usize = self.dims.iter().sum();
        let scales: Vec<Option<(Vec<f32>, Vec<f32>)>> = self.stats.iter().map(scale).collect();
        for row in rows.chunks_exact_mut(dim.max(1)) {
            let mut out = Vec::with_capacity(dim);
            for ((d, unit), s) in self.dims.iter().zip(self.unit_blocks(row)).zip(&scales) {
                let Some(mut z) = unit else {
                    out.extend(std::iter::repeat_n(0.0, *d));
                    continue;
                };
                if let Some((mean, sd)) = s {
                    z.iter_mut()
                        .zip(mean.iter().zip(sd))
                        .for_each(|(v, (m, s))| *v = (*v - m) / s);
                }
                let mut unit = vec![0.0; *d];
                normalize_into(&z, &mut unit);
                out.extend(unit);
            }
            normalize_into(&out, row);
        }
    }

    pub fn write(&self, w: &mut Writer) {
        self.stats.iter().for_each(|s| s.write(w));
    }

    pub fn read(
        r: &mut Reader,
        dim: usize,
        modality_dims: &[usize],
    ) -> Result<Standardizer, LearnError> {
        let mut s = Standardizer::new(dim, modality_dims);
        for (stats, d) in s.stats.iter_mut().zip(&s.dims) {
            *stats = Prototypes::read(r, *d, true)?;
        }
        Ok(s)
    }
}

/// A block's mean and floored deviation, once it has been seen.
fn scale(stats: &Prototypes) -> Option<(Vec<f32>, Vec<f32>)> {
    let p = stats.get(0)?;
    let var = p.variance();
    let floor = FLOOR * var.iter().sum::<f32>() / var.len().max(1) as f32;
    let sd = var.iter().map(|v| (v + floor).sqrt().max(1e-12)).collect();
    Some((p.mean.clone(), sd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_maps_the_same_with_or_without_the_other_and_absent_blocks_stay_zero() {
        let mut s = Standardizer::new(4, &[2, 2]);
        s.update(&[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.5, 0.5]);
        let mut full = [0.6, 0.8, 0.0, 2.0];
        let mut video_only = [3.0, 4.0, 0.0, 0.0];
        s.apply(&mut full);
        s.apply(&mut video_only);
        assert_eq!(&video_only[2..], &[0.0, 0.0]);
        let ratio = video_only[0] / full[0];
        assert!(
            (video_only[1] - ratio * full[1]).abs() < 1e-5,
            "{full:?} {video_only:?}"
        );
        assert!((ratio - 2f32.sqrt()).abs() < 1e-4, "{ratio}");
        let norm: f32 = full.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}
