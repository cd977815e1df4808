//! `ncm`: SimpleCIL (Zhou et al. 2023): each class is the running mean of its normalized
//! embeddings (a prototype without variance) and prediction is the cosine to each mean. No
//! training, no exemplars; incremental by construction. Memory: C x (D f32 + count + id).
//! With modality blocks, the cosine is taken over the blocks the window has present
//! (`modality::masked_cosine`): a window with the camera off meets the IMU part of each mean.
//! This is `ncm` with `shrinkage = 0`; with `shrinkage > 0` (the default) `ncm` is
//! `strategies::whitened`: the same means under a shared within-class covariance.

use super::{Batch, Strategy};
use crate::learn::config::LearnerConfig;
use crate::learn::linalg::{dot, norm, normalize_into};
use crate::learn::modality::masked_cosine;
use crate::learn::prototypes::Prototypes;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Ncm {
    dim: usize,
    config: LearnerConfig,
    protos: Prototypes,
}

impl Ncm {
    pub fn new(dim: usize, config: &LearnerConfig) -> Ncm {
        Ncm {
            dim,
            config: config.clone(),
            protos: Prototypes::new(dim, false),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Ncm, LearnError> {
        Ok(Ncm {
            dim,
            config: config.clone(),
            protos: Prototypes::read(r, dim, false)?,
        })
    }
}

impl Strategy for Ncm {
    fn config(&self) -> &LearnerConfig {
        &self.config
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn classes(&self) -> Vec<ClassId> {
        self.protos.iter().map(|p| p.class).collect()
    }
    fn fixed_bytes(&self, classes: usize) -> usize {
        classes * Prototypes::bytes_per_class(self.dim, false)
    }
    fn fixed_what(&self) -> String {
        "class means".into()
    }
    fn memory_bytes(&self) -> usize {
        self.protos.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let xn = batch.normalized(self.dim);
        for (class, rows) in batch.groups() {
            let refs: Vec<&[f32]> = rows
                .iter()
                .map(|i| &xn[i * self.dim..(i + 1) * self.dim])
                .collect();
            self.protos.update(class, &refs);
        }
        0
    }

    fn scores(&self, x: &[f32]) -> Vec<f32> {
        let mut xn = vec![0.0; self.dim];
        normalize_into(x, &mut xn);
        let dims = &self.config.modality_dims;
        self.protos
            .iter()
            .map(|p| {
                let cosine = if dims.len() < 2 {
                    dot(&p.mean, &xn) / norm(&p.mean).max(1e-12)
                } else {
                    masked_cosine(&xn, &p.mean, dims)
                };
                self.config.scale * cosine
            })
            .collect()
    }

    fn forget_class(&mut self, class: ClassId) {
        self.protos.remove(class);
    }
    fn write_body(&self, w: &mut Writer) {
        self.protos.write(w);
    }
}
