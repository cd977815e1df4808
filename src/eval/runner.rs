//! One run of the protocol over one learner: learn each task in order (under the
//! modality-dynamic scenario with the task's absent modality removed from its training
//! windows), evaluate after each, then evaluate with each modality absent.
//!
//! The learner comes from a factory so every run starts from nothing; the clock
//! is injected so learn times can be faked in tests. Training samples of a task
//! are given in feature-set order, in calls of at most `batch` samples (one call
//! per task when `batch` is `None`).

use super::evaluate::ClassTallies;
use super::features::{FeatureSet, Labelled, TaskData};
use super::metrics::AccuracyMatrix;
use super::protocol::{Protocol, Scenario};
use super::record::{per_class, seed_metrics, MissingModality, SeedRun, TaskRecord};
use super::EvalError;
use crate::embedding::Embedding;
use crate::learn::{modality, ClassId, LearnError, Learner};
use crate::time::Clock;
use std::num::NonZeroUsize;

/// Builds a fresh, empty learner (one per seed).
pub type LearnerFactory<'a> = dyn Fn() -> Result<Box<dyn Learner>, LearnError> + 'a;

/// What varies between a benchmark and a test: the clock and the learn batch.
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    /// Times each `learn` call.
    pub clock: &'a dyn Clock,
    /// Samples per `learn` call; `None`: the whole task in one call.
    pub batch: Option<NonZeroUsize>,
}

/// Progress of a benchmark, for a progress bar. `run_seeds` sends `SeedStarted`
/// before each run; every run sends `TaskLearned` then `TaskEvaluated` per task,
/// then `SeedFinished`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// Run `run` of `runs` (0-based) starts, on the class order of `seed`.
    SeedStarted {
        seed: u32,
        run: usize,
        runs: usize,
        tasks: usize,
    },
    TaskLearned {
        seed: u32,
        task: usize,
        tasks: usize,
        learn_ms: f64,
        memory_bytes: usize,
    },
    TaskEvaluated {
        seed: u32,
        task: usize,
        tasks: usize,
        seen_accuracy: f64,
    },
    SeedFinished {
        seed: u32,
        final_accuracy: f64,
    },
}

/// Runs `protocol` once on a fresh learner from `factory`.
pub fn run_seed(
    features: &FeatureSet,
    protocol: &Protocol,
    factory: &LearnerFactory<'_>,
    options: RunOptions<'_>,
    progress: &mut dyn FnMut(ProgressEvent),
) -> Result<SeedRun, EvalError> {
    run_seed_observed(
        features,
        protocol,
        factory,
        options,
        progress,
        &mut |_, _| {},
    )
}

/// `run_seed`, showing `after_task(task, learner)` the learner after each task is learned
/// and before it is evaluated (`mmcl bench cl --bundles-out` snapshots it there, so the
/// host's evaluation can be checked against this run's matrix).
pub fn run_seed_observed(
    features: &FeatureSet,
    protocol: &Protocol,
    factory: &LearnerFactory<'_>,
    options: RunOptions<'_>,
    progress: &mut dyn FnMut(ProgressEvent),
    after_task: &mut dyn FnMut(usize, &dyn Learner),
) -> Result<SeedRun, EvalError> {
    let data = TaskData::new(features, protocol)?;
    let learner = factory().map_err(|source| EvalError::Factory {
        source: Box::new(source),
    })?;
    if learner.dim() != features.dim {
        let strategy = learner.name().to_string();
        return Err(EvalError::LearnerDim {
            strategy,
            expected: features.dim,
            got: learner.dim(),
        });
    }
    let mut run = Run {
        learner,
        protocol,
        features,
        options,
        tasks: data.train.len(),
    };
    let mut records = Vec::with_capacity(run.tasks);
    let mut rows = Vec::with_capacity(run.tasks);
    let mut tallies = ClassTallies::empty(protocol);
    let mut before = None;
    for (task, train) in data.train.iter().enumerate() {
        let mut record = run.learn_task(task, train, before, progress)?;
        after_task(task, run.learner.as_ref());
        tallies = run.evaluate(task)?;
        record.test_samples = data.test_counts.get(task).copied().unwrap_or(0);
        record.seen_accuracy = tallies.seen(protocol, task).accuracy().unwrap_or(0.0);
        let seen_accuracy = record.seen_accuracy;
        progress(ProgressEvent::TaskEvaluated {
            seed: protocol.seed(),
            task,
            tasks: run.tasks,
            seen_accuracy,
        });
        before = run.accuracy_before(&tallies, task + 1);
        rows.push(tallies.task_row(protocol, task));
        records.push(record);
    }
    run.finish(AccuracyMatrix::new(rows)?, records, &tallies, progress)
}

/// A run in progress: the learner and what it is measured against.
struct Run<'a> {
    learner: Box<dyn Learner>,
    protocol: &'a Protocol,
    features: &'a FeatureSet,
    options: RunOptions<'a>,
    tasks: usize,
}

