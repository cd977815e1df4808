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
