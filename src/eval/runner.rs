//! One run of the protocol over one learner: learn each task in order, evaluate
//! after each, then evaluate with each modality absent.
//!
//! The learner comes from a factory so every run starts from nothing; the clock
//! is injected so learn times can be faked in tests. Training samples of a task
//! are given in feature-set order, in calls of at most `batch` samples (one call
//! per task when `batch` is `None`).

use super::evaluate::ClassTallies;
use super::features::{FeatureSet, Labelled, TaskData};
use super::metrics::{self, AccuracyMatrix, Tally};
use super::protocol::{Protocol, Scenario};
use super::EvalError;
use crate::embedding::Embedding;
use crate::learn::{ClassId, LearnError, Learner};
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
    SeedStarted { seed: u32, run: usize, runs: usize, tasks: usize },
    TaskLearned { seed: u32, task: usize, tasks: usize, learn_ms: f64, memory_bytes: usize },
    TaskEvaluated { seed: u32, task: usize, tasks: usize, seen_accuracy: f64 },
    SeedFinished { seed: u32, final_accuracy: f64 },
}

/// What happened in one task of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskRecord {
    pub classes: Vec<ClassId>,
    /// Classes learned so far, this task's included (the x of the accuracy curve).
    pub seen_classes: usize,
    /// Sample-weighted accuracy on the test data of every class seen so far.
    pub seen_accuracy: f64,
    /// Accuracy on this task's test data just before learning it: measurable in
    /// domain-IL only (labels are shared across tasks), `None` otherwise.
    pub accuracy_before: Option<f64>,
    /// `memory_bytes()` after learning this task.
    pub memory_bytes: usize,
    /// Wall milliseconds of each `learn` call of this task.
    pub learn_ms: Vec<f64>,
    pub train_samples: usize,
    pub test_samples: usize,
}

/// Accuracy on one class after the last task.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassAccuracy {
    pub class: ClassId,
    pub accuracy: f64,
    pub samples: usize,
}

/// Accuracy on all test data after the last task with one modality absent;
/// `None` where the feature set has no such split.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct MissingModality {
    /// With the video absent.
    pub video: Option<f64>,
    /// With the IMU absent.
    pub imu: Option<f64>,
}

/// The metrics of one run (docs/metrics.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeedMetrics {
    /// Mean over tasks of A[T-1][j].
    pub final_accuracy: f64,
    /// Sample-weighted accuracy on all test data after the last task.
    pub final_accuracy_weighted: f64,
    pub avg_incremental_accuracy: f64,
    pub forgetting: Option<f64>,
    pub bwt: Option<f64>,
    pub fwt: Option<f64>,
    /// Why `fwt` is `None`, when it is.
    pub fwt_note: Option<String>,
    /// After the last task.
    pub memory_bytes: usize,
    pub memory_bytes_peak: usize,
    /// Mean over tasks of the summed learn time of the task.
    pub learn_ms_per_task: f64,
    /// Mean over `learn` calls.
    pub learn_ms_per_call: f64,
}

/// One strategy on one class order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeedRun {
    pub strategy: String,
    pub seed: u32,
    pub class_order: Vec<ClassId>,
    /// The learner's budget; `None` for an unbounded one (`usize::MAX`).
    pub budget_bytes: Option<u64>,
    #[serde(flatten)]
    pub metrics: SeedMetrics,
    pub accuracy_matrix: AccuracyMatrix,
    pub missing_modality: MissingModality,
    pub tasks: Vec<TaskRecord>,
    pub per_class_accuracy: Vec<ClassAccuracy>,
}

