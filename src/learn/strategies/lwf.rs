//! `lwf`: Learning without Forgetting (Li & Hoiem 2016) on the frozen embeddings. Before a batch
//! is learned, the current head's softened outputs (temperature T) on that batch are recorded;
//! training then adds `lwf_lambda * T^2 * KL(old || new)` over the old classes to the
//! cross-entropy. No exemplars: the memory is the head alone.

use super::{Batch, HeadCore, HeadStrategy};
use crate::learn::config::LearnerConfig;
use crate::learn::snapshot::Reader;
use crate::learn::LearnError;

#[derive(Debug, Clone, PartialEq)]
pub struct Lwf {
    core: HeadCore,
}

impl Lwf {
    pub fn new(dim: usize, config: &LearnerConfig) -> Lwf {
        Lwf {
            core: HeadCore::new(dim, config),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Lwf, LearnError> {
        Ok(Lwf {
            core: HeadCore::read(r, dim, config)?,
        })
    }
}

impl HeadStrategy for Lwf {
    fn core(&self) -> &HeadCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut HeadCore {
        &mut self.core
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let xn = batch.normalized(self.core.dim);
        let mut set = self.core.train_set(xn.clone(), batch.labels);
        self.core.soft_targets(&mut set);
        self.core.imprint(batch, &xn);
        // Labels of new classes were mapped before their rows existed: map again.
        self.core.map_rows(&mut set);
        self.core.train(&mut set, self.core.config.lwf_lambda, None);
        0
    }
}
