//! What one run records: per-task records, per-class accuracy, accuracy with a
//! modality absent, and the run's metrics computed from them.
//!
//! These are plain data, serialized as `per_seed` entries of `report.json`.

use super::evaluate::ClassTallies;
use super::metrics::{self, AccuracyMatrix, Tally};
use super::protocol::{Protocol, Scenario};
use crate::learn::ClassId;

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

/// The run's metrics from its matrix and task records (docs/metrics.md).
pub fn seed_metrics(
    matrix: &AccuracyMatrix,
    records: &[TaskRecord],
    all: Tally,
    protocol: &Protocol,
) -> SeedMetrics {
    let seen: Vec<f64> = records.iter().map(|r| r.seen_accuracy).collect();
    let before: Vec<Option<f64>> = records.iter().map(|r| r.accuracy_before).collect();
    let chance: Vec<f64> = records
        .iter()
        .map(|r| 1.0 / r.classes.len().max(1) as f64)
        .collect();
    let fwt = metrics::forward_transfer(&before, &chance);
    let task_ms: Vec<f64> = records.iter().map(|r| r.learn_ms.iter().sum()).collect();
    let call_ms: Vec<f64> = records
        .iter()
        .flat_map(|r| r.learn_ms.iter().copied())
        .collect();
    SeedMetrics {
        final_accuracy: metrics::final_average_accuracy(matrix),
        final_accuracy_weighted: all.accuracy().unwrap_or(0.0),
        avg_incremental_accuracy: metrics::average_incremental_accuracy(&seen).unwrap_or(0.0),
        forgetting: metrics::forgetting(matrix),
        bwt: metrics::backward_transfer(matrix),
        fwt,
        fwt_note: fwt
            .is_none()
            .then(|| fwt_note(protocol.scenario(), records.len()).to_string()),
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
        Scenario::ClassIncremental | Scenario::ModalityDynamic => {
            "undefined in class-IL: a task's classes cannot be predicted before they are learned (accuracy 0 by construction)"
        }
        Scenario::TaskIncremental => "undefined in task-IL: none of a task's classes is known before the task is learned",
        Scenario::DomainIncremental => "undefined: a task had no accuracy before it was learned",
    }
}

/// Accuracy per class after the last task, in class-order, for classes with test data.
pub fn per_class(protocol: &Protocol, tallies: &ClassTallies) -> Vec<ClassAccuracy> {
    protocol
        .order()
        .iter()
        .filter_map(|&class| {
            let tally = tallies.class(class);
            Some(ClassAccuracy {
                class,
                accuracy: tally.accuracy()?,
                samples: tally.total,
            })
        })
        .collect()
}
