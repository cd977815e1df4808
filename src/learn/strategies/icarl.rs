//! `icarl`: iCaRL (Rebuffi et al. 2017) on the frozen embeddings: exemplars chosen by herding
//! (class-balanced under the byte budget) and the nearest-mean-of-exemplars classifier
//! (cosine to the normalized mean of each class's normalized exemplars).
//!
//! NME only, no head: iCaRL trains its head with distillation to shape the *representation*;
//! here the encoder is frozen, so a head trained on top could not change the exemplar means and
//! so could not change a single NME prediction. With modality blocks the cosine is over the
//! blocks the window has present (`modality::masked_cosine`). Memory: the class means (C x D f32, cached so
//! `predict` does not decode the buffer) + the buffer, which gets the rest of the budget.
//!
//! With `shrinkage > 0` the nearest mean is taken under the shared within-class covariance of
//! the exemplars (`learn::whiten`): at every `learn` the statistics are rebuilt from the
//! decoded buffer, solved into per-block-subset discriminants, and only those are kept (no
//! means, no scatter): iCaRL's classifier is what the exemplars alone allow. Their block width
//! `q` is `projection`, or the largest (a multiple of 64) whose discriminants take at most a
//! quarter of the budget for `planned_classes`; the buffer gets the rest.

use super::er::offers;
use super::{normalize_rows, Batch, Strategy};
use crate::learn::bisect::largest_fitting;
use crate::learn::buffer::{ReplayBuffer, Selection, CLASS_OVERHEAD};
use crate::learn::config::LearnerConfig;
use crate::learn::linalg::{dot, normalize_into};
use crate::learn::modality::masked_cosine;
use crate::learn::rng::Rng;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::strategies::whitened::fold;
use crate::learn::whiten::{blocks, Discriminants, Features, Stats};
use crate::learn::{ClassId, LearnError};

/// The whitened nearest-mean classifier (`shrinkage > 0`, module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Nme {
    q: usize,
    features: Features,
    disc: Discriminants,
}

impl Nme {
    fn new(dim: usize, config: &LearnerConfig, q: usize) -> Nme {
        let features = Features::new(&blocks(dim, &config.modality_dims), q, config.seed);
        let disc = Discriminants::empty(&features.sizes());
        Nme { q, features, disc }
    }

    /// Bytes of the features and discriminants at width `q` with `classes` classes.
    fn bytes(dims: &[usize], q: usize, classes: usize) -> usize {
        let sizes: Vec<usize> = dims.iter().map(|d| (*d).min(q)).collect();
        Features::bytes(dims, q) + Discriminants::bytes(&sizes, classes)
    }

    /// `projection`, or the automatic width (module docs).
    fn width(dim: usize, config: &LearnerConfig) -> usize {
        let dims = blocks(dim, &config.modality_dims);
        let widest = dims.iter().copied().max().unwrap_or(dim);
        if config.projection > 0 {
            return config.projection.min(widest);
        }
        let share = config.budget_bytes / 4;
        let q = largest_fitting(widest, |q| {
            Nme::bytes(&dims, q, config.planned_classes) <= share
        });
        if (64..widest).contains(&q) {
            q - q % 64
        } else {
            q.max(1)
        }
    }

