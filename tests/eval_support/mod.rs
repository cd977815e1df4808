//! Test doubles for the eval tests: honest small learners (nearest class mean,
//! and one that keeps only the classes of its last `learn` call), a clock that
//! steps on every reading, and synthetic feature sets.
#![allow(dead_code)]

use mmcl::embedding::Embedding;
use mmcl::eval::{FeatureSet, Labelled};
use mmcl::learn::{ClassId, LearnError, LearnReport, Learner, Prediction};
use mmcl::time::{Clock, Timestamp};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Nearest class mean; `forgetful` starts afresh whenever a `learn` call holds
/// only unknown classes, so with disjoint tasks it knows just the last task
/// whatever the batch size.
#[derive(Clone)]
pub struct NearestMean {
    dim: usize,
    forgetful: bool,
    /// Per class, in first-learned order: (class, sum of embeddings, count).
    classes: Vec<(ClassId, Vec<f64>, usize)>,
}

impl NearestMean {
    pub fn new(dim: usize) -> NearestMean {
        NearestMean {
            dim,
            forgetful: false,
            classes: Vec::new(),
        }
    }

    pub fn forgetful(dim: usize) -> NearestMean {
        NearestMean {
            dim,
            forgetful: true,
            classes: Vec::new(),
        }
    }

    fn check(&self, embeddings: &[Embedding], labels: &[ClassId]) -> Result<(), LearnError> {
        if embeddings.len() != labels.len() {
            return Err(LearnError::LengthMismatch {
                embeddings: embeddings.len(),
                labels: labels.len(),
            });
        }
        if embeddings.is_empty() {
            return Err(LearnError::EmptyBatch);
        }
        match embeddings.iter().position(|e| e.dim() != self.dim) {
            Some(index) => Err(LearnError::DimMismatch {
                index,
                expected: self.dim,
                got: embeddings[index].dim(),
            }),
            None => Ok(()),
        }
    }
}

impl Learner for NearestMean {
    fn name(&self) -> &str {
        if self.forgetful {
            "forgetful"
        } else {
            "ncm"
        }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn classes(&self) -> Vec<ClassId> {
        self.classes.iter().map(|(c, _, _)| *c).collect()
    }

    fn learn(
        &mut self,
        embeddings: &[Embedding],
        labels: &[ClassId],
    ) -> Result<LearnReport, LearnError> {
        self.check(embeddings, labels)?;
        if self.forgetful && !self.classes.iter().any(|(c, _, _)| labels.contains(c)) {
            self.classes.clear();
        }
        let mut new_classes = Vec::new();
        for (embedding, &label) in embeddings.iter().zip(labels) {
            if !self.classes.iter().any(|(c, _, _)| *c == label) {
                self.classes.push((label, vec![0.0; self.dim], 0));
                new_classes.push(label);
            }
            let entry = self
                .classes
                .iter_mut()
                .find(|(c, _, _)| *c == label)
                .expect("just inserted");
            entry
                .1
                .iter_mut()
                .zip(embedding.as_slice())
                .for_each(|(s, &v)| *s += f64::from(v));
            entry.2 += 1;
        }
        Ok(LearnReport {
            new_classes,
            windows: labels.len(),
            evicted: 0,
            memory_bytes: self.memory_bytes(),
        })
    }

    fn predict(&self, embedding: &Embedding) -> Result<Prediction, LearnError> {
        let scores: Vec<(ClassId, f32)> = self
            .classes
            .iter()
            .map(|(class, sum, count)| {
                let d: f64 = sum
                    .iter()
                    .zip(embedding.as_slice())
                    .map(|(s, &v)| (s / *count as f64 - f64::from(v)).powi(2))
                    .sum();
                (*class, -d as f32)
            })
            .collect();
        // First best wins a tie: ties resolve to the earliest learned class.
        let (class, best) = scores
            .iter()
            .fold(None, |best: Option<(ClassId, f32)>, &(c, s)| match best {
                Some((_, b)) if b >= s => best,
                _ => Some((c, s)),
            })
            .ok_or(LearnError::NoClasses)?;
        let total: f32 = scores.iter().map(|(_, s)| (s - best).exp()).sum();
        Ok(Prediction {
            class,
            confidence: 1.0 / total,
            scores,
        })
    }

    fn forget(&mut self, class: ClassId) -> Result<(), LearnError> {
        let known = self.classes();
        let before = self.classes.len();
        self.classes.retain(|(c, _, _)| *c != class);
        if self.classes.len() == before {
            return Err(LearnError::UnknownClass { class, known });
        }
        Ok(())
    }

    fn memory_bytes(&self) -> usize {
        self.classes.len() * (self.dim * 8 + 16)
    }

    fn budget_bytes(&self) -> usize {
        1 << 20
    }

    fn save(&self) -> Vec<u8> {
        Vec::new()
    }

    fn clone_box(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

/// A learner whose `learn` always fails once it has seen `fail_after` calls.
#[derive(Clone)]
pub struct Failing {
    pub inner: NearestMean,
    pub fail_after: usize,
    pub calls: usize,
}

impl Learner for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn classes(&self) -> Vec<ClassId> {
        self.inner.classes()
    }
    fn learn(
        &mut self,
        embeddings: &[Embedding],
        labels: &[ClassId],
    ) -> Result<LearnReport, LearnError> {
        self.calls += 1;
        if self.calls > self.fail_after {
            let (budget, needed) = (16, 32);
            return Err(LearnError::BudgetTooSmall {
                strategy: "failing".into(),
                budget,
                needed,
                what: "test".into(),
            });
        }
        self.inner.learn(embeddings, labels)
    }
    fn predict(&self, embedding: &Embedding) -> Result<Prediction, LearnError> {
        self.inner.predict(embedding)
    }
    fn forget(&mut self, class: ClassId) -> Result<(), LearnError> {
        self.inner.forget(class)
    }
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }
    fn budget_bytes(&self) -> usize {
        usize::MAX
    }
    fn save(&self) -> Vec<u8> {
        Vec::new()
    }

    fn clone_box(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

/// Every `now()` returns the previous reading plus `step_ns`.
pub struct StepClock {
    pub step_ns: u64,
    now: AtomicU64,
}

impl StepClock {
    pub fn new(step_ns: u64) -> StepClock {
        StepClock {
            step_ns,
            now: AtomicU64::new(0),
        }
    }
}

impl Clock for StepClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.fetch_add(self.step_ns, Ordering::SeqCst) + self.step_ns)
    }
}

