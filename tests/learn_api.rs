//! The learner's contract from outside: refused calls change nothing, results are
//! deterministic, every strategy learns class-structured data, and the golden snapshots in
//! `tests/data/learn/` keep loading (regenerate with `MMCL_BLESS=1` only on a format change
//! that also bumps `FORMAT_VERSION` and keeps the old files).

use mmcl::embedding::Embedding;
use mmcl::learn::rng::Rng;
use mmcl::learn::{build, load, LearnError, Learner, LearnerConfig, STRATEGIES};
use std::path::PathBuf;

const DIM: usize = 12;

fn config(strategy: &str) -> LearnerConfig {
    LearnerConfig {
        strategy: strategy.into(),
        budget_bytes: 6000,
        planned_classes: 4,
        ..LearnerConfig::default()
    }
}

/// Well-separated classes: class `c` is strong on dimensions `3c..3c+3`.
fn windows(rng: &mut Rng, labels: &[u32]) -> Vec<Embedding> {
    labels
        .iter()
        .map(|l| {
            let v = (0..DIM).map(|d| if d / 3 == *l as usize % 4 { 1.0 } else { 0.0 } + 0.3 * rng.gaussian() as f32).collect();
            Embedding::new(v, DIM).expect("finite")
        })
        .collect()
}

