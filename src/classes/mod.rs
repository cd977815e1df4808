//! Classes by name: the class book (name <-> id, windows learned, enrolled_at, origin),
//! the `Change` records a user makes (an `Enrollment`, a forget, a rename) that the
//! journal stores, and `ClassModel`, the learner and its book changed only by applying
//! those records. The daemon, the demo and the host all go through this module; none of
//! them keeps enrollment logic of its own.
//!
//! - `name`: `ClassName`, a checked user-facing label.
//! - `book`: `ClassBook`; ids are never reused.
//! - `change`: `Change`, `Enrollment` and their record format.
//! - `model`: `ClassModel`, `Model`, `NamedPrediction`, the snapshot sections.

mod book;
mod change;
mod model;
mod name;

pub use book::{ClassBook, ClassEntry};
pub use change::{Change, ChangeKind, Enrollment};
pub use model::{
    Applied, ClassModel, Model, NamedPrediction, NamedScore, CLASSES_SECTION, LEARNER_SECTION,
};
pub use name::{ClassName, NameError, MAX_NAME_CHARS};

use crate::envelope::EnvelopeError;
use crate::learn::{ClassId, LearnError};

/// Why a change or a restore was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ClassError {
    #[error("no class named {name:?} (known: {known})")]
    Unknown { name: String, known: String },
    #[error("the name {name:?} is already class {id}")]
    NameTaken { name: String, id: ClassId },
    #[error("every class id has been used")]
    IdsExhausted,
    #[error("class {label:?}")]
    Learn {
        label: String,
        #[source]
        source: LearnError,
    },
    #[error("snapshot has no {section:?} section")]
    MissingSection { section: &'static str },
    #[error("snapshot learner section")]
    LearnerSection {
        #[source]
        source: LearnError,
    },
    #[error("snapshot classes section")]
    BookSection {
        #[source]
        source: EnvelopeError,
    },
    #[error("snapshot: the learner knows classes {learned:?} but the class book names {named:?}")]
    Inconsistent {
        learned: Vec<ClassId>,
        named: Vec<ClassId>,
    },
}