pub fn labelled(values: Vec<f32>, class: ClassId) -> Labelled {
    let dim = values.len();
    Labelled {
        embedding: Embedding::new(values, dim).expect("finite test embedding"),
        class,
    }
}

/// `per_class` samples of each class in `0..classes`, class-major, from `embed`.
pub fn samples(
    classes: u32,
    per_class: usize,
    embed: &dyn Fn(ClassId, usize) -> Vec<f32>,
) -> Vec<Labelled> {
    (0..classes)
        .flat_map(|c| (0..per_class).map(move |k| (c, k)))
        .map(|(c, k)| labelled(embed(c, k), c))
        .collect()
}

/// One-hot class centres (dim = classes) with a small deterministic jitter.
pub fn one_hot(classes: u32) -> impl Fn(ClassId, usize) -> Vec<f32> {
    move |class, k| {
        (0..classes)
            .map(|d| if d == class { 1.0 } else { 0.0 } + 0.01 * ((k + d as usize) % 3) as f32)
            .collect()
    }
}

/// Separable features: `train_per_class` / `test_per_class` one-hot samples.
pub fn separable(classes: u32, train_per_class: usize, test_per_class: usize) -> FeatureSet {
    let embed = one_hot(classes);
    FeatureSet {
        dim: classes as usize,
        train: samples(classes, train_per_class, &embed),
        test: samples(classes, test_per_class, &embed),
        test_video_absent: None,
        test_imu_absent: None,
        ..Default::default()
    }
}

/// Counts events by kind, for progress checks.
pub fn count_events(events: &[mmcl::eval::ProgressEvent]) -> BTreeMap<&'static str, usize> {
    use mmcl::eval::ProgressEvent::*;
    let mut counts = BTreeMap::new();
    for event in events {
        let kind = match event {
            SeedStarted { .. } => "seed_started",
            TaskLearned { .. } => "task_learned",
            TaskEvaluated { .. } => "task_evaluated",
            SeedFinished { .. } => "seed_finished",
        };
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}
