//! `Whitened`: `ncm` and `joint` when `LearnerConfig::shrinkage > 0`: class means under one
//! shared, shrunk within-class covariance, scored over the modality blocks a window has
//! (`learn::whiten`). No exemplars; incremental by construction (the statistics are sums), so
//! after any sequence of batches it is exactly the batch classifier on everything seen.
//!
//! `ncm` sizes its per-block width `q` from the budget for `planned_classes` (or takes
//! `projection`): at the benchmark budget, D = 2184 in blocks [1280, 904], q = 256 (scatter
//! 1 050 624 B + 32 classes x 6 168 B + projections 2 328 B = 1 250 328 B). `joint` keeps every
//! block whole (no projection): its scatter is D x D, and its budget is `usize::MAX`.

use super::{Batch, Strategy};
use crate::learn::bisect::largest_fitting;
use crate::learn::config::{LearnerConfig, Strategy as Which};
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::whiten::{blocks, Discriminants, Features, Stats};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Whitened {
    dim: usize,
    config: LearnerConfig,
    /// The per-block width the features were built with.
    q: usize,
    features: Features,
    stats: Stats,
    disc: Discriminants,
}

/// Bytes of the whole state at per-block width `q` with `classes` classes.
fn state_bytes(dims: &[usize], q: usize, classes: usize) -> usize {
    let sizes: Vec<usize> = dims.iter().map(|d| (*d).min(q)).collect();
    Features::bytes(dims, q)
        + Stats::bytes(sizes.iter().sum(), classes)
        + Discriminants::bytes(&sizes, classes)
}

/// The per-block width: `projection` if set; for `joint` every block whole; else the largest
/// that fits the budget for `planned_classes` (a multiple of 64 from 64 on).
fn width(dim: usize, config: &LearnerConfig) -> usize {
    let dims = blocks(dim, &config.modality_dims);
    let widest = dims.iter().copied().max().unwrap_or(dim);
    if config.projection > 0 {
        return config.projection.min(widest);
    }
    if config.strategy == Which::Joint {
        return widest;
    }
    let fits = |q: usize| state_bytes(&dims, q, config.planned_classes) <= config.budget_bytes;
    let q = largest_fitting(widest, fits);
    if (64..widest).contains(&q) {
        q - q % 64
    } else {
        q.max(1)
    }
}

/// Folds raw rows into `stats`: rows with every block first, grouped by class; then rows with
/// a block absent, that block imputed by the grand mean (`learn::whiten` module docs).
pub fn fold(stats: &mut Stats, features: &Features, rows: &[&[f32]], labels: &[ClassId]) {
    let all = (1u32 << features.sizes().len()) - 1;
    let mapped: Vec<(Vec<f32>, u32)> = rows.iter().map(|x| features.map(x)).collect();
    for complete in [true, false] {
        let grand = stats.grand_mean();
        let mut groups: Vec<(ClassId, Vec<f32>)> = Vec::new();
        for ((h, mask), label) in mapped.iter().zip(labels) {
            if (*mask == all) != complete || *mask == 0 {
                continue;
            }
            let row = impute(h, *mask, &features.sizes(), &grand);
            match groups.iter_mut().find(|(c, _)| c == label) {
                Some((_, x)) => x.extend(row),
                None => groups.push((*label, row)),
            }
        }
        groups.iter().for_each(|(c, x)| stats.update(*c, x));
    }
}

/// `h` with the blocks not in `mask` replaced by `grand`'s.
fn impute(h: &[f32], mask: u32, sizes: &[usize], grand: &[f32]) -> Vec<f32> {
    let mut out = h.to_vec();
    let mut at = 0;
    for (b, p) in sizes.iter().enumerate() {
        if mask >> b & 1 == 0 {
            out[at..at + p].copy_from_slice(&grand[at..at + p]);
        }
        at += p;
    }
    out
}

impl Whitened {
    pub fn new(dim: usize, config: &LearnerConfig) -> Whitened {
        let q = width(dim, config);
        Whitened::with_width(dim, config, q)
    }

    fn with_width(dim: usize, config: &LearnerConfig, q: usize) -> Whitened {
        let features = Features::new(&blocks(dim, &config.modality_dims), q, config.seed);
        let sizes = features.sizes();
        let stats = Stats::new(sizes.iter().sum());
        let disc = Discriminants::empty(&sizes);
        Whitened {
            dim,
            config: config.clone(),
            q,
            features,
            stats,
            disc,
        }
    }

