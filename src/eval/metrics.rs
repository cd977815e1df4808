//! Continual-learning metrics over an accuracy matrix; docs/metrics.md gives
//! every formula with its source paper.
//!
//! `AccuracyMatrix` is lower-triangular by construction (row i holds the
//! accuracies on tasks 0..=i after learning task i), so a metric never reads a
//! cell that was not measured. A metric that a run cannot define (forgetting
//! with a single task, FWT in class-IL) is `None`, serialized as `null`.

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Correct and total predictions for one group of test samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub correct: usize,
    pub total: usize,
}

impl Tally {
    pub fn add(&mut self, correct: bool) {
        self.correct += usize::from(correct);
        self.total += 1;
    }

    pub fn merge(self, other: Tally) -> Tally {
        Tally {
            correct: self.correct + other.correct,
            total: self.total + other.total,
        }
    }

    /// `correct / total`; `None` for an empty group.
    pub fn accuracy(self) -> Option<f64> {
        (self.total > 0).then(|| self.correct as f64 / self.total as f64)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("accuracy matrix: no rows")]
    Empty,
    #[error(
        "accuracy matrix row {row}: {got} cells, expected {expected} (row i holds tasks 0..=i)"
    )]
    RowLength {
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("accuracy matrix cell [{row}][{col}] = {value}: an accuracy must be in [0, 1]")]
    OutOfRange { row: usize, col: usize, value: f64 },
}

/// A[i][j]: accuracy on task j's test data after learning task i, for j <= i.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyMatrix {
    rows: Vec<Vec<f64>>,
}

impl AccuracyMatrix {
    pub fn new(rows: Vec<Vec<f64>>) -> Result<AccuracyMatrix, MetricsError> {
        if rows.is_empty() {
            return Err(MetricsError::Empty);
        }
        for (row, cells) in rows.iter().enumerate() {
            if cells.len() != row + 1 {
                return Err(MetricsError::RowLength {
                    row,
                    expected: row + 1,
                    got: cells.len(),
                });
            }
            if let Some((col, &value)) = cells
                .iter()
                .enumerate()
                .find(|(_, v)| !(0.0..=1.0).contains(*v))
            {
                return Err(MetricsError::OutOfRange { row, col, value });
            }
        }
        Ok(AccuracyMatrix { rows })
    }

    /// Number of tasks T (rows; never 0).
    pub fn tasks(&self) -> usize {
        self.rows.len()
    }

    pub fn rows(&self) -> &[Vec<f64>] {
        &self.rows
    }

    /// A[i][j], `None` above the diagonal or outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        self.rows.get(i)?.get(j).copied()
    }

    /// A[T-1][·]: the accuracies after the last task.
    pub fn last_row(&self) -> &[f64] {
        self.rows.last().map_or(&[], Vec::as_slice)
    }

    /// Element-wise mean and population std over several runs of the same shape.
    pub fn mean_std(matrices: &[&AccuracyMatrix]) -> Option<(AccuracyMatrix, Vec<Vec<f64>>)> {
        let first = matrices.first()?;
        if matrices.iter().any(|m| m.tasks() != first.tasks()) {
            return None;
        }
        let cell = |i: usize, j: usize| -> Vec<f64> {
            matrices.iter().filter_map(|m| m.get(i, j)).collect()
        };
        let stats: Vec<Vec<MeanStd>> = (0..first.tasks())
            .map(|i| (0..=i).filter_map(|j| MeanStd::of(&cell(i, j))).collect())
            .collect();
        let mean = stats
            .iter()
            .map(|row| row.iter().map(|s| s.mean).collect())
            .collect();
        let std = stats
            .iter()
            .map(|row| row.iter().map(|s| s.std).collect())
            .collect();
        Some((AccuracyMatrix { rows: mean }, std))
    }
}

/// Serialized square, T x T, with `null` above the diagonal (DESIGN.md's
/// `accuracy_matrix[i][j]`).
impl Serialize for AccuracyMatrix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.tasks()))?;
        for row in &self.rows {
            let square: Vec<Option<f64>> = (0..self.tasks()).map(|j| row.get(j).copied()).collect();
            seq.serialize_element(&square)?;
        }
        seq.end()
    }
}

/// Mean and population standard deviation (numpy's `std`, ddof = 0) over seeds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<MeanStd> {
        let mean = mean(values)?;
        let variance = mean_of(values.iter().map(|v| (v - mean) * (v - mean)))?;
        Some(MeanStd {
            mean,
            std: variance.sqrt(),
        })
    }
}

/// Arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    mean_of(values.iter().copied())
}

fn mean_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Final average accuracy: mean over tasks j of A[T-1][j].
pub fn final_average_accuracy(matrix: &AccuracyMatrix) -> f64 {
    mean(matrix.last_row()).unwrap_or(0.0)
}

/// Average incremental accuracy (iCaRL, PyCIL): mean over steps i of the
/// sample-weighted accuracy on all classes seen after step i.
pub fn average_incremental_accuracy(seen_accuracy: &[f64]) -> Option<f64> {
    mean(seen_accuracy)
}

/// Average forgetting (Chaudhry et al. 2018): mean over j < T-1 of
/// max_{i < T-1} A[i][j] - A[T-1][j]. `None` with a single task.
pub fn forgetting(matrix: &AccuracyMatrix) -> Option<f64> {
    let last = matrix.tasks() - 1;
    let drops = (0..last).filter_map(|j| {
        let best = (j..last)
            .filter_map(|i| matrix.get(i, j))
            .fold(f64::NEG_INFINITY, f64::max);
        Some(best - matrix.get(last, j)?)
    });
    mean_of(drops)
}

/// Backward transfer (Lopez-Paz & Ranzato 2017, GEM): mean over j < T-1 of
/// A[T-1][j] - A[j][j]. `None` with a single task.
pub fn backward_transfer(matrix: &AccuracyMatrix) -> Option<f64> {
    let last = matrix.tasks() - 1;
    mean_of((0..last).filter_map(|j| Some(matrix.get(last, j)? - matrix.get(j, j)?)))
}

