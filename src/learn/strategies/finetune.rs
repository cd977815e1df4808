//! `finetune`: the SGD head trained on each new batch alone, no memory: the lower bound that
//! shows how much the other strategies forget less.

use super::{Batch, HeadCore, HeadStrategy};
use crate::learn::config::LearnerConfig;
use crate::learn::snapshot::Reader;
use crate::learn::LearnError;

#[derive(Debug, Clone, PartialEq)]
pub struct Finetune {
    core: HeadCore,
}

impl Finetune {
    pub fn new(dim: usize, config: &LearnerConfig) -> Finetune {
        Finetune {
            core: HeadCore::new(dim, config),
        }
    }

    pub fn read(
        r: &mut Reader,
        dim: usize,
        config: &LearnerConfig,
    ) -> Result<Finetune, LearnError> {
        Ok(Finetune {
            core: HeadCore::read(r, dim, config)?,
        })
    }
}

impl HeadStrategy for Finetune {
    fn core(&self) -> &HeadCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut HeadCore {
        &mut self.core
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let xn = batch.normalized(self.core.dim);
        self.core.imprint(batch, &xn);
        let mut set = self.core.train_set(xn, batch.labels);
        self.core.train(&mut set, 0.0, None);
        0
    }
}
