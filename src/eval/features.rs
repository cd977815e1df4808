//! The benchmark's input: labelled embeddings for training, testing, and
//! testing with one modality absent; and their grouping into a protocol's tasks.
//!
//! A `FeatureSet` is checked against a `Protocol` once per run by `TaskData::new`
//! (dimensions, class ids, no empty task), so the runner never meets a sample it
//! cannot place.

use super::protocol::Protocol;
use super::EvalError;
use crate::embedding::Embedding;
use crate::learn::{modality, ClassId};

/// One embedding with its dataset class.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub embedding: Embedding,
    pub class: ClassId,
}

/// Embeddings of a dataset's splits, encoded once and reused by every strategy
/// and seed.
#[derive(Debug, Clone, Default)]
pub struct FeatureSet {
    pub dim: usize,
    /// The embedding's modality blocks (the encoder contract's `video_dim`, `imu_dim`); empty
    /// when unknown. The modality-dynamic scenario derives its training windows from them.
    pub modality_dims: Vec<usize>,
    /// Learned task by task, in this order within each task.
    pub train: Vec<Labelled>,
    pub test: Vec<Labelled>,
    /// The test clips encoded with the video absent (zeros, `present = 0`).
    pub test_video_absent: Option<Vec<Labelled>>,
    /// The test clips encoded with the IMU absent.
    pub test_imu_absent: Option<Vec<Labelled>>,
}

impl FeatureSet {
    /// The class ids the training split holds, ascending.
    pub fn train_classes(&self) -> Vec<ClassId> {
        let mut ids: Vec<ClassId> = self.train.iter().map(|s| s.class).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The same set with only the samples of `classes` in every split.
    pub fn restricted(&self, classes: &[ClassId]) -> FeatureSet {
        let keep = |v: &Vec<Labelled>| -> Vec<Labelled> {
            v.iter()
                .filter(|s| classes.contains(&s.class))
                .cloned()
                .collect()
        };
        FeatureSet {
            dim: self.dim,
            modality_dims: self.modality_dims.clone(),
            train: keep(&self.train),
            test: keep(&self.test),
            test_video_absent: self.test_video_absent.as_ref().map(keep),
            test_imu_absent: self.test_imu_absent.as_ref().map(keep),
        }
    }

    /// The same training split tested on `held_out` (the val split, for choosing
    /// hyper-parameters), whose modality-absent variants are derived by the encoder's fusion
    /// rule (`modality::without`; exact for the default encoder, tests/learn_modality.rs).
    pub fn tested_on(&self, held_out: Vec<Labelled>) -> FeatureSet {
        let variant = |block: usize| -> Option<Vec<Labelled>> {
            (self.modality_dims.len() >= 2).then(|| {
                held_out
                    .iter()
                    .filter_map(|s| {
                        let v =
                            modality::without(s.embedding.as_slice(), &self.modality_dims, block)?;
                        let embedding = Embedding::new(v, self.dim).ok()?;
                        Some(Labelled {
                            embedding,
                            class: s.class,
                        })
                    })
                    .collect()
            })
        };
        FeatureSet {
            dim: self.dim,
            modality_dims: self.modality_dims.clone(),
            train: self.train.clone(),
            test_video_absent: variant(0),
            test_imu_absent: variant(1),
            test: held_out,
        }
    }
}

/// Split names used in errors and reports.
pub const TRAIN: &str = "train";
pub const TEST: &str = "test";
pub const TEST_VIDEO_ABSENT: &str = "test (video absent)";
pub const TEST_IMU_ABSENT: &str = "test (IMU absent)";

/// A feature set checked against a protocol, its training data grouped by task.
#[derive(Debug)]
pub struct TaskData<'a> {
    /// `train[t]`: the training samples of task t, in feature-set order.
    pub train: Vec<Vec<&'a Labelled>>,
    /// Test samples per task (counts, for empty-task checks and reports).
    pub test_counts: Vec<usize>,
}

impl<'a> TaskData<'a> {
    pub fn new(features: &'a FeatureSet, protocol: &Protocol) -> Result<TaskData<'a>, EvalError> {
        if protocol.train_absent(1).is_some() && features.modality_dims.len() < 2 {
            return Err(EvalError::NoModalityBlocks {
                scenario: protocol.scenario().name(),
                blocks: features.modality_dims.clone(),
            });
        }
        check_split(TRAIN, &features.train, features.dim, protocol)?;
        check_split(TEST, &features.test, features.dim, protocol)?;
        for (split, samples) in absent_splits(features) {
            check_split(split, samples, features.dim, protocol)?;
        }
        let tasks = protocol.tasks().len();
        let mut train = vec![Vec::new(); tasks];
        for sample in &features.train {
            if let Some(group) = protocol
                .task_of(sample.class)
                .and_then(|t| train.get_mut(t))
            {
                group.push(sample);
            }
        }
        let mut test_counts = vec![0; tasks];
        for sample in &features.test {
            if let Some(count) = protocol
                .task_of(sample.class)
                .and_then(|t| test_counts.get_mut(t))
            {
                *count += 1;
            }
        }
        check_no_empty_task(TRAIN, train.iter().map(Vec::len), protocol)?;
        check_no_empty_task(TEST, test_counts.iter().copied(), protocol)?;
        Ok(TaskData { train, test_counts })
    }
}

/// The present missing-modality test splits with their names.
pub fn absent_splits(
    features: &FeatureSet,
) -> impl Iterator<Item = (&'static str, &Vec<Labelled>)> {
    [
        (TEST_VIDEO_ABSENT, &features.test_video_absent),
        (TEST_IMU_ABSENT, &features.test_imu_absent),
    ]
    .into_iter()
    .filter_map(|(name, samples)| samples.as_ref().map(|s| (name, s)))
}

fn check_split(
    split: &'static str,
    samples: &[Labelled],
    dim: usize,
    protocol: &Protocol,
) -> Result<(), EvalError> {
    for (index, sample) in samples.iter().enumerate() {
        if sample.embedding.dim() != dim {
            return Err(EvalError::DimMismatch {
                split,
                index,
                expected: dim,
                got: sample.embedding.dim(),
            });
        }
        if protocol.task_of(sample.class).is_none() {
            return Err(EvalError::ClassOutOfRange {
                split,
                index,
                class: sample.class,
                classes: protocol.classes(),
            });
        }
    }
    Ok(())
}

fn check_no_empty_task(
    split: &'static str,
    counts: impl Iterator<Item = usize>,
    protocol: &Protocol,
) -> Result<(), EvalError> {
    for (task, count) in counts.enumerate() {
        if count == 0 {
            let classes = protocol.tasks().get(task).cloned().unwrap_or_default();
            return Err(EvalError::EmptyTask {
                split,
                task,
                classes,
            });
        }
    }
    Ok(())
}
