//! The strategies and what they share: the `Strategy` trait every one implements (the
//! `Learner` contract minus the checks, which the blanket impl below does once for all; not
//! to be confused with `learn::Strategy`, the enum naming which one, here `Which`), the
//! validated `Batch`, and (in `head_core`) `HeadCore`, the SGD head + RNG of the gradient
//! strategies, with `HeadStrategy`, which derives their `Strategy` accessors from it.
//!
//! Budget rule (every strategy): `fixed_bytes(C)` is what `C` classes cost before any exemplar
//! (head rows, prototypes, statistics, per-class buffer bookkeeping). A `learn` that would push
//! it past the budget is refused with `BudgetTooSmall` before anything changes; otherwise the
//! replay buffer gets `budget - fixed_bytes(C)` bytes and evicts down to them.

pub mod analytic;
pub mod er;
pub mod ewc;
pub mod finetune;
pub mod head_core;
pub mod icarl;
pub mod joint;
pub mod lwf;
pub mod ncm;
pub mod proto;
pub mod whitened;

pub use head_core::{HeadCore, HeadStrategy};

use super::config::LearnerConfig;
use super::config::Strategy as Which;
use super::head::softmax;
use super::linalg::normalize_into;
use super::snapshot::{self, Reader, Writer};
use super::{ClassId, LearnError, LearnReport, Learner, Prediction};
use crate::embedding::Embedding;

/// A checked batch: equal lengths, non-empty, every embedding of the learner's dimension.
pub struct Batch<'a> {
    pub embeddings: &'a [Embedding],
    pub labels: &'a [ClassId],
    /// Labels not yet known, in first-appearance order.
    pub new_classes: Vec<ClassId>,
}

impl Batch<'_> {
    /// The L2-normalized rows, `len x dim`.
    pub fn normalized(&self, dim: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.embeddings.len() * dim];
        for (e, o) in self.embeddings.iter().zip(out.chunks_exact_mut(dim)) {
            normalize_into(e.as_slice(), o);
        }
        out
    }

    /// Row indices per class, classes in first-appearance order.
    pub fn groups(&self) -> Vec<(ClassId, Vec<usize>)> {
        let mut out: Vec<(ClassId, Vec<usize>)> = Vec::new();
        for (i, l) in self.labels.iter().enumerate() {
            match out.iter_mut().find(|(c, _)| c == l) {
                Some((_, rows)) => rows.push(i),
                None => out.push((*l, vec![i])),
            }
        }
        out
    }
}

/// A strategy: the `Learner` contract on inputs already checked by the blanket impl.
pub trait Strategy: Send + Sync {
    fn config(&self) -> &LearnerConfig;
    fn dim(&self) -> usize;
    fn budget(&self) -> usize {
        self.config().budget_bytes
    }
    /// Known classes in first-learned order.
    fn classes(&self) -> Vec<ClassId>;
    /// Bytes `classes` classes cost before any exemplar (see the module docs).
    fn fixed_bytes(&self, classes: usize) -> usize;
    /// What `fixed_bytes` pays for, for `BudgetTooSmall` messages.
    fn fixed_what(&self) -> String;
    fn memory_bytes(&self) -> usize;
    /// Learns a checked batch whose new classes fit the budget; returns exemplars evicted.
    fn learn_batch(&mut self, batch: &Batch) -> usize;
    /// One logit per known class (`classes()` order) for a raw embedding of the right dimension.
    fn scores(&self, x: &[f32]) -> Vec<f32>;
    /// Removes a known class.
    fn forget_class(&mut self, class: ClassId);
    /// The strategy's own snapshot fields (after the common header).
    fn write_body(&self, w: &mut Writer);
}

/// Checks lengths and dimensions; refuses before anything changes.
fn check_batch<'a>(
    dim: usize,
    known: &[ClassId],
    embeddings: &'a [Embedding],
    labels: &'a [ClassId],
) -> Result<Batch<'a>, LearnError> {
    if embeddings.len() != labels.len() {
        return Err(LearnError::LengthMismatch {
            embeddings: embeddings.len(),
            labels: labels.len(),
        });
    }
    if embeddings.is_empty() {
        return Err(LearnError::EmptyBatch);
    }
    if let Some((index, e)) = embeddings.iter().enumerate().find(|(_, e)| e.dim() != dim) {
        return Err(LearnError::DimMismatch {
            index,
            expected: dim,
            got: e.dim(),
        });
    }
    let mut new_classes: Vec<ClassId> = Vec::new();
    for l in labels {
        if !known.contains(l) && !new_classes.contains(l) {
            new_classes.push(*l);
        }
    }
    Ok(Batch {
        embeddings,
        labels,
        new_classes,
    })
}

