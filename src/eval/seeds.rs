//! Several runs of one strategy, one per class-order seed, and their summary:
//! the mean and population std of every metric and the mean accuracy matrix.
//!
//! Seeds are `1993, 1994, ...` (`default_seeds`): the first is the published
//! PyCIL order, each further seed a different order of the same classes. The
//! task index, not the class set, is what the mean matrix averages over, as
//! the continual-learning literature reports it.

use super::features::FeatureSet;
use super::metrics::{AccuracyMatrix, MeanStd};
use super::protocol::{Protocol, PYCIL_SEED};
use super::record::{MissingModality, SeedRun};
use super::runner::{run_seed, LearnerFactory, ProgressEvent, RunOptions};
use super::EvalError;

/// `count` seeds starting at PyCIL's 1993.
pub fn default_seeds(count: usize) -> Vec<u32> {
    (0..count)
        .map_while(|k| {
            u32::try_from(k)
                .ok()
                .and_then(|k| PYCIL_SEED.checked_add(k))
        })
        .collect()
}

/// One point of the accuracy-vs-classes curve: after learning `classes` classes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CurvePoint {
    pub classes: usize,
    pub accuracy: f64,
    pub accuracy_std: f64,
}

/// One strategy over one or more seeds; plain fields are means over seeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StrategyRun {
    pub name: String,
    pub final_accuracy: f64,
    pub final_accuracy_std: f64,
    pub final_accuracy_weighted: f64,
    pub final_accuracy_weighted_std: f64,
    pub avg_incremental_accuracy: f64,
    pub avg_incremental_accuracy_std: f64,
    pub forgetting: Option<f64>,
    pub forgetting_std: Option<f64>,
    pub bwt: Option<f64>,
    pub bwt_std: Option<f64>,
    pub fwt: Option<f64>,
    pub fwt_std: Option<f64>,
    pub fwt_note: Option<String>,
    /// Mean over seeds of the bytes after the last task, rounded.
    pub memory_bytes: u64,
    pub memory_bytes_std: f64,
    pub memory_bytes_peak: u64,
    pub budget_bytes: Option<u64>,
    pub learn_ms_per_task: f64,
    pub learn_ms_per_task_std: f64,
    pub learn_ms_per_call: f64,
    pub accuracy_matrix: AccuracyMatrix,
    /// Std per cell, `null` above the diagonal like the matrix.
    pub accuracy_matrix_std: Vec<Vec<Option<f64>>>,
    pub accuracy_curve: Vec<CurvePoint>,
    pub missing_modality: MissingModality,
    pub missing_modality_std: MissingModality,
    pub per_seed: Vec<SeedRun>,
}

/// Runs the protocol once per seed, each time on a fresh learner.
pub fn run_seeds(
    features: &FeatureSet,
    protocol: &Protocol,
    seeds: &[u32],
    factory: &LearnerFactory<'_>,
    options: RunOptions<'_>,
    progress: &mut dyn FnMut(ProgressEvent),
) -> Result<StrategyRun, EvalError> {
    let mut runs = Vec::with_capacity(seeds.len());
    for (run, &seed) in seeds.iter().enumerate() {
        let tasks = protocol.tasks().len();
        progress(ProgressEvent::SeedStarted {
            seed,
            run,
            runs: seeds.len(),
            tasks,
        });
        runs.push(run_seed(
            features,
            &protocol.with_seed(seed),
            factory,
            options,
            progress,
        )?);
    }
    StrategyRun::from_seeds(runs)
}

