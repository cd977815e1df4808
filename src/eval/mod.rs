//! The continual-learning benchmark: the protocol (class order, tasks,
//! scenarios), the runner that drives any `Learner` through it, the metrics,
//! and the reports (`report.json`, `report.md`, SVG plots).
//!
//! - `numpy_order`: numpy's legacy permutation, so seed 1993 gives PyCIL's order.
//! - `protocol`: `ProtocolConfig` checked into `Protocol`; scenarios.
//! - `features`: the embeddings a benchmark runs on, grouped by task.
//! - `evaluate`: per-class tallies of predictions under a scenario.
//! - `metrics`: accuracy matrix, forgetting, BWT, FWT (docs/metrics.md).
//! - `runner` / `record` / `seeds`: one run per seed, what it records, and the
//!   summary over seeds.
//! - `sweep`: the hyper-parameter settings `bench cl --sweep-val` scores on val.
//! - `report` / `plot`: the files a benchmark leaves behind.

pub mod evaluate;
pub mod features;
pub mod metrics;
pub mod numpy_order;
pub mod plot;
pub mod protocol;
pub mod record;
pub mod report;
pub mod runner;
pub mod seeds;
pub mod sweep;

pub use features::{FeatureSet, Labelled};
pub use metrics::{AccuracyMatrix, MetricsError};
pub use protocol::{Protocol, ProtocolConfig, ProtocolError, Scenario, PYCIL_SEED};
pub use record::{ClassAccuracy, MissingModality, SeedMetrics, SeedRun, TaskRecord};
pub use report::{write_report, BenchReport, EncoderRecord};
pub use runner::{run_seed, run_seed_observed, LearnerFactory, ProgressEvent, RunOptions};
pub use seeds::{default_seeds, run_seeds, StrategyRun};

use crate::learn::{ClassId, LearnError};
use std::path::PathBuf;

/// Why a benchmark could not run or could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("{split} sample {index}: embedding dimension {got}, the feature set's is {expected}")]
    DimMismatch {
        split: &'static str,
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error(
        "{split} sample {index}: class {class} is not one of the protocol's {classes} classes"
    )]
    ClassOutOfRange {
        split: &'static str,
        index: usize,
        class: ClassId,
        classes: usize,
    },
    #[error("scenario {scenario} needs the embedding's modality blocks (two or more), the feature set has {blocks:?}")]
    NoModalityBlocks {
        scenario: &'static str,
        blocks: Vec<usize>,
    },
    #[error("task {task} (classes {classes:?}) has no {split} samples")]
    EmptyTask {
        split: &'static str,
        task: usize,
        classes: Vec<ClassId>,
    },
    #[error("building the learner: {source}")]
    Factory { source: Box<LearnError> },
    #[error(
        "strategy {strategy} takes embeddings of dimension {got}, the feature set's is {expected}"
    )]
    LearnerDim {
        strategy: String,
        expected: usize,
        got: usize,
    },
    #[error("strategy {strategy}, seed {seed}, task {task}: {action}: {source}")]
    Learner {
        strategy: String,
        seed: u32,
        task: usize,
        action: &'static str,
        source: Box<LearnError>,
    },
    #[error("no seed to run or summarize")]
    NoSeeds,
    #[error("runs of strategies {first:?} and {other:?} cannot be summarized together")]
    MixedStrategies { first: String, other: String },
    #[error("seed {seed}: {got} tasks, the first run had {expected}")]
    TaskCountMismatch {
        seed: u32,
        expected: usize,
        got: usize,
    },
    #[error("report: strategies {first:?} and {second:?} both map to the file name {file:?}")]
    FileNameClash {
        first: String,
        second: String,
        file: String,
    },
    #[error("{action} {path}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("serializing report.json: {0}")]
    Json(#[from] serde_json::Error),
}

impl EvalError {
    /// Whether the user can fix this by changing the inputs (protocol numbers,
    /// feature set, strategy parameters, report names): the CLI's exit code 2.
    /// Learner failures mid-run, I/O and serialization are runtime failures.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            EvalError::Protocol(_)
                | EvalError::DimMismatch { .. }
                | EvalError::ClassOutOfRange { .. }
                | EvalError::EmptyTask { .. }
                | EvalError::NoModalityBlocks { .. }
                | EvalError::Factory { .. }
                | EvalError::LearnerDim { .. }
                | EvalError::NoSeeds
                | EvalError::FileNameClash { .. }
        )
    }
}
