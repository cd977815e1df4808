//! `joint`: keeps every embedding seen (normalized f32) and retrains a fresh head on all of
//! them at each `learn`: the upper bound of what the head can reach on these embeddings.
//! Benchmark only: its memory grows without bound, so its budget is `usize::MAX`.

use super::{class_mean, Batch, HeadCore, HeadStrategy};
use crate::learn::config::LearnerConfig;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

#[derive(Debug, Clone, PartialEq)]
pub struct Joint {
    core: HeadCore,
    /// Every normalized embedding seen, `labels.len() x dim`.
    data: Vec<f32>,
    labels: Vec<ClassId>,
}

impl Joint {
    pub fn new(dim: usize, config: &LearnerConfig) -> Joint {
        Joint {
            core: HeadCore::new(dim, config),
            data: Vec::new(),
            labels: Vec::new(),
        }
    }

    pub fn read(r: &mut Reader, dim: usize, config: &LearnerConfig) -> Result<Joint, LearnError> {
        let core = HeadCore::read(r, dim, config)?;
        let data = r.f32s("joint data")?;
        let labels = r.u32s("joint labels")?;
        r.expect_len("joint data", data.len(), labels.len() * dim)?;
        Ok(Joint { core, data, labels })
    }
}

impl HeadStrategy for Joint {
    fn core(&self) -> &HeadCore {
        &self.core
    }
    fn core_mut(&mut self) -> &mut HeadCore {
        &mut self.core
    }
    fn extra_bytes(&self) -> usize {
        4 * (self.data.len() + self.labels.len())
    }
    fn budget(&self) -> usize {
        usize::MAX
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        let dim = self.core.dim;
        self.data.extend(batch.normalized(dim));
        self.labels.extend_from_slice(batch.labels);
        let mut order = self.core.head.classes().to_vec();
        order.extend(&batch.new_classes);
        self.core.head = HeadCore::empty_head(dim, &self.core.config);
        let mapped = self.core.map(self.data.clone());
        for class in order {
            let rows: Vec<usize> = (0..self.labels.len())
                .filter(|i| self.labels[*i] == class)
                .collect();
            self.core
                .head
                .add_class(class, &class_mean(&mapped, dim, &rows), &mut self.core.rng);
        }
        let mut set = self.core.train_set(self.data.clone(), &self.labels);
        self.core.train(&mut set, 0.0, None);
        0
    }

    fn forget_extra(&mut self, class: ClassId, _row: Option<usize>) {
        let dim = self.core.dim;
        let keep: Vec<usize> = (0..self.labels.len())
            .filter(|i| self.labels[*i] != class)
            .collect();
        self.data = keep
            .iter()
            .flat_map(|i| self.data[i * dim..(i + 1) * dim].to_vec())
            .collect();
        self.labels = keep.iter().map(|i| self.labels[*i]).collect();
    }

    fn write_extra(&self, w: &mut Writer) {
        w.f32s(&self.data);
        w.u32s(&self.labels);
    }
}
