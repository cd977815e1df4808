//! Every shipped profile's learner really fits: built at the default encoder's
//! embedding dimension (read from models/encoder.onnx, 2184 today), it learns the
//! dataset's 32 classes without refusing one and stays within its budget.

mod config_support;

use config_support::{layout_of, shipped_dir, shipped_profile_names};
use mmcl::config::{Config, LearnerConfig};
use mmcl::embedding::Embedding;
use mmcl::encode::{ModelContract, ModelFile};
use mmcl::learn::{self, ClassId, Learner};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// UESTC-MMEA-CL's class count, and its protocol's task size.
const CLASSES: u32 = 32;
const CLASSES_PER_TASK: u32 = 4;
const PER_CLASS: usize = 3;

/// D of the encoder every profile ships with.
fn default_encoder_dim() -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    let model = ModelFile::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match ModelContract::check(&model.summary, &model.sha256) {
        Ok(contract) => contract.dim,
        Err(problems) => panic!("{}: {problems:?}", path.display()),
    }
}

fn shipped_profiles() -> Vec<(String, Config)> {
    let names = shipped_profile_names();
    assert!(!names.is_empty(), "no profile in firmware-config/");
    names
        .into_iter()
        .map(|name| {
            let (_root, path) = layout_of(&shipped_dir().join(&name));
            let config = Config::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, config)
        })
        .collect()
}

/// Random finite embeddings, `PER_CLASS` of each class in `classes`.
fn task(rng: &mut ChaCha8Rng, dim: usize, classes: &[ClassId]) -> (Vec<Embedding>, Vec<ClassId>) {
    let mut embeddings = Vec::new();
    let mut labels = Vec::new();
    for class in classes {
        for _ in 0..PER_CLASS {
            let values = (0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            embeddings.push(Embedding::new(values, dim).expect("finite, right length"));
            labels.push(*class);
        }
    }
    (embeddings, labels)
}

/// Teaches `learner` every class, task by task as the protocol does, checking
/// the budget after every call.
fn learn_all_classes(what: &str, learner: &mut dyn Learner, dim: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(1993);
    let all: Vec<ClassId> = (0..CLASSES).collect();
    for classes in all.chunks(CLASSES_PER_TASK as usize) {
        let (embeddings, labels) = task(&mut rng, dim, classes);
        let report = learner
            .learn(&embeddings, &labels)
            .unwrap_or_else(|e| panic!("{what}: learning classes {classes:?}: {e}"));
        assert_eq!(report.new_classes, classes, "{what}");
        assert_eq!(report.memory_bytes, learner.memory_bytes(), "{what}");
        assert!(
            learner.memory_bytes() <= learner.budget_bytes(),
            "{what}: {} bytes held, budget {}",
            learner.memory_bytes(),
            learner.budget_bytes()
        );
    }
    assert_eq!(learner.classes(), all, "{what}");
    let (probe, _) = task(&mut rng, dim, &[0]);
    let prediction = learner.predict(&probe[0]).expect("predicts");
    assert!(all.contains(&prediction.class), "{what}");
}

#[test]
fn every_shipped_profile_learns_the_dataset_classes_within_budget() {
    let dim = default_encoder_dim();
    for (name, config) in shipped_profiles() {
        let wanted = config.learner();
        let learner_config = wanted.learner_config(dim);
        let mut learner = learn::build(dim, &learner_config)
            .unwrap_or_else(|e| panic!("{name}: building {}: {e}", wanted.strategy()));
        assert_eq!(learner.name(), wanted.strategy().name(), "{name}");
        assert_eq!(
            learner.budget_bytes() as u64,
            wanted.budget_for(dim),
            "{name}"
        );
        learn_all_classes(&name, learner.as_mut(), dim);
    }
}

#[test]
fn a_profile_without_a_learner_section_learns_too() {
    let dim = default_encoder_dim();
    let defaults = LearnerConfig::default();
    let mut learner = learn::build(dim, &defaults.learner_config(dim)).expect("builds");
    learn_all_classes("[learner] defaults", learner.as_mut(), dim);
}
