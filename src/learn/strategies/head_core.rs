//! `HeadCore`, what the gradient strategies (finetune, lwf, ewc, er, proto, joint) share: the
//! SGD head, its RNG and the config; and `HeadStrategy`, the trait through which such a strategy
//! says only what it keeps besides the head, the blanket impl below deriving the rest of
//! `Strategy` from it.

use super::{class_mean, Batch, Strategy};
use crate::learn::config::LearnerConfig;
use crate::learn::head::{softmax, Head};
use crate::learn::linalg::normalize_into;
use crate::learn::modality;
use crate::learn::rng::Rng;
use crate::learn::sgd::{Penalty, TrainOpts, TrainSet};
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::standardize::Standardizer;
use crate::learn::{ClassId, LearnError};

/// The SGD head, its RNG and the config: what the gradient strategies share.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadCore {
    pub dim: usize,
    pub config: LearnerConfig,
    pub head: Head,
    pub rng: Rng,
    /// The per-block feature map, with `LearnerConfig::standardize` (`learn::standardize`).
    pub standardizer: Option<Standardizer>,
}

impl HeadCore {
    pub fn new(dim: usize, config: &LearnerConfig) -> HeadCore {
        let standardizer = config
            .standardize
            .then(|| Standardizer::new(dim, &config.modality_dims));
        HeadCore {
            dim,
            config: config.clone(),
            head: HeadCore::empty_head(dim, config),
            rng: Rng::new(config.seed),
            standardizer,
        }
    }

    /// A head without classes for `config` (normalized per block with `standardize`).
    pub fn empty_head(dim: usize, config: &LearnerConfig) -> Head {
        let head = Head::new(dim, config.head, config.scale);
        match config.standardize {
            true => head.with_blocks(&config.modality_dims),
            false => head,
        }
    }

    /// Bytes of the feature map's statistics (none without `standardize`).
    pub fn standardizer_bytes(&self) -> usize {
        match self.config.standardize {
            true => Standardizer::bytes(self.dim, &self.config.modality_dims),
            false => 0,
        }
    }

    /// Folds a batch's rows into the feature map's statistics (before it is learned from).
    pub fn observe(&mut self, batch: &Batch) {
        if let Some(s) = &mut self.standardizer {
            s.update(&batch.normalized(self.dim));
        }
    }

    /// Normalized rows through the feature map (unchanged without `standardize`).
    pub fn map(&self, mut xn: Vec<f32>) -> Vec<f32> {
        if let Some(s) = &self.standardizer {
            s.apply(&mut xn);
        }
        xn
    }

    /// Adds a head row for each new class, imprinted with its normalized batch mean.
    pub fn imprint(&mut self, batch: &Batch, xn: &[f32]) {
        let xn = self.map(xn.to_vec());
        for (class, rows) in batch.groups() {
            if batch.new_classes.contains(&class) {
                let mean = class_mean(&xn, self.dim, &rows);
                self.head.add_class(class, &mean, &mut self.rng);
            }
        }
    }

    pub fn opts(&self, distill: f32) -> TrainOpts {
        let c = &self.config;
        TrainOpts {
            epochs: c.epochs,
            lr: c.lr,
            momentum: c.momentum,
            batch_size: c.batch_size,
            distill,
            temperature: c.temperature,
        }
    }

    /// A training set over normalized rows `xn` labelled `labels`, followed by their
    /// modality-absent variants (`modality::augment`, nothing when the config has no modality
    /// blocks). Rows of a class the head does not know yet point at row 0 until `map_rows`.
    pub fn train_set(&self, xn: Vec<f32>, labels: &[ClassId]) -> TrainSet {
        let (x, labels) = modality::augment(xn, labels.to_vec(), &self.config.modality_dims);
        let mut set = TrainSet {
            x: self.map(x),
            labels,
            ..TrainSet::default()
        };
        self.map_rows(&mut set);
        set
    }

    /// Points every row of `set` at its class's head row (again, after new rows were added).
    pub fn map_rows(&self, set: &mut TrainSet) {
        set.y = set
            .labels
            .iter()
            .map(|l| self.head.index(*l).unwrap_or(0))
            .collect();
    }

    /// Trains the head on `set` (labels already mapped to rows), class-balanced if configured.
    pub fn train(&mut self, set: &mut TrainSet, distill: f32, penalty: Option<Penalty>) {
        if self.config.balanced {
            set.balance(self.head.classes().len());
        }
        let opts = self.opts(distill);
        self.head.train(set, &opts, penalty, &mut self.rng);
    }

