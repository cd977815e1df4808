//! What the learner test suites share: a small class-structured data set and learners
//! trained on it the same way every time.

#![allow(dead_code)] // each suite uses its own part

use mmcl::embedding::Embedding;
use mmcl::learn::rng::Rng;
use mmcl::learn::{build, Learner, LearnerConfig, Strategy};
use std::path::PathBuf;

pub const DIM: usize = 12;

pub fn config(strategy: Strategy) -> LearnerConfig {
    LearnerConfig {
        strategy,
        budget_bytes: 6000,
        planned_classes: 4,
        ..LearnerConfig::default()
    }
}

/// Well-separated classes: class `c` is strong on dimensions `3c..3c+3`.
pub fn windows(rng: &mut Rng, labels: &[u32]) -> Vec<Embedding> {
    labels
        .iter()
        .map(|l| {
            let v = (0..DIM).map(|d| if d / 3 == *l as usize % 4 { 1.0 } else { 0.0 } + 0.3 * rng.gaussian() as f32).collect();
            Embedding::new(v, DIM).expect("finite")
        })
        .collect()
}

/// Classes 0, 1, 2, twenty windows each, learned one call per class.
pub fn trained(strategy: Strategy, seed: u64) -> Box<dyn Learner> {
    let mut learner = build(
        DIM,
        &LearnerConfig {
            seed,
            ..config(strategy)
        },
    )
    .expect("builds");
    let mut rng = Rng::new(5);
    for class in 0..3u32 {
        let labels = vec![class; 20];
        learner
            .learn(&windows(&mut rng, &labels), &labels)
            .expect("learns");
    }
    learner
}

pub fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}
