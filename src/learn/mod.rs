//! The continual learner: a head plus bounded memory, behind one trait used
//! identically by the daemon and the benchmark.
//!
//! (skeleton: the `Learner` contract is pinned here; strategies are filled by the learner issue)

use crate::embedding::Embedding;

/// A class (= activity) id: the dataset label (folder number - 1) or a user-enrolled id.
pub type ClassId = u32;

/// The learner's answer for one embedding.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// The best-scoring known class.
    pub class: ClassId,
    /// Softmax probability of `class` over the known classes, in [0, 1].
    pub confidence: f32,
    /// One score per known class (higher is better), in `Learner::classes` order.
    pub scores: Vec<(ClassId, f32)>,
}

/// What one `learn` call did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LearnReport {
    /// Classes seen for the first time in this call.
    pub new_classes: Vec<ClassId>,
    /// Embeddings consumed.
    pub windows: usize,
    /// Exemplars evicted from the replay buffer to stay inside the budget.
    pub evicted: usize,
    /// `memory_bytes()` after the call.
    pub memory_bytes: usize,
}

/// Why the learner refused a call. A refused call leaves the learner unchanged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LearnError {
    #[error("embedding {index}: dimension {got}, the learner expects {expected}")]
    DimMismatch {
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("embedding {index}: value {position} is not finite")]
    NonFinite { index: usize, position: usize },
    #[error("learn: {embeddings} embeddings but {labels} labels")]
    LengthMismatch { embeddings: usize, labels: usize },
    #[error("learn: empty batch")]
    EmptyBatch,
    #[error("forget: unknown class {class} (known: {known:?})")]
    UnknownClass { class: ClassId, known: Vec<ClassId> },
    #[error("predict: the learner knows no class yet")]
    NoClasses,
    #[error("{strategy}: budget of {budget} bytes is too small: {needed} bytes needed ({what})")]
    BudgetTooSmall {
        strategy: String,
        budget: usize,
        needed: usize,
        what: String,
    },
    #[error("unknown strategy {name:?} (known: {known})")]
    UnknownStrategy { name: String, known: String },
    #[error("snapshot of strategy {strategy}: {message}")]
    Snapshot { strategy: String, message: String },
    #[error("bad learner parameter {name} = {value}: {why}")]
    BadParameter {
        name: String,
        value: String,
        why: String,
    },
}

/// The learner contract: a head plus bounded memory.
///
/// Required: every method. Errors are returned before any state changes, so a
/// refused call never loses what was learned. `memory_bytes` is exact (the bytes
/// of head, exemplars, prototypes and any statistics the strategy keeps) and never
/// exceeds `budget_bytes` after any call returns (strategies that cannot bound
/// their state, i.e. `joint`, report `usize::MAX` as their budget).
pub trait Learner: Send {
    /// The strategy's name (`finetune`, `proto`, `analytic`, ...).
    fn name(&self) -> &str;
    /// The embedding dimension this learner accepts.
    fn dim(&self) -> usize;
    /// The known classes, in the order they were first learned.
    fn classes(&self) -> Vec<ClassId>;
    /// Learns a batch of labelled embeddings; unknown labels become new classes.
    /// `embeddings.len() == labels.len()`, non-empty, all of dimension `dim()`.
    fn learn(
        &mut self,
        embeddings: &[Embedding],
        labels: &[ClassId],
    ) -> Result<LearnReport, LearnError>;
    /// Scores every known class for one embedding. `NoClasses` before any learn.
    fn predict(&self, embedding: &Embedding) -> Result<Prediction, LearnError>;
    /// Removes a class: its head weights, exemplars and prototype.
    fn forget(&mut self, class: ClassId) -> Result<(), LearnError>;
    /// Exact bytes of learner state (see the trait docs).
    fn memory_bytes(&self) -> usize;
    /// The byte budget the learner keeps to.
    fn budget_bytes(&self) -> usize;
    /// Serializes the whole state for a snapshot (format owned by the strategy,
    /// versioned; `learn::load` reads it back).
    fn save(&self) -> Vec<u8>;
}