    /// Rebuilds the discriminants from the exemplars, classes in `classes` order.
    fn refit(&mut self, classes: &[ClassId], buffer: &ReplayBuffer, shrinkage: f32, dim: usize) {
        let mut stats = Stats::new(self.features.sizes().iter().sum());
        classes.iter().for_each(|c| {
            stats.class_index(*c);
        });
        let (x, y) = buffer.decoded();
        let rows: Vec<&[f32]> = x.chunks_exact(dim).collect();
        fold(&mut stats, &self.features, &rows, &y);
        self.disc = Discriminants::solve(&stats, &self.features.sizes(), shrinkage);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Icarl {
    dim: usize,
    config: LearnerConfig,
    rng: Rng,
    classes: Vec<ClassId>,
    /// Normalized exemplar mean per class, `classes.len() x dim` (zero for a class with none).
    means: Vec<f32>,
    buffer: ReplayBuffer,
    /// The whitened classifier, with `shrinkage > 0` (then `means` stays empty).
    nme: Option<Nme>,
}

impl Icarl {
    pub fn new(dim: usize, config: &LearnerConfig) -> Icarl {
        let (rng, buffer) = (Rng::new(config.seed), ReplayBuffer::new(dim, config.quant));
        Icarl {
            dim,
            config: config.clone(),
            rng,
            classes: Vec::new(),
            means: Vec::new(),
            buffer,
            nme: (config.shrinkage > 0.0).then(|| Nme::new(dim, config, Nme::width(dim, config))),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Icarl, LearnError> {
        let rng = Rng::new(r.u64("rng state")?);
        let classes = r.u32s("icarl classes")?;
        let means = r.f32s("icarl means")?;
        let mean_rows = if config.shrinkage > 0.0 {
            0
        } else {
            classes.len()
        };
        r.expect_len("icarl means", means.len(), mean_rows * dim)?;
        let buffer = ReplayBuffer::read(r, dim, config.quant)?;
        let nme = match config.shrinkage > 0.0 {
            false => None,
            true => Some(Icarl::read_nme(r, dim, config, classes.len())?),
        };
        Ok(Icarl {
            dim,
            config: config.clone(),
            rng,
            classes,
            means,
            buffer,
            nme,
        })
    }

    fn read_nme(
        r: &mut Reader,
        dim: usize,
        config: &LearnerConfig,
        classes: usize,
    ) -> Result<Nme, LearnError> {
        let q = r.usize("icarl block width")?;
        if q == 0 || q > dim {
            return Err(r
                .error(format!("icarl block width {q} outside 1..={dim}"))
                .into());
        }
        let mut nme = Nme::new(dim, config, q);
        nme.disc = Discriminants::read(r, &nme.features.sizes())?;
        r.expect_len("icarl discriminants", nme.disc.classes(), classes)?;
        Ok(nme)
    }

    fn recompute_means(&mut self) {
        if let Some(nme) = &mut self.nme {
            nme.refit(&self.classes, &self.buffer, self.config.shrinkage, self.dim);
            return;
        }
        let (mut x, y) = self.buffer.decoded();
        normalize_rows(&mut x, self.dim);
        let mut sums = vec![0.0f32; self.classes.len() * self.dim];
        for (row, label) in x.chunks_exact(self.dim).zip(&y) {
            if let Some(c) = self.classes.iter().position(|k| k == label) {
                sums[c * self.dim..(c + 1) * self.dim]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(s, v)| *s += v);
            }
        }
        self.means = vec![0.0; sums.len()];
        for (s, m) in sums
            .chunks_exact(self.dim)
            .zip(self.means.chunks_exact_mut(self.dim))
        {
            normalize_into(s, m);
        }
    }
}

impl Strategy for Icarl {
    fn config(&self) -> &LearnerConfig {
        &self.config
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn classes(&self) -> Vec<ClassId> {
        self.classes.clone()
    }
    fn fixed_bytes(&self, classes: usize) -> usize {
        match &self.nme {
            None => classes * (4 + 4 * self.dim + CLASS_OVERHEAD),
            Some(n) => {
                let dims = blocks(self.dim, &self.config.modality_dims);
                classes * (4 + CLASS_OVERHEAD) + Nme::bytes(&dims, n.q, classes)
            }
        }
    }
    fn fixed_what(&self) -> String {
        "class means and buffer bookkeeping".into()
    }
    fn memory_bytes(&self) -> usize {
        let nme = self
            .nme
            .as_ref()
            .map_or(0, |n| n.features.memory_bytes() + n.disc.memory_bytes());
        4 * (self.classes.len() + self.means.len()) + self.buffer.memory_bytes() + nme
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        self.classes.extend(&batch.new_classes);
        let capacity = (self.config.budget_bytes - self.fixed_bytes(self.classes.len()))
            / self.buffer.exemplar_bytes();
        let evicted =
            self.buffer
                .insert(capacity, &offers(batch), Selection::Herding, &mut self.rng);
        self.recompute_means();
        evicted
    }

    fn scores(&self, x: &[f32]) -> Vec<f32> {
        if let Some(nme) = &self.nme {
            let (h, mask) = nme.features.map(x);
            return nme.disc.scores(&h, mask);
        }
        let mut xn = vec![0.0; self.dim];
        normalize_into(x, &mut xn);
        let dims = &self.config.modality_dims;
        self.means
            .chunks_exact(self.dim)
            .map(|m| {
                let cosine = if dims.len() < 2 {
                    dot(m, &xn)
                } else {
                    masked_cosine(&xn, m, dims)
                };
                self.config.scale * cosine
            })
            .collect()
    }

    fn forget_class(&mut self, class: ClassId) {
        if let Some(c) = self.classes.iter().position(|k| *k == class) {
            self.classes.remove(c);
            if let Some(nme) = &mut self.nme {
                nme.disc.remove_row(c);
            } else {
                self.means.drain(c * self.dim..(c + 1) * self.dim);
            }
            self.buffer.remove_class(class);
        }
    }

    fn write_body(&self, w: &mut Writer) {
        w.u64(self.rng.state());
        w.u32s(&self.classes);
        w.f32s(&self.means);
        self.buffer.write(w);
        if let Some(nme) = &self.nme {
            w.usize(nme.q);
            nme.disc.write(w);
        }
    }
}