impl StrategyRun {
    /// Summarizes runs of one strategy with the same number of tasks.
    pub fn from_seeds(runs: Vec<SeedRun>) -> Result<StrategyRun, EvalError> {
        let first = runs.first().ok_or(EvalError::NoSeeds)?;
        check_same_shape(first, &runs)?;
        let matrices: Vec<&AccuracyMatrix> = runs.iter().map(|r| &r.accuracy_matrix).collect();
        let (accuracy_matrix, std) =
            AccuracyMatrix::mean_std(&matrices).ok_or(EvalError::NoSeeds)?;
        let all = |f: fn(&SeedRun) -> f64| stat(runs.iter().map(|r| Some(f(r))));
        let some = |f: fn(&SeedRun) -> Option<f64>| stat(runs.iter().map(f));
        let final_accuracy = all(|r| r.metrics.final_accuracy);
        let weighted = all(|r| r.metrics.final_accuracy_weighted);
        let incremental = all(|r| r.metrics.avg_incremental_accuracy);
        let (forgetting, bwt, fwt) = (
            some(|r| r.metrics.forgetting),
            some(|r| r.metrics.bwt),
            some(|r| r.metrics.fwt),
        );
        let memory = all(|r| r.metrics.memory_bytes as f64);
        let task_ms = all(|r| r.metrics.learn_ms_per_task);
        let (video, imu) = (
            some(|r| r.missing_modality.video),
            some(|r| r.missing_modality.imu),
        );
        Ok(StrategyRun {
            name: first.strategy.clone(),
            final_accuracy: mean(final_accuracy),
            final_accuracy_std: spread(final_accuracy),
            final_accuracy_weighted: mean(weighted),
            final_accuracy_weighted_std: spread(weighted),
            avg_incremental_accuracy: mean(incremental),
            avg_incremental_accuracy_std: spread(incremental),
            forgetting: forgetting.map(|s| s.mean),
            forgetting_std: forgetting.map(|s| s.std),
            bwt: bwt.map(|s| s.mean),
            bwt_std: bwt.map(|s| s.std),
            fwt: fwt.map(|s| s.mean),
            fwt_std: fwt.map(|s| s.std),
            fwt_note: runs.iter().find_map(|r| r.metrics.fwt_note.clone()),
            memory_bytes: mean(memory).round() as u64,
            memory_bytes_std: spread(memory),
            memory_bytes_peak: runs
                .iter()
                .map(|r| r.metrics.memory_bytes_peak as u64)
                .max()
                .unwrap_or(0),
            budget_bytes: first.budget_bytes,
            learn_ms_per_task: mean(task_ms),
            learn_ms_per_task_std: spread(task_ms),
            learn_ms_per_call: mean(all(|r| r.metrics.learn_ms_per_call)),
            accuracy_matrix,
            accuracy_matrix_std: square(&std),
            accuracy_curve: curve(&runs),
            missing_modality: MissingModality {
                video: video.map(|s| s.mean),
                imu: imu.map(|s| s.mean),
            },
            missing_modality_std: MissingModality {
                video: video.map(|s| s.std),
                imu: imu.map(|s| s.std),
            },
            per_seed: runs,
        })
    }

    /// The seeds of the runs, in run order.
    pub fn seeds(&self) -> Vec<u32> {
        self.per_seed.iter().map(|r| r.seed).collect()
    }
}

fn check_same_shape(first: &SeedRun, runs: &[SeedRun]) -> Result<(), EvalError> {
    for run in runs {
        if run.strategy != first.strategy {
            return Err(EvalError::MixedStrategies {
                first: first.strategy.clone(),
                other: run.strategy.clone(),
            });
        }
        if run.tasks.len() != first.tasks.len() {
            let (expected, got) = (first.tasks.len(), run.tasks.len());
            return Err(EvalError::TaskCountMismatch {
                seed: run.seed,
                expected,
                got,
            });
        }
    }
    Ok(())
}

/// Mean and std of values that are all defined; `None` if any is not.
fn stat(values: impl Iterator<Item = Option<f64>>) -> Option<MeanStd> {
    let values: Option<Vec<f64>> = values.collect();
    MeanStd::of(&values?)
}

fn mean(stat: Option<MeanStd>) -> f64 {
    stat.map_or(0.0, |s| s.mean)
}

fn spread(stat: Option<MeanStd>) -> f64 {
    stat.map_or(0.0, |s| s.std)
}

fn square(lower: &[Vec<f64>]) -> Vec<Vec<Option<f64>>> {
    lower
        .iter()
        .map(|row| (0..lower.len()).map(|j| row.get(j).copied()).collect())
        .collect()
}

/// Mean seen-class accuracy per step (step sizes are the same for every seed).
fn curve(runs: &[SeedRun]) -> Vec<CurvePoint> {
    let steps = runs.first().map_or(&[][..], |r| &r.tasks);
    steps
        .iter()
        .enumerate()
        .map(|(step, record)| {
            let s = stat(
                runs.iter()
                    .map(|r| r.tasks.get(step).map(|t| t.seen_accuracy)),
            );
            CurvePoint {
                classes: record.seen_classes,
                accuracy: mean(s),
                accuracy_std: spread(s),
            }
        })
        .collect()
}
