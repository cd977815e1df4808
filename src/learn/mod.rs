//! The continual learner: a head plus bounded memory, behind one trait used
//! identically by the daemon and the benchmark.
//!
//! `build(dim, &config)` makes an empty learner of one of `Strategy::ALL`; `load(bytes)` reads
//! back what `Learner::save` wrote (every learner state version this build knows);
//! `SharedLearner` lets threads predict while one of them learns. Every strategy works on the
//! same frozen embeddings (normalized to unit length inside the learner) and keeps
//! `memory_bytes() <= budget_bytes()` after every call.
//!
//! `memory_bytes` is exact in this sense: the sum, over every buffer of learned state the
//! strategy keeps (head rows, class ids, exemplar codes, prototypes, Fisher/anchor, ridge
//! statistics, projection bits), of `len x element size`. Fixed-size fields (the config, the
//! RNG state, dimensions) and allocator slack are not counted.
//!
//! Budget split at the benchmark default (160 f32 exemplars of D = 2304: 1 474 560 B), with
//! 32 classes: finetune/lwf: head 295 168 B; ewc: head + Fisher + anchor 885 248 B; er: head +
//! bookkeeping 295 552 B, 510 int8 exemplars in the rest; icarl: class means + bookkeeping
//! 295 424 B, 510 int8 exemplars; proto: head 295 168 B + prototypes and bookkeeping 590 592 B,
//! 255 int8 exemplars; ncm: means 295 296 B; analytic (P = 512): 1 249 696 B; joint: unbounded.
//!
//! Submodules: `config` (`Strategy` and validated parameters), `strategies` (one file per
//! strategy and the shared checks), `shared` (`SharedLearner`), `head` (softmax/cosine head),
//! `sgd` (its training), `buffer` (`ReplayBuffer`), `quant` (f32/f16/int8 exemplar codes),
//! `prototypes` (incremental per-class statistics), `projection` (the analytic head's SRHT),
//! `linalg` and `cholesky` (kernels), `bisect` (size search), `rng`, `snapshot` (the learner
//! state format and its versions).

pub mod bisect;
pub mod buffer;
pub mod cholesky;
pub mod config;
pub mod head;
pub mod linalg;
pub mod modality;
pub mod projection;
pub mod prototypes;
pub mod quant;
pub mod rng;
pub mod sgd;
pub mod shared;
pub mod snapshot;
pub mod standardize;
pub mod strategies;
pub mod whiten;

pub use buffer::ReplayBuffer;
pub use config::{
    default_budget, head_scale, modality_blocks, shrinkage, HeadKind, LearnerConfig, Strategy,
    UnknownStrategy, RIDGE_CANDIDATES,
};
pub use prototypes::Prototypes;
pub use quant::Quant;
pub use shared::{Duplicate, Published, SharedLearner};
pub use strategies::analytic::Analytic;

use crate::embedding::Embedding;
use crate::envelope::EnvelopeError;

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
    /// Learner state bytes that are damaged, of an unknown version, or inconsistent;
    /// `strategy` once the state has named it.
    #[error("{error}{}", strategy.as_ref().map(|s| format!(" (strategy {s})")).unwrap_or_default())]
    Snapshot {
        strategy: Option<Strategy>,
        error: EnvelopeError,
    },
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
///
/// Threads: a learner is `Send + Sync`. The `&self` methods (`predict`, `save`, the
/// accessors, `clone_box`) may run on any number of threads at once; `learn` and `forget`
/// take `&mut self`, so they exclude everything else. `SharedLearner` lifts that exclusion for
/// predictions: it learns on a `clone_box` copy and publishes the copy when done.
///
/// Determinism: the state after a call depends only on the state before it and the call's
/// arguments (no clock, thread, address or global RNG enters it), and `save` writes all of it,
/// the RNG state included. So `load(&a.save())` followed by the calls `a` received afterwards
/// ends in a learner whose `save()` equals `a`'s byte for byte: the journal replays
/// enrollments on a snapshot this way.
pub trait Learner: Send + Sync {
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
    /// Serializes the whole state for a snapshot (the learner state format, `snapshot`;
    /// `learn::load` reads it back).
    fn save(&self) -> Vec<u8>;
    /// An independent copy in the same state (its `save()` is the same bytes).
    fn clone_box(&self) -> Box<dyn Learner>;
}

/// The largest embedding dimension accepted (encoders emit ~2304; this bounds what a damaged
/// or hostile snapshot header can make the loader allocate).
pub const MAX_DIM: usize = 1 << 20;

/// Builds an empty learner for embeddings of dimension `dim`. Refuses an invalid config
/// (`BadParameter` naming the field), `dim == 0`, and a budget that cannot hold even one
/// class (`BudgetTooSmall`).
pub fn build(dim: usize, config: &LearnerConfig) -> Result<Box<dyn Learner>, LearnError> {
    config.validate()?;
    if dim == 0 || dim > MAX_DIM {
        let why = format!("must lie in 1..={MAX_DIM}");
        return Err(LearnError::BadParameter {
            name: "dim".into(),
            value: dim.to_string(),
            why,
        });
    }
    config.check_dim(dim)?;
    strategies::build(dim, config)
}

/// Reads a learner back from `Learner::save`'s bytes (any learner state version this build
/// knows). Refuses damaged, truncated or inconsistent bytes with `LearnError::Snapshot`.
pub fn load(bytes: &[u8]) -> Result<Box<dyn Learner>, LearnError> {
    let (header, mut r) = snapshot::open(bytes)?;
    let named = |e: LearnError| match e {
        LearnError::Snapshot { error, .. } => LearnError::Snapshot {
            strategy: Some(header.config.strategy),
            error,
        },
        other => other,
    };
    let learner = strategies::read_body(header.dim, &header.config, &mut r).map_err(named)?;
    r.finish().map_err(|e| named(e.into()))?;
    Ok(learner)
}

impl From<EnvelopeError> for LearnError {
    fn from(error: EnvelopeError) -> LearnError {
        LearnError::Snapshot {
            strategy: None,
            error,
        }
    }
}