    /// The current head's softmax at the distillation temperature on `xn` (before new rows).
    pub fn soft_targets(&self, set: &mut TrainSet) {
        let k = self.head.classes().len();
        let mut z = vec![0.0; set.y.len() * k];
        if k > 0 {
            self.head.logits(&set.x, &mut z);
            z.chunks_exact_mut(k).for_each(|row| {
                row.iter_mut().for_each(|v| *v /= self.config.temperature);
                softmax(row);
            });
        }
        set.soft = z;
        set.soft_k = k;
    }

    pub fn scores(&self, x: &[f32]) -> Vec<f32> {
        let mut xn = vec![0.0; self.dim];
        normalize_into(x, &mut xn);
        let xn = self.map(xn);
        let mut z = vec![0.0; self.head.classes().len()];
        self.head.logits(&xn, &mut z);
        z
    }

    pub fn write(&self, w: &mut Writer) {
        w.u64(self.rng.state());
        self.head.write(w);
        if let Some(s) = &self.standardizer {
            s.write(w);
        }
    }

    pub fn read(
        r: &mut Reader,
        dim: usize,
        config: &LearnerConfig,
    ) -> Result<HeadCore, LearnError> {
        let rng = Rng::new(r.u64("rng state")?);
        let mut head = Head::read(r, dim, config.head, config.scale)?;
        if config.standardize {
            head = head.with_blocks(&config.modality_dims);
        }
        let standardizer = match config.standardize {
            true => Some(Standardizer::read(r, dim, &config.modality_dims)?),
            false => None,
        };
        Ok(HeadCore {
            dim,
            config: config.clone(),
            head,
            rng,
            standardizer,
        })
    }
}

/// A strategy whose classes are the rows of a `HeadCore` head.
///
/// Required: `core`, `core_mut` (the strategy's core) and `learn_batch` (as in `Strategy`). The
/// others describe what the strategy keeps besides the head and default to nothing. The
/// blanket `Strategy` impl then counts the head plus `class_bytes` per class, scores with the
/// head, forgets the head row before `forget_extra`, and writes the core before `write_extra`.
pub trait HeadStrategy: Send + Sync {
    fn core(&self) -> &HeadCore;
    fn core_mut(&mut self) -> &mut HeadCore;
    /// Learns a checked batch whose new classes fit the budget; returns exemplars evicted.
    fn learn_batch(&mut self, batch: &Batch) -> usize;
    /// Bytes one class costs besides its head row, before any exemplar.
    fn class_bytes(&self) -> usize {
        0
    }
    /// What `fixed_bytes` pays for, for `BudgetTooSmall` messages.
    fn what(&self) -> &'static str {
        "the head"
    }
    /// Bytes of learned state besides the head (exemplars, statistics).
    fn extra_bytes(&self) -> usize {
        0
    }
    /// The byte budget the strategy keeps to.
    fn budget(&self) -> usize {
        self.core().config.budget_bytes
    }
    /// Drops what `class` holds besides its head row; `row` is the row the head just removed.
    fn forget_extra(&mut self, _class: ClassId, _row: Option<usize>) {}
    /// Writes the snapshot fields that follow the core's.
    fn write_extra(&self, _w: &mut Writer) {}
}

impl<H: HeadStrategy> Strategy for H {
    fn config(&self) -> &LearnerConfig {
        &self.core().config
    }
    fn dim(&self) -> usize {
        self.core().dim
    }
    fn budget(&self) -> usize {
        HeadStrategy::budget(self)
    }
    fn classes(&self) -> Vec<ClassId> {
        self.core().head.classes().to_vec()
    }
    fn fixed_bytes(&self, classes: usize) -> usize {
        Head::bytes(self.core().dim, classes)
            + classes * self.class_bytes()
            + self.core().standardizer_bytes()
    }
    fn fixed_what(&self) -> String {
        self.what().into()
    }
    fn memory_bytes(&self) -> usize {
        let standardizer = self.core().standardizer.as_ref();
        self.core().head.memory_bytes()
            + self.extra_bytes()
            + standardizer.map_or(0, Standardizer::memory_bytes)
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        self.core_mut().observe(batch);
        HeadStrategy::learn_batch(self, batch)
    }

    fn scores(&self, x: &[f32]) -> Vec<f32> {
        self.core().scores(x)
    }
    fn forget_class(&mut self, class: ClassId) {
        let row = self.core_mut().head.remove_class(class);
        self.forget_extra(class, row);
    }
    fn write_body(&self, w: &mut Writer) {
        self.core().write(w);
        self.write_extra(w);
    }
}
