//! `proto`: the SGD head + a herding replay buffer + per-class prototypes.
//!
//! At each `learn`: the batch updates the prototypes (count/mean/variance on normalized
//! embeddings, `prototypes.rs`); the head trains on the batch, the replayed exemplars and
//! Gaussian pseudo-features `mean + sqrt(var) * eps` drawn for the old classes (prototype
//! augmentation, PASS, Zhu et al. 2021, with a per-dimension variance instead of one radius),
//! `pseudo_ratio` per new embedding spread evenly over the old classes, which keeps old classes
//! represented even when the buffer holds few of their exemplars; optionally distilled
//! (`proto_distill`). The buffer then herds towards each class's prototype mean.
//!
//! Budget split: head rows + prototypes + buffer bookkeeping first (`fixed_bytes`), exemplars
//! get the rest. At D = 2304 with 32 classes and the default budget (160 f32 exemplars,
//! 1 474 560 B): head 295 168 B, prototypes 590 208 B, bookkeeping 384 B, leaving 588 800 B =
//! 255 int8 exemplars.

use super::er::{offers, with_replay};
use super::{Batch, HeadCore, HeadStrategy, Strategy};
use crate::learn::buffer::{ReplayBuffer, Selection, CLASS_OVERHEAD};
use crate::learn::config::LearnerConfig;
use crate::learn::linalg::normalize_into;
use crate::learn::prototypes::Prototypes;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Proto {
    core: HeadCore,
    buffer: ReplayBuffer,
    protos: Prototypes,
}

impl Proto {
    pub fn new(dim: usize, config: &LearnerConfig) -> Proto {
        Proto {
            core: HeadCore::new(dim, config),
            buffer: ReplayBuffer::new(dim, config.quant),
            protos: Prototypes::new(dim, true),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Proto, LearnError> {
        let core = HeadCore::read(r, dim, config)?;
        let buffer = ReplayBuffer::read(r, dim, config.quant)?;
        let protos = Prototypes::read(r, dim, true)?;
        Ok(Proto {
            core,
            buffer,
            protos,
        })
    }

    /// `count` pseudo-features (normalized) for the known classes absent from the batch,
    /// round-robin over those classes.
    fn pseudo_features(&mut self, batch: &Batch, count: usize) -> (Vec<f32>, Vec<ClassId>) {
        let dim = self.core.dim;
        let old: Vec<(ClassId, Vec<f32>, Vec<f32>)> = self
            .protos
            .iter()
            .filter(|p| !batch.labels.contains(&p.class))
            .map(|p| {
                (
                    p.class,
                    p.mean.clone(),
                    p.variance().iter().map(|v| v.sqrt()).collect(),
                )
            })
            .collect();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        if old.is_empty() {
            return (x, y);
        }
        let mut draw = vec![0.0; dim];
        let mut out = vec![0.0; dim];
        for k in 0..count {
            let (class, mean, sd) = &old[k % old.len()];
            for ((d, m), s) in draw.iter_mut().zip(mean).zip(sd) {
                *d = m + s * self.core.rng.gaussian() as f32;
            }
            normalize_into(&draw, &mut out);
            x.extend_from_slice(&out);
            y.push(*class);
        }
        (x, y)
    }
}

impl HeadStrategy for Proto {
    fn core(&self) -> &HeadCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut HeadCore {
        &mut self.core
    }
    fn class_bytes(&self) -> usize {
        CLASS_OVERHEAD + Prototypes::bytes_per_class(self.core.dim, true)
    }
    fn what(&self) -> &'static str {
        "the head, prototypes and buffer bookkeeping"
    }
    fn extra_bytes(&self) -> usize {
        self.buffer.memory_bytes() + self.protos.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let dim = self.core.dim;
        let xn = batch.normalized(dim);
        let count = (self.core.config.pseudo_ratio * batch.labels.len() as f32).round() as usize;
        let (pseudo, pseudo_labels) = self.pseudo_features(batch, count);
        for (class, rows) in batch.groups() {
            let refs: Vec<&[f32]> = rows.iter().map(|i| &xn[i * dim..(i + 1) * dim]).collect();
            self.protos.update(class, &refs);
        }
        let (mut x, mut y) = with_replay(batch, &xn, &self.buffer, dim);
        x.extend(pseudo);
        y.extend(pseudo_labels);
        let mut set = self.core.train_set(x, &y);
        let distill = self.core.config.proto_distill;
        if distill > 0.0 {
            self.core.soft_targets(&mut set);
        }
        self.core.imprint(batch, &xn);
        self.core.map_rows(&mut set);
        self.core.train(&mut set, distill, None);
        let free = self.core.config.budget_bytes - self.fixed_bytes(self.core.head.classes().len());
        let capacity = free / self.buffer.exemplar_bytes();
        let mut offers = offers(batch);
        for o in &mut offers {
            o.target = self.protos.get(o.class).map(|p| p.mean.clone());
        }
        self.buffer
            .insert(capacity, &offers, Selection::Herding, &mut self.core.rng)
    }

    fn forget_extra(&mut self, class: ClassId, _row: Option<usize>) {
        self.buffer.remove_class(class);
        self.protos.remove(class);
    }
    fn write_extra(&self, w: &mut Writer) {
        self.buffer.write(w);
        self.protos.write(w);
    }
}