/// Forward transfer (GEM): mean over tasks i >= 1 of the accuracy on task i
/// just before learning it minus the chance accuracy of that task.
/// `before[i]` is that accuracy (`None` where it cannot be measured) and
/// `chance[i]` the baseline; `None` unless every task i >= 1 has both.
pub fn forward_transfer(before: &[Option<f64>], chance: &[f64]) -> Option<f64> {
    if before.len() < 2 || before.len() != chance.len() {
        return None;
    }
    let gains: Option<Vec<f64>> = before
        .iter()
        .zip(chance)
        .skip(1)
        .map(|(b, c)| b.map(|b| b - c))
        .collect();
    mean(&gains?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Hand-computed three-task example (values chosen to be exact in binary).
    fn example() -> AccuracyMatrix {
        AccuracyMatrix::new(vec![vec![1.0], vec![0.5, 0.75], vec![0.25, 0.5, 1.0]]).unwrap()
    }

    #[test]
    fn final_average_and_incremental() {
        // (0.25 + 0.5 + 1.0) / 3
        assert!(close(final_average_accuracy(&example()), 1.75 / 3.0));
        assert_eq!(
            average_incremental_accuracy(&[1.0, 0.625, 0.5]),
            Some(2.125 / 3.0)
        );
        assert_eq!(average_incremental_accuracy(&[]), None);
    }

    #[test]
    fn forgetting_uses_best_earlier_accuracy() {
        // task 0: max(1.0, 0.5) - 0.25 = 0.75; task 1: 0.75 - 0.5 = 0.25; mean 0.5
        assert_eq!(forgetting(&example()), Some(0.5));
        // BWT: (0.25 - 1.0 + 0.5 - 0.75) / 2 = -0.5
        assert_eq!(backward_transfer(&example()), Some(-0.5));
    }

    #[test]
    fn forgetting_differs_from_bwt_when_accuracy_rose() {
        // task 0 peaks after task 1 (0.75) and ends where it started (0.5):
        // forgetting (0.25 + 0) / 2, BWT (0 + 0) / 2.
        let m = AccuracyMatrix::new(vec![vec![0.5], vec![0.75, 0.5], vec![0.5, 0.5, 1.0]]).unwrap();
        assert_eq!(forgetting(&m), Some(0.125));
        assert_eq!(backward_transfer(&m), Some(0.0));
        // Learning task 1 helped task 0: forgetting is negative, as defined.
        let m = AccuracyMatrix::new(vec![vec![0.5], vec![1.0, 1.0]]).unwrap();
        assert_eq!(forgetting(&m), Some(-0.5));
        assert_eq!(backward_transfer(&m), Some(0.5));
    }

    #[test]
    fn single_task_has_no_forgetting_or_transfer() {
        let m = AccuracyMatrix::new(vec![vec![0.9]]).unwrap();
        assert_eq!(forgetting(&m), None);
        assert_eq!(backward_transfer(&m), None);
        assert_eq!(forward_transfer(&[None], &[0.5]), None);
    }

    #[test]
    fn forward_transfer_against_chance() {
        assert_eq!(
            forward_transfer(&[None, Some(0.75), Some(0.5)], &[0.5, 0.5, 0.25]),
            Some(0.25)
        );
        assert_eq!(
            forward_transfer(&[None, Some(0.75), None], &[0.5, 0.5, 0.25]),
            None
        );
    }

    #[test]
    fn matrix_shape_and_range_are_checked() {
        assert_eq!(AccuracyMatrix::new(vec![]), Err(MetricsError::Empty));
        let err = AccuracyMatrix::new(vec![vec![1.0], vec![1.0]]).unwrap_err();
        assert_eq!(
            err,
            MetricsError::RowLength {
                row: 1,
                expected: 2,
                got: 1
            }
        );
        let err = AccuracyMatrix::new(vec![vec![1.5]]).unwrap_err();
        assert_eq!(
            err,
            MetricsError::OutOfRange {
                row: 0,
                col: 0,
                value: 1.5
            }
        );
        assert!(AccuracyMatrix::new(vec![vec![f64::NAN]]).is_err());
    }

    #[test]
    fn serializes_square_with_nulls_above_diagonal() {
        let json = serde_json::to_string(&example()).unwrap();
        assert_eq!(json, "[[1.0,null,null],[0.5,0.75,null],[0.25,0.5,1.0]]");
    }

    #[test]
    fn mean_std_over_runs() {
        let a = AccuracyMatrix::new(vec![vec![1.0], vec![0.5, 1.0]]).unwrap();
        let b = AccuracyMatrix::new(vec![vec![0.5], vec![0.5, 0.0]]).unwrap();
        let (mean, std) = AccuracyMatrix::mean_std(&[&a, &b]).unwrap();
        assert_eq!(mean.rows(), [vec![0.75], vec![0.5, 0.5]]);
        assert_eq!(std, [vec![0.25], vec![0.0, 0.5]]);
        let one = AccuracyMatrix::new(vec![vec![1.0]]).unwrap();
        assert_eq!(AccuracyMatrix::mean_std(&[&a, &one]), None);
        assert_eq!(
            MeanStd::of(&[1.0, 3.0]),
            Some(MeanStd {
                mean: 2.0,
                std: 1.0
            })
        );
    }

    #[test]
    fn tally_accuracy() {
        let mut t = Tally::default();
        assert_eq!(t.accuracy(), None);
        t.add(true);
        t.add(false);
        assert_eq!(t.accuracy(), Some(0.5));
        assert_eq!(
            t.merge(Tally {
                correct: 2,
                total: 2
            })
            .accuracy(),
            Some(0.75)
        );
    }

    fn lower_triangular() -> impl proptest::strategy::Strategy<Value = AccuracyMatrix> {
        use proptest::prelude::*;
        (1usize..9)
            .prop_flat_map(|t| {
                proptest::collection::vec(0u8..=16, t * (t + 1) / 2)
                    .prop_map(move |cells| (t, cells))
            })
            .prop_map(|(t, cells)| {
                let mut cells = cells.into_iter().map(|c| f64::from(c) / 16.0);
                AccuracyMatrix::new(
                    (0..t)
                        .map(|i| cells.by_ref().take(i + 1).collect())
                        .collect(),
                )
                .unwrap()
            })
    }

    proptest::proptest! {
        #[test]
        fn forgetting_bounds_negative_bwt(m in lower_triangular()) {
            match (forgetting(&m), backward_transfer(&m)) {
                (Some(f), Some(b)) => {
                    proptest::prop_assert!(f >= -b - 1e-12, "forgetting {} < -BWT {}", f, -b);
                    proptest::prop_assert!((-1.0..=1.0).contains(&f) && (-1.0..=1.0).contains(&b));
                }
                (None, None) => proptest::prop_assert_eq!(m.tasks(), 1),
                other => proptest::prop_assert!(false, "defined differently: {:?}", other),
            }
            let last = final_average_accuracy(&m);
            proptest::prop_assert!((0.0..=1.0).contains(&last));
        }
    }
}