impl Run<'_> {
    /// Learns one task in batches, timing each call.
    fn learn_task(
        &mut self,
        task: usize,
        train: &[&Labelled],
        accuracy_before: Option<f64>,
        progress: &mut dyn FnMut(ProgressEvent),
    ) -> Result<TaskRecord, EvalError> {
        let batch = self
            .options
            .batch
            .map_or(train.len().max(1), NonZeroUsize::get);
        let mut learn_ms = Vec::with_capacity(train.len().div_ceil(batch));
        for chunk in train.chunks(batch) {
            learn_ms.push(self.learn_chunk(task, chunk)?);
        }
        let memory_bytes = self.learner.memory_bytes();
        let task_ms = learn_ms.iter().sum();
        let seed = self.protocol.seed();
        progress(ProgressEvent::TaskLearned {
            seed,
            task,
            tasks: self.tasks,
            learn_ms: task_ms,
            memory_bytes,
        });
        Ok(TaskRecord {
            classes: self.protocol.tasks().get(task).cloned().unwrap_or_default(),
            seen_classes: self
                .protocol
                .tasks()
                .iter()
                .take(task + 1)
                .map(Vec::len)
                .sum(),
            seen_accuracy: 0.0,
            accuracy_before,
            memory_bytes,
            learn_ms,
            train_samples: train.len(),
            test_samples: 0,
        })
    }

    /// The embeddings and labels a task's chunk is learned as: under the modality-dynamic
    /// scenario with the task's absent modality removed (`modality::without`; a window with
    /// nothing else is skipped).
    fn training_rows(&self, task: usize, chunk: &[&Labelled]) -> (Vec<Embedding>, Vec<ClassId>) {
        let dims = &self.features.modality_dims;
        let absent = self.protocol.train_absent(task);
        let mut rows = (
            Vec::with_capacity(chunk.len()),
            Vec::with_capacity(chunk.len()),
        );
        for sample in chunk {
            let embedding = match absent {
                None => Some(sample.embedding.clone()),
                Some(block) => modality::without(sample.embedding.as_slice(), dims, block)
                    .and_then(|v| Embedding::new(v, self.features.dim).ok()),
            };
            // Every class passed `TaskData::new`, so it has a label.
            if let (Some(e), Some(label)) = (embedding, self.protocol.train_label(sample.class)) {
                rows.0.push(e);
                rows.1.push(label);
            }
        }
        rows
    }

    /// One timed `learn` call; returns its wall milliseconds.
    fn learn_chunk(&mut self, task: usize, chunk: &[&Labelled]) -> Result<f64, EvalError> {
        let (embeddings, labels) = self.training_rows(task, chunk);
        if embeddings.is_empty() {
            return Ok(0.0);
        }
        let start = self.options.clock.now();
        let outcome = self.learner.learn(&embeddings, &labels);
        let nanos = self.options.clock.now().since(start);
        outcome.map_err(|source| self.learner_error(task, "learn", source))?;
        Ok(nanos as f64 / 1e6)
    }

    /// Tallies after learning `task`; in domain-IL the next task's test data
    /// too, to measure its accuracy before it is learned (forward transfer).
    fn evaluate(&self, task: usize) -> Result<ClassTallies, EvalError> {
        let reach = if self.protocol.scenario() == Scenario::DomainIncremental {
            task + 1
        } else {
            task
        };
        ClassTallies::measure(
            self.learner.as_ref(),
            self.protocol,
            &self.features.test,
            reach,
        )
        .map_err(|source| self.learner_error(task, "predict", source))
    }

    fn accuracy_before(&self, tallies: &ClassTallies, task: usize) -> Option<f64> {
        if self.protocol.scenario() != Scenario::DomainIncremental {
            return None;
        }
        tallies.over(self.protocol.tasks().get(task)?).accuracy()
    }

    /// Accuracy on each missing-modality split after the last task.
    fn missing_modality(&self) -> Result<MissingModality, EvalError> {
        let last = self.tasks.saturating_sub(1);
        let measure = |samples: &Option<Vec<Labelled>>| -> Result<Option<f64>, EvalError> {
            let Some(samples) = samples else {
                return Ok(None);
            };
            let tallies =
                ClassTallies::measure(self.learner.as_ref(), self.protocol, samples, last)
                    .map_err(|source| {
                        self.learner_error(last, "predict with a modality absent", source)
                    })?;
            Ok(tallies.total().accuracy())
        };
        Ok(MissingModality {
            video: measure(&self.features.test_video_absent)?,
            imu: measure(&self.features.test_imu_absent)?,
        })
    }

    fn finish(
        self,
        matrix: AccuracyMatrix,
        records: Vec<TaskRecord>,
        tallies: &ClassTallies,
        progress: &mut dyn FnMut(ProgressEvent),
    ) -> Result<SeedRun, EvalError> {
        let missing_modality = self.missing_modality()?;
        let metrics = seed_metrics(&matrix, &records, tallies.total(), self.protocol);
        let seed = self.protocol.seed();
        progress(ProgressEvent::SeedFinished {
            seed,
            final_accuracy: metrics.final_accuracy,
        });
        let budget = self.learner.budget_bytes();
        Ok(SeedRun {
            strategy: self.learner.name().to_string(),
            seed,
            class_order: self.protocol.order().to_vec(),
            budget_bytes: (budget != usize::MAX).then_some(budget as u64),
            metrics,
            accuracy_matrix: matrix,
            missing_modality,
            tasks: records,
            per_class_accuracy: per_class(self.protocol, tallies),
        })
    }

    fn learner_error(&self, task: usize, action: &'static str, source: LearnError) -> EvalError {
        let strategy = self.learner.name().to_string();
        EvalError::Learner {
            strategy,
            seed: self.protocol.seed(),
            task,
            action,
            source: Box::new(source),
        }
    }
}
