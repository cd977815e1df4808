//! Scoring a learner on test samples under a protocol's scenario: one
//! prediction per sample, tallied per class, then summed per task.
//!
//! Each test sample is predicted once per evaluation; task accuracies, the
//! accuracy on all seen classes and per-class accuracies are sums of the same
//! per-class tallies, so they always agree with each other.

use super::features::Labelled;
use super::metrics::Tally;
use super::protocol::Protocol;
use crate::learn::{ClassId, LearnError, Learner};

/// Per-class tallies, indexed by class id (`0..protocol.classes()`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassTallies(Vec<Tally>);

impl ClassTallies {
    /// Predicts every sample whose class belongs to a task `<= max_task`.
    pub fn measure(
        learner: &dyn Learner,
        protocol: &Protocol,
        samples: &[Labelled],
        max_task: usize,
    ) -> Result<ClassTallies, LearnError> {
        let mut tallies = vec![Tally::default(); protocol.classes()];
        for sample in samples {
            if protocol.task_of(sample.class).is_none_or(|task| task > max_task) {
                continue;
            }
            let prediction = learner.predict(&sample.embedding)?;
            if let Some(tally) = tallies.get_mut(sample.class as usize) {
                tally.add(protocol.is_correct(&prediction, sample.class));
            }
        }
        Ok(ClassTallies(tallies))
    }

    /// No sample measured yet.
    pub fn empty(protocol: &Protocol) -> ClassTallies {
        ClassTallies(vec![Tally::default(); protocol.classes()])
    }

    pub fn class(&self, class: ClassId) -> Tally {
        self.0.get(class as usize).copied().unwrap_or_default()
    }

    /// The sum over `classes`.
    pub fn over(&self, classes: &[ClassId]) -> Tally {
        classes.iter().fold(Tally::default(), |sum, &class| sum.merge(self.class(class)))
    }

    /// The sum over every class.
    pub fn total(&self) -> Tally {
        self.0.iter().fold(Tally::default(), |sum, &t| sum.merge(t))
    }

    /// Accuracy per task for tasks `0..=last`; 0 for a task with no sample
    /// (the runner refuses such tasks before it evaluates).
    pub fn task_row(&self, protocol: &Protocol, last: usize) -> Vec<f64> {
        protocol.tasks().iter().take(last + 1).map(|classes| self.over(classes).accuracy().unwrap_or(0.0)).collect()
    }

    /// The sample-weighted tally over the classes of tasks `0..=last`.
    pub fn seen(&self, protocol: &Protocol, last: usize) -> Tally {
        protocol.tasks().iter().take(last + 1).fold(Tally::default(), |sum, classes| sum.merge(self.over(classes)))
    }
}
