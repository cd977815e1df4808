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

/// Per-class tallies, indexed by class id (`0..protocol.id_bound()`).
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
        let mut tallies = vec![Tally::default(); protocol.id_bound()];
        for sample in samples {
            if protocol
                .task_of(sample.class)
                .is_none_or(|task| task > max_task)
            {
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
        ClassTallies(vec![Tally::default(); protocol.id_bound()])
    }

    pub fn class(&self, class: ClassId) -> Tally {
        self.0.get(class as usize).copied().unwrap_or_default()
    }

    /// The sum over `classes`.
    pub fn over(&self, classes: &[ClassId]) -> Tally {
        classes
            .iter()
            .fold(Tally::default(), |sum, &class| sum.merge(self.class(class)))
    }

    /// The sum over every class.
    pub fn total(&self) -> Tally {
        self.0.iter().fold(Tally::default(), |sum, &t| sum.merge(t))
    }

    /// Accuracy per task for tasks `0..=last`; 0 for a task with no sample
    /// (the runner refuses such tasks before it evaluates).
    pub fn task_row(&self, protocol: &Protocol, last: usize) -> Vec<f64> {
        protocol
            .tasks()
            .iter()
            .take(last + 1)
            .map(|classes| self.over(classes).accuracy().unwrap_or(0.0))
            .collect()
    }

    /// The sample-weighted tally over the classes of tasks `0..=last`.
    pub fn seen(&self, protocol: &Protocol, last: usize) -> Tally {
        protocol
            .tasks()
            .iter()
            .take(last + 1)
            .fold(Tally::default(), |sum, classes| {
                sum.merge(self.over(classes))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::Embedding;
    use crate::eval::protocol::ProtocolConfig;
    use crate::learn::{LearnReport, Prediction};

    /// Predicts the class written in the embedding's first value.
    #[derive(Clone)]
    struct Echo;

    impl Learner for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn dim(&self) -> usize {
            1
        }
        fn classes(&self) -> Vec<ClassId> {
            Vec::new()
        }
        fn learn(&mut self, _: &[Embedding], _: &[ClassId]) -> Result<LearnReport, LearnError> {
            Err(LearnError::EmptyBatch)
        }
        fn predict(&self, embedding: &Embedding) -> Result<crate::learn::Prediction, LearnError> {
            let class = embedding.as_slice().first().map_or(0, |&v| v as ClassId);
            Ok(Prediction {
                class,
                confidence: 1.0,
                scores: vec![(class, 1.0)],
            })
        }
        fn forget(&mut self, class: ClassId) -> Result<(), LearnError> {
            Err(LearnError::UnknownClass {
                class,
                known: Vec::new(),
            })
        }
        fn memory_bytes(&self) -> usize {
            0
        }
        fn budget_bytes(&self) -> usize {
            0
        }
        fn save(&self) -> Vec<u8> {
            Vec::new()
        }
        fn clone_box(&self) -> Box<dyn Learner> {
            Box::new(self.clone())
        }
    }

    proptest::proptest! {
        /// Summed per-class tallies equal counting the samples of each task directly.
        #[test]
        fn task_sums_equal_direct_counts(
            pairs in proptest::collection::vec((0u32..12, 0u32..12), 1..80),
            last in 0usize..4,
        ) {
            let protocol = Protocol::new(&ProtocolConfig { classes: 12, initial: 3, increment: 3, ..Default::default() }).unwrap();
            let samples: Vec<Labelled> = pairs
                .iter()
                .map(|&(class, said)| Labelled { embedding: Embedding::new(vec![said as f32], 1).unwrap(), class })
                .collect();
            let tallies = ClassTallies::measure(&Echo, &protocol, &samples, last).unwrap();
            let direct = |task: usize| -> Tally {
                let mut tally = Tally::default();
                for &(class, said) in pairs.iter().filter(|(c, _)| protocol.task_of(*c) == Some(task)) {
                    tally.add(class == said);
                }
                tally
            };
            let row = tallies.task_row(&protocol, last);
            proptest::prop_assert_eq!(row.len(), last + 1);
            let mut seen = Tally::default();
            for (task, &accuracy) in row.iter().enumerate() {
                proptest::prop_assert_eq!(Some(accuracy).filter(|_| direct(task).total > 0), direct(task).accuracy());
                seen = seen.merge(direct(task));
            }
            proptest::prop_assert_eq!(tallies.seen(&protocol, last), seen);
            proptest::prop_assert_eq!(tallies.total(), seen, "tasks after `last` are not measured");
        }
    }
}