fn trained(strategy: &str, seed: u64) -> Box<dyn Learner> {
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

#[test]
fn refused_calls_leave_the_state_unchanged() {
    for s in STRATEGIES {
        let mut learner = trained(s, 1);
        let before = learner.save();
        let good = windows(&mut Rng::new(9), &[0, 1]);
        let short = Embedding::new(vec![0.5; DIM - 1], DIM - 1).expect("finite");
        let mixed = vec![good[0].clone(), short.clone()];
        assert_eq!(
            learner.learn(&mixed, &[0, 1]),
            Err(LearnError::DimMismatch {
                index: 1,
                expected: DIM,
                got: DIM - 1
            }),
            "{s}"
        );
        assert_eq!(
            learner.learn(&good, &[0]),
            Err(LearnError::LengthMismatch {
                embeddings: 2,
                labels: 1
            }),
            "{s}"
        );
        assert_eq!(learner.learn(&[], &[]), Err(LearnError::EmptyBatch), "{s}");
        assert!(
            matches!(learner.forget(42), Err(LearnError::UnknownClass { class: 42, ref known }) if known == &vec![0, 1, 2]),
            "{s}"
        );
        assert_eq!(
            learner.predict(&short),
            Err(LearnError::DimMismatch {
                index: 0,
                expected: DIM,
                got: DIM - 1
            }),
            "{s}"
        );
        assert_eq!(
            learner.save(),
            before,
            "{s}: a refused call changed the state"
        );
    }
}

#[test]
fn a_class_beyond_the_budget_is_refused_whole() {
    for s in STRATEGIES.iter().filter(|s| **s != "joint") {
        // Room for a few classes of head/prototypes/statistics, not forty.
        let mut learner = build(
            DIM,
            &LearnerConfig {
                budget_bytes: 700,
                projection: 4,
                ..config(s)
            },
        )
        .expect("builds");
        let mut rng = Rng::new(2);
        let mut refused = false;
        for class in 0..40u32 {
            let before = learner.save();
            let labels = vec![class; 4];
            match learner.learn(&windows(&mut rng, &labels), &labels) {
                Ok(report) => assert!(report.memory_bytes <= 700),
                Err(LearnError::BudgetTooSmall {
                    budget: 700,
                    needed,
                    ..
                }) => {
                    assert!(needed > 700);
                    assert_eq!(learner.save(), before, "{s}");
                    refused = true;
                }
                Err(e) => panic!("{s}: {e}"),
            }
        }
        assert!(refused, "{s} never ran out of budget");
    }
}

#[test]
fn bad_configs_are_refused_with_their_name() {
    let zero = build(
        DIM,
        &LearnerConfig {
            budget_bytes: 0,
            ..config("proto")
        },
    )
    .err();
    assert!(
        matches!(zero, Some(LearnError::BadParameter { ref name, .. }) if name == "budget_bytes")
    );
    let tiny = build(
        DIM,
        &LearnerConfig {
            budget_bytes: 10,
            ..config("proto")
        },
    )
    .err();
    assert!(matches!(tiny, Some(LearnError::BudgetTooSmall { needed, .. }) if needed > 10));
    let unknown = build(DIM, &config("sgd")).err();
    assert!(matches!(unknown, Some(LearnError::UnknownStrategy { .. })));
    let dim0 = build(0, &config("ncm")).err();
    assert!(matches!(dim0, Some(LearnError::BadParameter { ref name, .. }) if name == "dim"));
    let p = build(
        DIM,
        &LearnerConfig {
            projection: 1000,
            ..config("analytic")
        },
    )
    .err();
    assert!(matches!(p, Some(LearnError::BadParameter { ref name, .. }) if name == "projection"));
    assert_eq!(
        build(DIM, &config("ncm"))
            .expect("builds")
            .predict(&windows(&mut Rng::new(1), &[0])[0]),
        Err(LearnError::NoClasses)
    );
}

#[test]
fn same_seed_same_state_and_every_strategy_learns() {
    for s in STRATEGIES {
        let (a, b) = (trained(s, 3), trained(s, 3));
        assert_eq!(a.save(), b.save(), "{s}: not deterministic");
        assert!(a.memory_bytes() <= a.budget_bytes());
        let mut rng = Rng::new(77);
        let labels: Vec<u32> = (0..30).map(|i| i % 3).collect();
        let probes = windows(&mut rng, &labels);
        let right = probes
            .iter()
            .zip(&labels)
            .filter(|(e, l)| a.predict(e).expect("predicts").class == **l)
            .count();
        // Memoryless strategies only have to know the last class; the others all three.
        let floor = if ["finetune", "ewc", "lwf"].contains(s) {
            10
        } else {
            27
        };
        assert!(right >= floor, "{s}: {right}/30 right");
        let p = a.predict(&probes[0]).expect("predicts");
        assert!((0.0..=1.0).contains(&p.confidence) && p.scores.len() == 3);
    }
    assert_eq!(
        build(DIM, &config("joint")).expect("builds").budget_bytes(),
        usize::MAX
    );
}

#[test]
fn damaged_snapshots_are_refused() {
    let bytes = trained("proto", 1).save();
    let mut flipped = bytes.clone();
    flipped[40] ^= 0x10;
    assert!(matches!(load(&flipped), Err(LearnError::Snapshot { .. })));
    assert!(matches!(
        load(&bytes[..bytes.len() / 2]),
        Err(LearnError::Snapshot { .. })
    ));
    assert!(matches!(
        load(b"not a snapshot"),
        Err(LearnError::Snapshot { .. })
    ));
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/learn")
}

/// Fixed probes and the predictions each golden learner must keep giving.
fn golden_probes() -> Vec<Embedding> {
    windows(&mut Rng::new(123), &[0, 1, 2, 0])
}

#[test]
fn golden_snapshots_keep_loading() {
    let dir = golden_dir();
    if std::env::var("MMCL_BLESS").is_ok() {
        for s in STRATEGIES {
            let learner = trained(s, 11);
            std::fs::write(dir.join(format!("{s}.snap")), learner.save()).expect("write golden");
            let preds: Vec<_> = golden_probes()
                .iter()
                .map(|p| learner.predict(p).expect("predicts"))
                .collect();
            std::fs::write(
                dir.join(format!("{s}.json")),
                serde_json::to_string_pretty(&preds).expect("json") + "\n",
            )
            .expect("write");
        }
    }
    for s in STRATEGIES {
        let bytes = std::fs::read(dir.join(format!("{s}.snap")))
            .unwrap_or_else(|e| panic!("{s}.snap: {e}"));
        let learner = load(&bytes).unwrap_or_else(|e| panic!("{s}.snap: {e}"));
        assert_eq!(
            (learner.name(), learner.dim(), learner.classes()),
            (*s, DIM, vec![0, 1, 2])
        );
        assert_eq!(
            learner.save(),
            bytes,
            "{s}: re-saving a loaded snapshot changed its bytes"
        );
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{s}.json"))).expect("json"))
                .expect("json");
        let got: Vec<_> = golden_probes()
            .iter()
            .map(|p| learner.predict(p).expect("predicts"))
            .collect();
        // Scores may differ in the last bits where the CPU picks other gemm kernels.
        assert!(
            close(&serde_json::to_value(&got).expect("json"), &expected),
            "{s}: predictions changed: {got:?}"
        );
    }
}

/// Same JSON shape, numbers equal within 1e-4 relative.
fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Number, Object};
    match (a, b) {
        (Number(x), Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-4 * x.abs().max(y.abs()).max(1.0)
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}
