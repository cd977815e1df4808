//! `Published<T>`: a value that any number of threads read while one thread at a time
//! changes it, without a reader ever waiting for a change; `SharedLearner` is a learner
//! published this way (the class book and learner together are, in `classes::ClassModel`).
//!
//! Copy-on-write publication: a writer takes the writer lock, copies the published value
//! (`Duplicate`), changes the copy, and publishes it by swapping one `Arc` under a write lock
//! held for that swap alone; a reader takes the read lock only to clone that `Arc`. So a
//! reader waits at most for a pointer swap, and sees either the value before a change or
//! after it, never one in between. The cost is memory: while a writer works, the published
//! value and its copy both exist (twice the learner's bytes at the peak). `std::sync::RwLock`
//! and `Mutex` are enough (no new crate): neither lock is held across any work that scales
//! with the value.

use super::{ClassId, LearnError, LearnReport, Learner, Prediction};
use crate::embedding::Embedding;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// A value a writer can copy to change (`Clone` where the value is a trait object).
pub trait Duplicate {
    fn duplicate(&self) -> Self;
}

impl Duplicate for Box<dyn Learner> {
    fn duplicate(&self) -> Self {
        self.clone_box()
    }
}

/// A value shared between readers and serialized writers (see the module docs).
pub struct Published<T> {
    /// The published value. Read lock: cloning the `Arc`; write lock: swapping it.
    published: RwLock<Arc<T>>,
    /// Serializes writers, so that each starts from its predecessor's result.
    writer: Mutex<()>,
}

impl<T: Duplicate> Published<T> {
    pub fn new(value: T) -> Published<T> {
        Published {
            published: RwLock::new(Arc::new(value)),
            writer: Mutex::new(()),
        }
    }

    /// The value as last published. It never changes, however long it is held: a later
    /// write publishes a new one.
    pub fn current(&self) -> Arc<T> {
        // The locks guard no invariant a panic could break (a clone or a swap of an `Arc`),
        // so a poisoned lock is used as it is.
        Arc::clone(
            &self
                .published
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Runs `read` on the published value while no writer can run: for what must see the
    /// value and something writers change alongside it as one (a snapshot and the
    /// journal's last record). Readers still go on.
    pub fn exclusive<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        let _turn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        read(&self.current())
    }

    /// Runs `change` on a copy and publishes it when it succeeds; a refused change publishes
    /// nothing, so readers never see a half-made change.
    pub fn write<R, E>(&self, change: impl FnOnce(&mut T) -> Result<R, E>) -> Result<R, E> {
        let _turn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut copy = self.current().duplicate();
        let out = change(&mut copy)?;
        let old = {
            let mut published = self
                .published
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *published, Arc::new(copy))
        };
        // Dropped here, outside both locks (or by the last reader still holding it).
        drop(old);
        Ok(out)
    }
}

/// A learner shared between predicting threads and serialized writers (see the module docs).
pub struct SharedLearner {
    inner: Published<Box<dyn Learner>>,
}

impl SharedLearner {
    pub fn new(learner: Box<dyn Learner>) -> SharedLearner {
        SharedLearner {
            inner: Published::new(learner),
        }
    }

    /// The learner as last published (see `Published::current`).
    pub fn current(&self) -> Arc<Box<dyn Learner>> {
        self.inner.current()
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
        self.inner.write(|l| l.learn(embeddings, labels))
    }

    /// `Learner::forget` on a copy, published when it succeeds.
    pub fn forget(&self, class: ClassId) -> Result<(), LearnError> {
        self.inner.write(|l| l.forget(class))
    }

    /// The published learner's `save()`.
    pub fn save(&self) -> Vec<u8> {
        self.current().save()
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