impl<S: Strategy + Clone + 'static> Learner for S {
    fn name(&self) -> &str {
        self.config().strategy.name()
    }

    fn dim(&self) -> usize {
        Strategy::dim(self)
    }

    fn classes(&self) -> Vec<ClassId> {
        Strategy::classes(self)
    }

    fn learn(
        &mut self,
        embeddings: &[Embedding],
        labels: &[ClassId],
    ) -> Result<LearnReport, LearnError> {
        let known = Strategy::classes(self);
        let batch = check_batch(Strategy::dim(self), &known, embeddings, labels)?;
        let needed = self.fixed_bytes(known.len() + batch.new_classes.len());
        if needed > self.budget() {
            return Err(LearnError::BudgetTooSmall {
                strategy: self.config().strategy.to_string(),
                budget: self.budget(),
                needed,
                what: format!(
                    "{} for {} classes",
                    self.fixed_what(),
                    known.len() + batch.new_classes.len()
                ),
            });
        }
        let evicted = self.learn_batch(&batch);
        Ok(LearnReport {
            new_classes: batch.new_classes,
            windows: embeddings.len(),
            evicted,
            memory_bytes: Strategy::memory_bytes(self),
        })
    }

    fn predict(&self, embedding: &Embedding) -> Result<Prediction, LearnError> {
        if embedding.dim() != Strategy::dim(self) {
            return Err(LearnError::DimMismatch {
                index: 0,
                expected: Strategy::dim(self),
                got: embedding.dim(),
            });
        }
        let classes = Strategy::classes(self);
        if classes.is_empty() {
            return Err(LearnError::NoClasses);
        }
        let scores = self.scores(embedding.as_slice());
        let mut probs = scores.clone();
        softmax(&mut probs);
        let best = (0..scores.len()).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
        Ok(Prediction {
            class: classes[best],
            confidence: probs[best],
            scores: classes.into_iter().zip(scores).collect(),
        })
    }

    fn forget(&mut self, class: ClassId) -> Result<(), LearnError> {
        let known = Strategy::classes(self);
        if !known.contains(&class) {
            return Err(LearnError::UnknownClass { class, known });
        }
        self.forget_class(class);
        Ok(())
    }

    fn memory_bytes(&self) -> usize {
        Strategy::memory_bytes(self)
    }

    fn budget_bytes(&self) -> usize {
        self.budget()
    }

    fn save(&self) -> Vec<u8> {
        let mut w = snapshot::start(self.config(), Strategy::dim(self));
        self.write_body(&mut w);
        snapshot::seal(w)
    }

    fn clone_box(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

/// Normalized mean of the rows `rows` of `x` (`dim` wide).
pub fn class_mean(x: &[f32], dim: usize, rows: &[usize]) -> Vec<f32> {
    let mut sum = vec![0.0f32; dim];
    rows.iter().for_each(|r| {
        sum.iter_mut()
            .zip(&x[r * dim..(r + 1) * dim])
            .for_each(|(s, v)| *s += v)
    });
    let mut out = vec![0.0; dim];
    normalize_into(&sum, &mut out);
    out
}

/// Normalizes a `rows x dim` buffer in place.
pub fn normalize_rows(x: &mut [f32], dim: usize) {
    let mut tmp = vec![0.0; dim];
    for row in x.chunks_exact_mut(dim) {
        normalize_into(row, &mut tmp);
        row.copy_from_slice(&tmp);
    }
}

/// Reads the strategy's fields of a learner state whose header gave `dim` and `config`.
pub fn read_body(
    dim: usize,
    config: &LearnerConfig,
    r: &mut Reader,
) -> Result<Box<dyn Learner>, LearnError> {
    Ok(match config.strategy {
        Which::Finetune => Box::new(finetune::Finetune::read(r, dim, config)?),
        Which::Joint | Which::Ncm if config.shrinkage > 0.0 => {
            Box::new(whitened::Whitened::read(r, dim, config)?)
        }
        Which::Joint => Box::new(joint::Joint::read(r, dim, config)?),
        Which::Ewc => Box::new(ewc::Ewc::read(r, dim, config)?),
        Which::Lwf => Box::new(lwf::Lwf::read(r, dim, config)?),
        Which::Er => Box::new(er::Er::read(r, dim, config)?),
        Which::Icarl => Box::new(icarl::Icarl::read(r, dim, config)?),
        Which::Proto => Box::new(proto::Proto::read(r, dim, config)?),
        Which::Ncm => Box::new(ncm::Ncm::read(r, dim, config)?),
        Which::Analytic => Box::new(analytic::Analytic::read(r, dim, config)?),
    })
}

/// Builds an empty learner (config already validated); refuses a budget that cannot hold
/// even one class.
pub fn build(dim: usize, config: &LearnerConfig) -> Result<Box<dyn Learner>, LearnError> {
    match config.strategy {
        Which::Finetune => checked(finetune::Finetune::new(dim, config)),
        Which::Joint | Which::Ncm if config.shrinkage > 0.0 => {
            checked(whitened::Whitened::new(dim, config))
        }
        Which::Joint => checked(joint::Joint::new(dim, config)),
        Which::Ewc => checked(ewc::Ewc::new(dim, config)),
        Which::Lwf => checked(lwf::Lwf::new(dim, config)),
        Which::Er => checked(er::Er::new(dim, config)),
        Which::Icarl => checked(icarl::Icarl::new(dim, config)),
        Which::Proto => checked(proto::Proto::new(dim, config)),
        Which::Ncm => checked(ncm::Ncm::new(dim, config)),
        Which::Analytic => checked(analytic::Analytic::new(dim, config)?),
    }
}

fn checked<S: Strategy + Clone + 'static>(s: S) -> Result<Box<dyn Learner>, LearnError> {
    let needed = s.fixed_bytes(1);
    if needed > s.budget() {
        return Err(LearnError::BudgetTooSmall {
            strategy: s.config().strategy.to_string(),
            budget: s.budget(),
            needed,
            what: format!("{} for 1 class", s.fixed_what()),
        });
    }
    Ok(Box::new(s))
}
