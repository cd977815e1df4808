//! `ewc`: Elastic Weight Consolidation (Kirkpatrick et al. 2017) on the head, in its online form
//! (Schwarz et al. 2018): after each `learn`, the diagonal empirical Fisher of the head on that
//! batch is added to the decayed running Fisher and the weights become the new anchor; training
//! adds `ewc_lambda/2 * sum F (theta - anchor)^2`. New classes' rows have zero Fisher (free).
//! Memory: the head, the Fisher and the anchor (three head-sized buffers).
//!
//! Expect little from it when each `learn` brings one class: the head is then certain on its own
//! batch, the empirical Fisher is near zero and EWC behaves like `finetune`, as reported for
//! class-incremental settings (Hsu et al. 2018; van de Ven & Tolias 2019).

use super::{Batch, HeadCore, HeadStrategy};
use crate::learn::config::LearnerConfig;
use crate::learn::head::Params;
use crate::learn::sgd::Penalty;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Ewc {
    core: HeadCore,
    fisher: Params,
    anchor: Params,
}

impl Ewc {
    pub fn new(dim: usize, config: &LearnerConfig) -> Ewc {
        Ewc {
            core: HeadCore::new(dim, config),
            fisher: Params::default(),
            anchor: Params::default(),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Ewc, LearnError> {
        let core = HeadCore::read(r, dim, config)?;
        let rows = core.head.classes().len();
        let fisher = Params::read(r, rows, dim)?;
        let anchor = Params::read(r, rows, dim)?;
        Ok(Ewc {
            core,
            fisher,
            anchor,
        })
    }
}

impl HeadStrategy for Ewc {
    fn core(&self) -> &HeadCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut HeadCore {
        &mut self.core
    }
    /// A Fisher row and an anchor row, each weights plus bias in f32.
    fn class_bytes(&self) -> usize {
        2 * 4 * (self.core.dim + 1)
    }
    fn what(&self) -> &'static str {
        "the head, its Fisher and anchor"
    }
    fn extra_bytes(&self) -> usize {
        self.fisher.memory_bytes() + self.anchor.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let dim = self.core.dim;
        let xn = batch.normalized(dim);
        self.core.imprint(batch, &xn);
        for _ in 0..batch.new_classes.len() {
            self.fisher.push_zero_row(dim);
            self.anchor.push_zero_row(dim);
        }
        let mut set = self.core.train_set(xn, batch.labels);
        let penalty = Penalty {
            lambda: self.core.config.ewc_lambda,
            fisher: &self.fisher,
            anchor: &self.anchor,
        };
        self.core.train(&mut set, 0.0, Some(penalty));
        let fresh = self.core.head.fisher(&set);
        let decay = self.core.config.ewc_decay;
        for (f, n) in self
            .fisher
            .w
            .iter_mut()
            .chain(self.fisher.b.iter_mut())
            .zip(fresh.w.iter().chain(&fresh.b))
        {
            *f = decay * *f + n;
        }
        self.anchor = self.core.head.params.clone();
        0
    }

    fn forget_extra(&mut self, _class: ClassId, row: Option<usize>) {
        if let Some(row) = row {
            self.fisher.remove_row(row, self.core.dim);
            self.anchor.remove_row(row, self.core.dim);
        }
    }
    fn write_extra(&self, w: &mut Writer) {
        self.fisher.write(w);
        self.anchor.write(w);
    }
}