/// Runs `protocol` once on a fresh learner from `factory`.
pub fn run_seed(
    features: &FeatureSet,
    protocol: &Protocol,
    factory: &LearnerFactory<'_>,
    options: RunOptions<'_>,
    progress: &mut dyn FnMut(ProgressEvent),
) -> Result<SeedRun, EvalError> {
    let data = TaskData::new(features, protocol)?;
    let learner = factory().map_err(|source| EvalError::Factory { source })?;
    if learner.dim() != features.dim {
        let strategy = learner.name().to_string();
        return Err(EvalError::LearnerDim { strategy, expected: features.dim, got: learner.dim() });
    }
    let mut run = Run { learner, protocol, features, options, tasks: data.train.len() };
    let mut records = Vec::with_capacity(run.tasks);
    let mut rows = Vec::with_capacity(run.tasks);
    let mut tallies = ClassTallies::empty(protocol);
    let mut before = None;
    for (task, train) in data.train.iter().enumerate() {
        let mut record = run.learn_task(task, train, before, progress)?;
        tallies = run.evaluate(task)?;
        record.test_samples = data.test_counts.get(task).copied().unwrap_or(0);
        record.seen_accuracy = tallies.seen(protocol, task).accuracy().unwrap_or(0.0);
        let seen_accuracy = record.seen_accuracy;
        progress(ProgressEvent::TaskEvaluated { seed: protocol.seed(), task, tasks: run.tasks, seen_accuracy });
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
        let batch = self.options.batch.map_or(train.len().max(1), NonZeroUsize::get);
        let mut learn_ms = Vec::with_capacity(train.len().div_ceil(batch));
        for chunk in train.chunks(batch) {
            learn_ms.push(self.learn_chunk(task, chunk)?);
        }
        let memory_bytes = self.learner.memory_bytes();
        let task_ms = learn_ms.iter().sum();
        let seed = self.protocol.seed();
        progress(ProgressEvent::TaskLearned { seed, task, tasks: self.tasks, learn_ms: task_ms, memory_bytes });
        Ok(TaskRecord {
            classes: self.protocol.tasks().get(task).cloned().unwrap_or_default(),
            seen_classes: self.protocol.tasks().iter().take(task + 1).map(Vec::len).sum(),
            seen_accuracy: 0.0,
            accuracy_before,
            memory_bytes,
            learn_ms,
            train_samples: train.len(),
            test_samples: 0,
        })
    }

    /// One timed `learn` call; returns its wall milliseconds.
    fn learn_chunk(&mut self, task: usize, chunk: &[&Labelled]) -> Result<f64, EvalError> {
        let embeddings: Vec<Embedding> = chunk.iter().map(|s| s.embedding.clone()).collect();
        // Every class passed `TaskData::new`, so it has a label.
        let labels: Vec<ClassId> = chunk.iter().filter_map(|s| self.protocol.train_label(s.class)).collect();
        let start = self.options.clock.now();
        let outcome = self.learner.learn(&embeddings, &labels);
        let nanos = self.options.clock.now().since(start);
        outcome.map_err(|source| self.learner_error(task, "learn", source))?;
        Ok(nanos as f64 / 1e6)
    }

    /// Tallies after learning `task`; in domain-IL the next task's test data
    /// too, to measure its accuracy before it is learned (forward transfer).
    fn evaluate(&self, task: usize) -> Result<ClassTallies, EvalError> {
        let reach = if self.protocol.scenario() == Scenario::DomainIncremental { task + 1 } else { task };
        ClassTallies::measure(self.learner.as_ref(), self.protocol, &self.features.test, reach)
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
            let Some(samples) = samples else { return Ok(None) };
            let tallies = ClassTallies::measure(self.learner.as_ref(), self.protocol, samples, last)
                .map_err(|source| self.learner_error(last, "predict with a modality absent", source))?;
            Ok(tallies.total().accuracy())
        };
        Ok(MissingModality { video: measure(&self.features.test_video_absent)?, imu: measure(&self.features.test_imu_absent)? })
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
        progress(ProgressEvent::SeedFinished { seed, final_accuracy: metrics.final_accuracy });
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
        EvalError::Learner { strategy, seed: self.protocol.seed(), task, action, source }
    }
}

/// The run's metrics from its matrix and task records (docs/metrics.md).
fn seed_metrics(matrix: &AccuracyMatrix, records: &[TaskRecord], all: Tally, protocol: &Protocol) -> SeedMetrics {
    let seen: Vec<f64> = records.iter().map(|r| r.seen_accuracy).collect();
    let before: Vec<Option<f64>> = records.iter().map(|r| r.accuracy_before).collect();
    let chance: Vec<f64> = records.iter().map(|r| 1.0 / r.classes.len().max(1) as f64).collect();
    let fwt = metrics::forward_transfer(&before, &chance);
    let task_ms: Vec<f64> = records.iter().map(|r| r.learn_ms.iter().sum()).collect();
    let call_ms: Vec<f64> = records.iter().flat_map(|r| r.learn_ms.iter().copied()).collect();
    SeedMetrics {
        final_accuracy: metrics::final_average_accuracy(matrix),
        final_accuracy_weighted: all.accuracy().unwrap_or(0.0),
        avg_incremental_accuracy: metrics::average_incremental_accuracy(&seen).unwrap_or(0.0),
        forgetting: metrics::forgetting(matrix),
        bwt: metrics::backward_transfer(matrix),
        fwt,
        fwt_note: fwt.is_none().then(|| fwt_note(protocol.scenario(), records.len()).to_string()),
        memory_bytes: records.last().map_or(0, |r| r.memory_bytes),
        memory_bytes_peak: records.iter().map(|r| r.memory_bytes).max().unwrap_or(0),
        learn_ms_per_task: metrics::mean(&task_ms).unwrap_or(0.0),
        learn_ms_per_call: metrics::mean(&call_ms).unwrap_or(0.0),
    }
}

/// Why forward transfer is undefined for this run.
fn fwt_note(scenario: Scenario, tasks: usize) -> &'static str {
    match scenario {
        _ if tasks < 2 => "undefined with a single task",
        Scenario::ClassIncremental => {
            "undefined in class-IL: a task's classes cannot be predicted before they are learned (accuracy 0 by construction)"
        }
        Scenario::TaskIncremental => "undefined in task-IL: none of a task's classes is known before the task is learned",
        Scenario::DomainIncremental => "undefined: a task had no accuracy before it was learned",
    }
}

/// Accuracy per class after the last task, in class-order, for classes with test data.
fn per_class(protocol: &Protocol, tallies: &ClassTallies) -> Vec<ClassAccuracy> {
    protocol
        .order()
        .iter()
        .filter_map(|&class| {
            let tally = tallies.class(class);
            Some(ClassAccuracy { class, accuracy: tally.accuracy()?, samples: tally.total })
        })
        .collect()
}
