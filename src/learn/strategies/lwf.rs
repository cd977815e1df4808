//! `lwf`: Learning without Forgetting (Li & Hoiem 2016) on the frozen embeddings. Before a batch
//! is learned, the current head's softened outputs (temperature T) on that batch are recorded;
//! training then adds `lwf_lambda * T^2 * KL(old || new)` over the old classes to the
//! cross-entropy. No exemplars: the memory is the head alone.

use super::{Batch, HeadCore, Strategy};
use crate::learn::config::LearnerConfig;
use crate::learn::head::Head;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

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

impl Strategy for Lwf {
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
        let mut set = self.core.train_set(xn, batch.labels);
        self.core.soft_targets(&mut set);
        self.core.imprint(batch, &set.x);
        // Labels of new classes were mapped before their rows existed: map again.
        set.y = batch
            .labels
            .iter()
            .map(|l| self.core.head.index(*l).unwrap_or(0))
            .collect();
        self.core.train(&mut set, self.core.config.lwf_lambda, None);
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
