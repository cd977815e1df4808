//! `ClassModel`: the learner and its class book, published together (`learn::Published`),
//! so a prediction always sees a learner and names that belong to each other, and never
//! waits for a learn call. The only way to change either is `apply(&Change)`: a refused
//! change leaves both as they were, and the same changes applied in the same order from the
//! same snapshot give the same state, byte for byte (the journal's replay relies on it).

use super::book::ClassBook;
use super::change::{Change, ChangeKind, Enrollment};
use super::name::ClassName;
use super::ClassError;
use crate::embedding::Embedding;
use crate::learn::{self, ClassId, Duplicate, LearnError, LearnReport, Learner, Published};
use crate::store::Sections;
use std::sync::Arc;

/// The snapshot section holding the learner state (`Learner::save`).
pub const LEARNER_SECTION: &str = crate::store::LEARNER_SECTION;
/// The snapshot section holding the class book (`ClassBook::encode`).
pub const CLASSES_SECTION: &str = "classes";

/// One published state: a learner and the book naming its classes.
pub struct Model {
    learner: Box<dyn Learner>,
    book: ClassBook,
}

/// A prediction with the class's name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NamedPrediction {
    pub class: ClassId,
    pub name: String,
    /// Softmax probability of `class` over the known classes, in [0, 1].
    pub confidence: f32,
    /// Every known class's score, highest first.
    pub scores: Vec<NamedScore>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NamedScore {
    pub class: ClassId,
    pub name: String,
    pub score: f32,
}

/// What an applied change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Enrolled {
        class: ClassId,
        name: ClassName,
        /// True when the enrollment made a new class.
        new_class: bool,
        report: LearnReport,
    },
    Forgot {
        class: ClassId,
        name: ClassName,
    },
    Renamed {
        class: ClassId,
        from: ClassName,
        to: ClassName,
    },
}

impl Duplicate for Model {
    fn duplicate(&self) -> Model {
        Model {
            learner: self.learner.clone_box(),
            book: self.book.clone(),
        }
    }
}

impl Model {
    pub fn learner(&self) -> &dyn Learner {
        self.learner.as_ref()
    }

    pub fn book(&self) -> &ClassBook {
        &self.book
    }

    /// The best class for `embedding`, by name. `NoClasses` before any enrollment.
    pub fn predict(&self, embedding: &Embedding) -> Result<NamedPrediction, LearnError> {
        let p = self.learner.predict(embedding)?;
        let mut scores: Vec<NamedScore> = p
            .scores
            .iter()
            .map(|&(class, score)| NamedScore {
                class,
                name: self.name_of(class),
                score,
            })
            .collect();
        scores.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(NamedPrediction {
            class: p.class,
            name: self.name_of(p.class),
            confidence: p.confidence,
            scores,
        })
    }

    /// The class's name; an id the book lacks (never, for a consistent model) reads "class N".
    pub fn name_of(&self, class: ClassId) -> String {
        self.book
            .by_id(class)
            .map_or_else(|| format!("class {class}"), |e| e.name.to_string())
    }

    /// The snapshot sections of this state: the learner and the class book.
    pub fn sections(&self) -> Sections {
        Sections::new()
            .with(LEARNER_SECTION, self.learner.save())
            .with(CLASSES_SECTION, self.book.encode())
    }

    /// Applies `change`. Only `ClassModel::apply` calls it, on a copy it publishes on
    /// success, so a refusal half-way leaves nothing behind.
    fn apply(&mut self, change: &Change) -> Result<Applied, ClassError> {
        match &change.kind {
            ChangeKind::Enroll(e) => self.enroll(e, change.at_ms),
            ChangeKind::Forget { name } => self.forget(name),
            ChangeKind::Rename { from, to } => {
                let class = self.book.rename(from.as_str(), to)?;
                Ok(Applied::Renamed {
                    class,
                    from: from.clone(),
                    to: to.clone(),
                })
            }
        }
    }