    pub fn read(
        r: &mut Reader,
        dim: usize,
        config: &LearnerConfig,
    ) -> Result<Whitened, LearnError> {
        let q = r.usize("whitened block width")?;
        if q == 0 || q > dim {
            return Err(r
                .error(format!("whitened block width {q} outside 1..={dim}"))
                .into());
        }
        // Nothing is allocated from `q` before the stored statistics are read (and so bounded
        // by the snapshot's own size).
        let features = Features::new(&blocks(dim, &config.modality_dims), q, config.seed);
        let sizes = features.sizes();
        let stats = Stats::read(r, sizes.iter().sum())?;
        let disc = Discriminants::read(r, &sizes)?;
        r.expect_len(
            "whitened discriminants",
            disc.classes(),
            stats.classes().len(),
        )?;
        Ok(Whitened {
            dim,
            config: config.clone(),
            q,
            features,
            stats,
            disc,
        })
    }
}

impl Strategy for Whitened {
    fn config(&self) -> &LearnerConfig {
        &self.config
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn budget(&self) -> usize {
        match self.config.strategy {
            Which::Joint => usize::MAX,
            _ => self.config.budget_bytes,
        }
    }
    fn classes(&self) -> Vec<ClassId> {
        self.stats.classes().to_vec()
    }
    fn fixed_bytes(&self, classes: usize) -> usize {
        state_bytes(
            &blocks(self.dim, &self.config.modality_dims),
            self.q,
            classes,
        )
    }
    fn fixed_what(&self) -> String {
        format!(
            "class means, shared scatter and discriminants at block width {}",
            self.q
        )
    }
    fn memory_bytes(&self) -> usize {
        self.features.memory_bytes() + self.stats.memory_bytes() + self.disc.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let rows: Vec<&[f32]> = batch.embeddings.iter().map(|e| e.as_slice()).collect();
        fold(&mut self.stats, &self.features, &rows, batch.labels);
        let sizes = self.features.sizes();
        self.disc = Discriminants::solve(&self.stats, &sizes, self.config.shrinkage);
        0
    }

    fn scores(&self, x: &[f32]) -> Vec<f32> {
        let (h, mask) = self.features.map(x);
        self.disc.scores(&h, mask)
    }

    fn forget_class(&mut self, class: ClassId) {
        if let Some(c) = self.stats.classes().iter().position(|k| *k == class) {
            self.stats.remove(class);
            self.disc.remove_row(c);
        }
    }

    fn write_body(&self, w: &mut Writer) {
        w.usize(self.q);
        self.stats.write(w);
        self.disc.write(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::rng::Rng;

    fn rows(rng: &mut Rng, n: usize) -> (Vec<Vec<f32>>, Vec<ClassId>) {
        let labels: Vec<ClassId> = (0..n as u32).map(|i| i % 3).collect();
        let x = labels
            .iter()
            .map(|c| {
                (0..5)
                    .map(|d| (d == *c as usize) as u8 as f32 + 0.3 * rng.gaussian() as f32)
                    .collect()
            })
            .collect();
        (x, labels)
    }

    /// The marginal of the two-block model over an absent block is the one-block model fitted
    /// on the block alone: same class means, same scatter sub-block.
    #[test]
    fn a_window_without_a_block_is_scored_as_by_a_model_of_the_other_block_alone() {
        let (x, labels) = rows(&mut Rng::new(5), 30);
        let both = Features::new(&[3, 2], 8, 1);
        let alone = Features::new(&[3], 8, 1);
        let (mut s2, mut s1) = (Stats::new(5), Stats::new(3));
        let refs: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
        fold(&mut s2, &both, &refs, &labels);
        let first: Vec<&[f32]> = x.iter().map(|r| &r[..3]).collect();
        fold(&mut s1, &alone, &first, &labels);
        let (d2, d1) = (
            Discriminants::solve(&s2, &both.sizes(), 0.1),
            Discriminants::solve(&s1, &alone.sizes(), 0.1),
        );
        let probe = [0.9, 0.2, -0.1, 0.0, 0.0];
        let (h2, m2) = both.map(&probe);
        let (h1, m1) = alone.map(&probe[..3]);
        assert_eq!((m2, m1), (0b01, 0b1));
        let (a, b) = (d2.scores(&h2, m2), d1.scores(&h1, m1));
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-4 * p.abs().max(1.0), "{a:?} vs {b:?}");
        }
        assert_eq!(d2.scores(&h2, 0), vec![0.0; 3]);
    }
}
