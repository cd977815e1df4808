//! `SharedLearner`: one learner that any number of threads predict with while one thread at a
//! time learns or forgets, without predictions ever waiting for a learn call.
//!
//! Copy-on-write publication: a writer takes the writer lock, copies the published learner
//! (`Learner::clone_box`), learns on the copy, and publishes it by swapping one `Arc` under a
//! write lock held for that swap alone; a prediction takes the read lock only to clone that
//! `Arc`. So a prediction waits at most for a pointer swap, and sees either the learner before
//! a call or after it, never one in between. The cost is memory: while a writer works, the
//! published learner and its copy both exist (twice the learner's bytes at the peak).
//! `std::sync::RwLock` and `Mutex` are enough (no new crate): neither lock is held across any
//! work that scales with the learner.

use super::{ClassId, LearnError, LearnReport, Learner, Prediction};
use crate::embedding::Embedding;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// A learner shared between predicting threads and serialized writers (see the module docs).
pub struct SharedLearner {
    /// The published learner. Read lock: cloning the `Arc`; write lock: swapping it.
    published: RwLock<Arc<dyn Learner>>,
    /// Serializes `learn` and `forget`, so that each starts from its predecessor's result.
    writer: Mutex<()>,
}

impl SharedLearner {
    pub fn new(learner: Box<dyn Learner>) -> SharedLearner {
        SharedLearner {
            published: RwLock::new(Arc::from(learner)),
            writer: Mutex::new(()),
        }
    }

    /// The learner as last published. It never changes, however long it is held: a later
    /// write publishes a new one.
    pub fn current(&self) -> Arc<dyn Learner> {
        // The locks guard no invariant a panic could break (a clone or a swap of an `Arc`),
        // so a poisoned lock is used as it is.
        Arc::clone(
            &self
                .published
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// `Learner::predict` on the published learner; never waits for a writer.
    pub fn predict(&self, embedding: &Embedding) -> Result<Prediction, LearnError> {
        self.current().predict(embedding)
    }

    /// `Learner::learn` on a copy, published when it succeeds; a refused call publishes
    /// nothing (the learner is unchanged, as the trait promises).
    pub fn learn(
        &self,
        embeddings: &[Embedding],
        labels: &[ClassId],
    ) -> Result<LearnReport, LearnError> {
        self.write(|l| l.learn(embeddings, labels))
    }

    /// `Learner::forget` on a copy, published when it succeeds.
    pub fn forget(&self, class: ClassId) -> Result<(), LearnError> {
        self.write(|l| l.forget(class))
    }

    /// The published learner's `save()`.
    pub fn save(&self) -> Vec<u8> {
        self.current().save()
    }

    fn write<T>(
        &self,
        change: impl FnOnce(&mut dyn Learner) -> Result<T, LearnError>,
    ) -> Result<T, LearnError> {
        let _turn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut copy = self.current().clone_box();
        let out = change(copy.as_mut())?;
        let old = {
            let mut published = self
                .published
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *published, Arc::from(copy))
        };
        // Dropped here, outside both locks (or by the last prediction still holding it).
        drop(old);
        Ok(out)
    }
}

impl std::fmt::Debug for SharedLearner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current();
        f.debug_struct("SharedLearner")
            .field("strategy", &current.name())
            .field("classes", &current.classes().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::{build, LearnerConfig, Strategy};

    fn windows(class: u32, n: usize) -> (Vec<Embedding>, Vec<ClassId>) {
        let e = (0..n)
            .map(|i| {
                let mut v = vec![0.05 * i as f32; 8];
                v[class as usize % 8] += 1.0;
                Embedding::new(v, 8).unwrap()
            })
            .collect();
        (e, vec![class; n])
    }

    #[test]
    fn a_held_learner_is_unchanged_by_later_writes_and_refusals_publish_nothing() {
        let shared =
            SharedLearner::new(build(8, &LearnerConfig::for_strategy(Strategy::Ncm, 8)).unwrap());
        let (x, y) = windows(0, 5);
        shared.learn(&x, &y).unwrap();
        let before = shared.current();
        let (x, y) = windows(1, 5);
        shared.learn(&x, &y).unwrap();
        assert_eq!(before.classes(), vec![0]);
        assert_eq!(shared.current().classes(), vec![0, 1]);
        let saved = shared.save();
        assert!(matches!(
            shared.forget(7),
            Err(LearnError::UnknownClass { class: 7, .. })
        ));
        assert_eq!(shared.save(), saved);
        shared.forget(0).unwrap();
        assert_eq!(shared.predict(&x[0]).unwrap().class, 1);
    }

    #[test]
    fn predictions_run_while_another_thread_learns() {
        let shared =
            SharedLearner::new(build(8, &LearnerConfig::for_strategy(Strategy::Proto, 8)).unwrap());
        let (x, y) = windows(0, 10);
        shared.learn(&x, &y).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for class in 1..6 {
                    let (x, y) = windows(class, 10);
                    shared.learn(&x, &y).unwrap();
                }
            });
            for _ in 0..200 {
                let p = shared.predict(&x[0]).unwrap();
                assert!(!p.scores.is_empty() && p.scores.len() <= 6);
            }
        });
        assert_eq!(shared.current().classes().len(), 6);
    }
}
