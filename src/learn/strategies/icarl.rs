//! `icarl`: iCaRL (Rebuffi et al. 2017) on the frozen embeddings: exemplars chosen by herding
//! (class-balanced under the byte budget) and the nearest-mean-of-exemplars classifier
//! (cosine to the normalized mean of each class's normalized exemplars).
//!
//! NME only, no head: iCaRL trains its head with distillation to shape the *representation*;
//! here the encoder is frozen, so a head trained on top could not change the exemplar means and
//! so could not change a single NME prediction. With modality blocks the cosine is over the
//! blocks the window has present (`modality::masked_cosine`). Memory: the class means (C x D f32, cached so
//! `predict` does not decode the buffer) + the buffer, which gets the rest of the budget.

use super::er::offers;
use super::{normalize_rows, Batch, Strategy};
use crate::learn::buffer::{ReplayBuffer, Selection, CLASS_OVERHEAD};
use crate::learn::config::LearnerConfig;
use crate::learn::linalg::{dot, normalize_into};
use crate::learn::modality::masked_cosine;
use crate::learn::rng::Rng;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Icarl {
    dim: usize,
    config: LearnerConfig,
    rng: Rng,
    classes: Vec<ClassId>,
    /// Normalized exemplar mean per class, `classes.len() x dim` (zero for a class with none).
    means: Vec<f32>,
    buffer: ReplayBuffer,
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
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Icarl, LearnError> {
        let rng = Rng::new(r.u64("rng state")?);
        let classes = r.u32s("icarl classes")?;
        let means = r.f32s("icarl means")?;
        r.expect_len("icarl means", means.len(), classes.len() * dim)?;
        let buffer = ReplayBuffer::read(r, dim, config.quant)?;
        Ok(Icarl {
            dim,
            config: config.clone(),
            rng,
            classes,
            means,
            buffer,
        })
    }

    fn recompute_means(&mut self) {
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
        classes * (4 + 4 * self.dim + CLASS_OVERHEAD)
    }
    fn fixed_what(&self) -> String {
        "class means and buffer bookkeeping".into()
    }
    fn memory_bytes(&self) -> usize {
        4 * (self.classes.len() + self.means.len()) + self.buffer.memory_bytes()
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
            self.means.drain(c * self.dim..(c + 1) * self.dim);
            self.buffer.remove_class(class);
        }
    }

    fn write_body(&self, w: &mut Writer) {
        w.u64(self.rng.state());
        w.u32s(&self.classes);
        w.f32s(&self.means);
        self.buffer.write(w);
    }
}
