//! `finetune`: the SGD head trained on each new batch alone, no memory: the lower bound that
//! shows how much the other strategies forget less.

use super::{Batch, HeadCore, Strategy};
use crate::learn::config::LearnerConfig;
use crate::learn::head::Head;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

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

impl Strategy for Finetune {
    fn config(&self) -> &LearnerConfig {
        &self.core.config
    }
    fn dim(&self) -> usize {
        self.core.dim
    }
    fn classes(&self) -> Vec<ClassId> {
        self.core.head.classes().to_vec()
    }
    fn fixed_bytes(&self, classes: usize) -> usize {
        Head::bytes(self.core.dim, classes)
    }
    fn fixed_what(&self) -> String {
        "the head".into()
    }
    fn memory_bytes(&self) -> usize {
        self.core.head.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let xn = batch.normalized(self.core.dim);
        self.core.imprint(batch, &xn);
        let mut set = self.core.train_set(xn, batch.labels);
        self.core.train(&mut set, 0.0, None);
        0
    }

    fn scores(&self, x: &[f32]) -> Vec<f32> {
        self.core.scores(x)
    }
    fn forget_class(&mut self, class: ClassId) {
        self.core.head.remove_class(class);
    }
    fn write_body(&self, w: &mut Writer) {
        self.core.write(w);
    }
}