    fn enroll(&mut self, e: &Enrollment, at_ms: u64) -> Result<Applied, ClassError> {
        let learn_error = |source| ClassError::Learn {
            label: e.label.to_string(),
            source,
        };
        if e.embeddings.is_empty() {
            return Err(learn_error(LearnError::EmptyBatch));
        }
        let new_class = self.book.by_name(e.label.as_str()).is_none();
        // `apply` runs on a copy that a refusal discards, so the book may go first.
        let class = self
            .book
            .record(&e.label, e.embeddings.len() as u64, at_ms, &e.source)?;
        let labels = vec![class; e.embeddings.len()];
        let report = self
            .learner
            .learn(&e.embeddings, &labels)
            .map_err(learn_error)?;
        Ok(Applied::Enrolled {
            class,
            name: self.name_of_entry(class, &e.label),
            new_class,
            report,
        })
    }

    /// The book's spelling of `class` (a re-enrollment keeps the first spelling).
    fn name_of_entry(&self, class: ClassId, fallback: &ClassName) -> ClassName {
        self.book
            .by_id(class)
            .map_or_else(|| fallback.clone(), |x| x.name.clone())
    }

    fn forget(&mut self, name: &ClassName) -> Result<Applied, ClassError> {
        let Some(entry) = self.book.by_name(name.as_str()) else {
            return Err(ClassError::Unknown {
                name: name.to_string(),
                known: self.book.names(),
            });
        };
        let (class, name) = (entry.id, entry.name.clone());
        self.learner
            .forget(class)
            .map_err(|source| ClassError::Learn {
                label: name.to_string(),
                source,
            })?;
        self.book.remove(name.as_str())?;
        Ok(Applied::Forgot { class, name })
    }
}

/// The learner and class book, shared by predicting threads and one writer at a time.
pub struct ClassModel {
    published: Published<Model>,
}

impl ClassModel {
    /// A model that knows no class yet.
    pub fn new(learner: Box<dyn Learner>) -> ClassModel {
        ClassModel::from_model(Model {
            learner,
            book: ClassBook::new(),
        })
    }

    /// The model a snapshot's sections hold; refused when a section is missing or damaged,
    /// or when the book and the learner disagree on which classes exist.
    pub fn restore(sections: &Sections) -> Result<ClassModel, ClassError> {
        let section = |name: &'static str| {
            sections
                .get(name)
                .ok_or(ClassError::MissingSection { section: name })
        };
        let learner = learn::load(section(LEARNER_SECTION)?)
            .map_err(|source| ClassError::LearnerSection { source })?;
        let book = ClassBook::decode(section(CLASSES_SECTION)?)
            .map_err(|source| ClassError::BookSection { source })?;
        check_consistent(learner.as_ref(), &book)?;
        Ok(ClassModel::from_model(Model { learner, book }))
    }

    fn from_model(model: Model) -> ClassModel {
        ClassModel {
            published: Published::new(model),
        }
    }

    /// The state as last published; it never changes while held.
    pub fn current(&self) -> Arc<Model> {
        self.published.current()
    }

    /// Applies one change on a copy and publishes it; a refused change publishes nothing.
    pub fn apply(&self, change: &Change) -> Result<Applied, ClassError> {
        self.published.write(|model| model.apply(change))
    }

    /// As `apply`, then runs `then` (the daemon journals the change there) before the
    /// result is published: when `then` fails nothing is published, so what readers see
    /// is always what the journal holds.
    pub fn apply_then<T, E: From<ClassError>>(
        &self,
        change: &Change,
        then: impl FnOnce(&Applied) -> Result<T, E>,
    ) -> Result<(Applied, T), E> {
        self.published.write(|model| {
            let applied = model.apply(change)?;
            let out = then(&applied)?;
            Ok((applied, out))
        })
    }

    /// Runs `read` on the current state while no change can be applied (see
    /// `learn::Published::exclusive`).
    pub fn exclusive<R>(&self, read: impl FnOnce(&Model) -> R) -> R {
        self.published.exclusive(read)
    }

    /// The current state's snapshot sections.
    pub fn sections(&self) -> Sections {
        self.current().sections()
    }
}

/// The book names exactly the learner's classes.
fn check_consistent(learner: &dyn Learner, book: &ClassBook) -> Result<(), ClassError> {
    let mut learned = learner.classes();
    let mut named: Vec<ClassId> = book.entries().iter().map(|e| e.id).collect();
    learned.sort_unstable();
    named.sort_unstable();
    if learned != named {
        return Err(ClassError::Inconsistent { learned, named });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
