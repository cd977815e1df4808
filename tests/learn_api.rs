//! The learner's contract from outside: refused calls change nothing, results are
//! deterministic, copies are independent, and every strategy learns class-structured data.
//! (The pinned learner state formats: `learn_golden.rs`.)

mod learn_support;

use learn_support::{config, trained, windows, DIM};
use mmcl::embedding::Embedding;
use mmcl::learn::rng::Rng;
use mmcl::learn::{build, load, LearnError, LearnerConfig, Strategy};

#[test]
fn refused_calls_leave_the_state_unchanged() {
    for s in Strategy::ALL {
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
    for s in Strategy::ALL.into_iter().filter(|s| *s != Strategy::Joint) {
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
            ..config(Strategy::Proto)
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
            ..config(Strategy::Proto)
        },
    )
    .err();
    assert!(matches!(tiny, Some(LearnError::BudgetTooSmall { needed, .. }) if needed > 10));
    assert!("sgd".parse::<Strategy>().is_err());
    let dim0 = build(0, &config(Strategy::Ncm)).err();
    assert!(matches!(dim0, Some(LearnError::BadParameter { ref name, .. }) if name == "dim"));
    let p = build(
        DIM,
        &LearnerConfig {
            projection: 1000,
            ..config(Strategy::Analytic)
        },
    )
    .err();
    assert!(matches!(p, Some(LearnError::BadParameter { ref name, .. }) if name == "projection"));
    assert_eq!(
        build(DIM, &config(Strategy::Ncm))
            .expect("builds")
            .predict(&windows(&mut Rng::new(1), &[0])[0]),
        Err(LearnError::NoClasses)
    );
}

#[test]
fn same_seed_same_state_and_every_strategy_learns() {
    for s in Strategy::ALL {
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
        let floor = if [Strategy::Finetune, Strategy::Ewc, Strategy::Lwf].contains(&s) {
            10
        } else {
            27
        };
        assert!(right >= floor, "{s}: {right}/30 right");
        let p = a.predict(&probes[0]).expect("predicts");
        assert!((0.0..=1.0).contains(&p.confidence) && p.scores.len() == 3);
    }
    assert_eq!(
        build(DIM, &config(Strategy::Joint))
            .expect("builds")
            .budget_bytes(),
        usize::MAX
    );
}

#[test]
fn damaged_snapshots_are_refused() {
    let bytes = trained(Strategy::Proto, 1).save();
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

#[test]
fn a_clone_is_an_independent_learner_in_the_same_state() {
    for s in Strategy::ALL {
        let original = trained(s, 4);
        let before = original.save();
        let mut copy = original.clone_box();
        assert_eq!(copy.save(), before, "{s}");
        let labels = vec![3u32; 6];
        copy.learn(&windows(&mut Rng::new(8), &labels), &labels)
            .expect("learns");
        assert_eq!(
            original.save(),
            before,
            "{s}: learning on the copy changed the original"
        );
        assert_eq!(copy.classes(), vec![0, 1, 2, 3], "{s}");
    }
}
