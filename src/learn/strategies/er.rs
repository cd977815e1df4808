//! `er`: experience replay (Chaudhry et al. 2019; Rolnick et al. 2019) on latent exemplars:
//! the buffer's exemplars (class-balanced reservoir samples, quantized) are mixed with each new
//! batch into the SGD epochs. Budget split: the head first, the buffer gets the rest.

use super::{normalize_rows, Batch, HeadCore, HeadStrategy, Strategy};
use crate::learn::buffer::{Offer, ReplayBuffer, Selection, CLASS_OVERHEAD};
use crate::learn::config::LearnerConfig;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Er {
    core: HeadCore,
    buffer: ReplayBuffer,
}

impl Er {
    pub fn new(dim: usize, config: &LearnerConfig) -> Er {
        Er {
            core: HeadCore::new(dim, config),
            buffer: ReplayBuffer::new(dim, config.quant),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Er, LearnError> {
        let core = HeadCore::read(r, dim, config)?;
        let buffer = ReplayBuffer::read(r, dim, config.quant)?;
        Ok(Er { core, buffer })
    }
}

/// The new batch plus every decoded exemplar, normalized, as one training set's rows and labels.
pub fn with_replay(
    batch: &Batch,
    xn: &[f32],
    buffer: &ReplayBuffer,
    dim: usize,
) -> (Vec<f32>, Vec<ClassId>) {
    let (mut replay, replay_labels) = buffer.decoded();
    normalize_rows(&mut replay, dim);
    let mut x = xn.to_vec();
    x.extend(replay);
    let mut y = batch.labels.to_vec();
    y.extend(replay_labels);
    (x, y)
}

/// The batch's raw rows grouped per class, as offers to the buffer.
pub fn offers<'a>(batch: &Batch<'a>) -> Vec<Offer<'a>> {
    batch
        .groups()
        .into_iter()
        .map(|(class, rows)| Offer {
            class,
            rows: rows
                .iter()
                .map(|i| batch.embeddings[*i].as_slice())
                .collect(),
            target: None,
        })
        .collect()
}

impl HeadStrategy for Er {
    fn core(&self) -> &HeadCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut HeadCore {
        &mut self.core
    }
    fn class_bytes(&self) -> usize {
        CLASS_OVERHEAD
    }
    fn what(&self) -> &'static str {
        "the head and buffer bookkeeping"
    }
    fn extra_bytes(&self) -> usize {
        self.buffer.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let dim = self.core.dim;
        let xn = batch.normalized(dim);
        self.core.imprint(batch, &xn);
        let (x, y) = with_replay(batch, &xn, &self.buffer, dim);
        let mut set = self.core.train_set(x, &y);
        self.core.train(&mut set, 0.0, None);
        let free = self.core.config.budget_bytes - self.fixed_bytes(self.core.head.classes().len());
        let capacity = free / self.buffer.exemplar_bytes();
        self.buffer.insert(
            capacity,
            &offers(batch),
            Selection::Reservoir,
            &mut self.core.rng,
        )
    }

    fn forget_extra(&mut self, class: ClassId, _row: Option<usize>) {
        self.buffer.remove_class(class);
    }
    fn write_extra(&self, w: &mut Writer) {
        self.buffer.write(w);
    }
}
