//! Host-side evaluation: every stored snapshot of a device, in time order, on a held-out
//! test set whose samples carry class names.
//!
//! The device's class history defines the tasks: task t is the set of classes the t-th
//! snapshot that introduced any new class names for the first time. A snapshot that adds
//! no class (a periodic checkpoint, a re-enrollment) replaces the row of the task it
//! belongs to, so row t is the newest state of the device after task t, and the matrix
//! keeps `eval::AccuracyMatrix`'s shape (row t holds tasks 0..=t). A test sample counts for
//! a snapshot when its class belongs to a task seen so far, and is right when the learner's
//! predicted id is the id the snapshot's class book gives that name, exactly the class-IL
//! rule `mmcl bench cl` scores by, so the same learner states give the same matrix.

use crate::classes::ClassModel;
use crate::embedding::Embedding;
use crate::eval::metrics::{self, AccuracyMatrix, MetricsError, Tally};
use crate::uplink::Bundle;
use std::collections::BTreeMap;

/// One held-out test sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The class's name, as devices enroll it.
    pub class: String,
    pub embedding: Embedding,
}

/// One snapshot's row of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SnapshotScore {
    pub snapshot_seq: u64,
    pub created_at_ms: u64,
    /// The task this snapshot's classes reach (0-based).
    pub task: usize,
    pub classes: usize,
    /// Sample-weighted accuracy over every seen class's test samples.
    pub seen_accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassScore {
    pub name: String,
    pub accuracy: f64,
    pub samples: usize,
}

/// A device's evaluation (field names follow `mmcl bench cl --json` where they overlap).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceEval {
    pub device_id: String,
    /// The classes of each task, in the order they arrived.
    pub tasks: Vec<Vec<String>>,
    pub accuracy_matrix: Vec<Vec<f64>>,
    pub final_accuracy: f64,
    pub avg_incremental_accuracy: f64,
    pub forgetting: Option<f64>,
    pub bwt: Option<f64>,
    /// After the newest snapshot.
    pub per_class_accuracy: Vec<ClassScore>,
    pub snapshots: Vec<SnapshotScore>,
}

/// Why a device could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum HostEvalError {
    #[error("device {device:?} has no stored snapshot")]
    NoSnapshots { device: String },
    #[error("device {device:?} snapshot {seq}: the class model does not load")]
    Restore {
        device: String,
        seq: u64,
        #[source]
        source: Box<crate::classes::ClassError>,
    },
    #[error("device {device:?} snapshot {seq}: predicting a test sample")]
    Predict {
        device: String,
        seq: u64,
        #[source]
        source: Box<crate::learn::LearnError>,
    },
    #[error("device {device:?}: no snapshot names a class")]
    NoClasses { device: String },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Per-class tallies of one snapshot, by class name.
type Tallies = BTreeMap<String, Tally>;

/// Evaluates `bundles` (one device's, in time order) on `test`.
pub fn evaluate_device(
    device: &str,
    bundles: &[Bundle],
    test: &[Sample],
) -> Result<DeviceEval, HostEvalError> {
    if bundles.is_empty() {
        return Err(HostEvalError::NoSnapshots {
            device: device.to_string(),
        });
    }
    let mut tasks: Vec<Vec<String>> = Vec::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut seen: Vec<f64> = Vec::new();
    let mut snapshots = Vec::new();
    let mut last = Tallies::new();
    for bundle in bundles {
        let seq = bundle.snapshot_seq;
        let model =
            ClassModel::restore(&bundle.snapshot.sections).map_err(|e| HostEvalError::Restore {
                device: device.to_string(),
                seq,
                source: Box::new(e),
            })?;
        let current = model.current();
        let names: Vec<String> = current
            .book()
            .entries()
            .iter()
            .map(|e| e.name.to_string())
            .collect();
        let fresh: Vec<String> = names
            .iter()
            .filter(|n| !tasks.iter().flatten().any(|t| t == *n))
            .cloned()
            .collect();
        let opened = !fresh.is_empty();
        if opened {
            tasks.push(fresh);
        }
        let Some(task) = tasks.len().checked_sub(1) else {
            continue;
        };
        let tallies = score(&current, test, &tasks, device, seq)?;
        let row: Vec<f64> = tasks
            .iter()
            .map(|t| over(&tallies, t).accuracy().unwrap_or(0.0))
            .collect();
        let seen_accuracy = over(&tallies, &tasks.concat()).accuracy().unwrap_or(0.0);
        if opened {
            rows.push(row);
            seen.push(seen_accuracy);
        } else if let (Some(r), Some(s)) = (rows.last_mut(), seen.last_mut()) {
            *r = row;
            *s = seen_accuracy;
        }
        snapshots.push(SnapshotScore {
            snapshot_seq: seq,
            created_at_ms: bundle.created_at_ms,
            task,
            classes: names.len(),
            seen_accuracy,
        });
        last = tallies;
    }
    if rows.is_empty() {
        return Err(HostEvalError::NoClasses {
            device: device.to_string(),
        });
    }
    let matrix = AccuracyMatrix::new(rows)?;
    Ok(DeviceEval {
        device_id: device.to_string(),
        per_class_accuracy: per_class(&tasks, &last),
        tasks,
        final_accuracy: metrics::final_average_accuracy(&matrix),
        avg_incremental_accuracy: metrics::average_incremental_accuracy(&seen).unwrap_or(0.0),
        forgetting: metrics::forgetting(&matrix),
        bwt: metrics::backward_transfer(&matrix),
        accuracy_matrix: matrix.rows().to_vec(),
        snapshots,
    })
}

/// Predicts every test sample of a seen class; tallies by class name.
fn score(
    model: &crate::classes::Model,
    test: &[Sample],
    tasks: &[Vec<String>],
    device: &str,
    seq: u64,
) -> Result<Tallies, HostEvalError> {
    let mut tallies = Tallies::new();
    for sample in test
        .iter()
        .filter(|s| tasks.iter().flatten().any(|t| *t == s.class))
    {
        let p = model
            .learner()
            .predict(&sample.embedding)
            .map_err(|e| HostEvalError::Predict {
                device: device.to_string(),
                seq,
                source: Box::new(e),
            })?;
        // A class the snapshot forgot has no id: its samples are all wrong.
        let right = model
            .book()
            .by_name(&sample.class)
            .is_some_and(|e| e.id == p.class);
        tallies.entry(sample.class.clone()).or_default().add(right);
    }
    Ok(tallies)
}

fn over(tallies: &Tallies, classes: &[String]) -> Tally {
    classes
        .iter()
        .filter_map(|c| tallies.get(c))
        .fold(Tally::default(), |sum, t| sum.merge(*t))
}

fn per_class(tasks: &[Vec<String>], tallies: &Tallies) -> Vec<ClassScore> {
    tasks
        .iter()
        .flatten()
        .filter_map(|name| {
            let t = tallies.get(name)?;
            Some(ClassScore {
                name: name.clone(),
                accuracy: t.accuracy()?,
                samples: t.total,
            })
        })
        .collect()
}
