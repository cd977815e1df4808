//! The runner over honest test learners: matrices and metrics whose values
//! follow by hand from how the learners work, batching and timing through an
//! injected clock, seeds, progress events, and refused inputs.

mod eval_support;

use eval_support::{count_events, labelled, separable, NearestMean, StepClock};
use mmcl::eval::{
    default_seeds, run_seed, run_seeds, EvalError, FeatureSet, LearnerFactory, ProgressEvent,
    Protocol, ProtocolConfig, RunOptions, Scenario, SeedRun,
};
use mmcl::learn::{LearnError, Learner};
use std::num::NonZeroUsize;

fn protocol(scenario: Scenario) -> Protocol {
    Protocol::new(&ProtocolConfig {
        classes: 8,
        initial: 2,
        increment: 2,
        seed: 1993,
        scenario,
        ..Default::default()
    })
    .unwrap()
}

fn run(
    features: &FeatureSet,
    protocol: &Protocol,
    factory: &LearnerFactory<'_>,
) -> Result<SeedRun, EvalError> {
    let clock = StepClock::new(1_000_000);
    run_seed(
        features,
        protocol,
        factory,
        RunOptions {
            clock: &clock,
            batch: None,
        },
        &mut |_| {},
    )
}

fn ncm(dim: usize) -> impl Fn() -> Result<Box<dyn Learner>, LearnError> {
    move || Ok(Box::new(NearestMean::new(dim)) as Box<dyn Learner>)
}

fn forgetful(dim: usize) -> impl Fn() -> Result<Box<dyn Learner>, LearnError> {
    move || Ok(Box::new(NearestMean::forgetful(dim)) as Box<dyn Learner>)
}

fn assert_close(got: f64, expected: f64) {
    assert!(
        (got - expected).abs() < 1e-12,
        "got {got}, expected {expected}"
    );
}

#[test]
fn nearest_mean_on_separable_data_never_forgets() {
    let features = separable(8, 3, 2);
    let run = run(&features, &protocol(Scenario::ClassIncremental), &ncm(8)).unwrap();
    assert!(run
        .accuracy_matrix
        .rows()
        .iter()
        .flatten()
        .all(|&a| a == 1.0));
    assert_eq!(run.metrics.final_accuracy, 1.0);
    assert_eq!(run.metrics.avg_incremental_accuracy, 1.0);
    assert_eq!(
        (run.metrics.forgetting, run.metrics.bwt),
        (Some(0.0), Some(0.0))
    );
    assert_eq!(run.metrics.fwt, None);
    assert!(run
        .metrics
        .fwt_note
        .as_deref()
        .unwrap()
        .contains("class-IL"));
    // Two classes per task of 8 * 8 + 16 bytes each.
    let memory: Vec<usize> = run.tasks.iter().map(|t| t.memory_bytes).collect();
    assert_eq!(memory, [160, 320, 480, 640]);
    // numpy: np.random.seed(1993); np.random.permutation(8).tolist()
    assert_eq!(run.class_order, [2, 3, 0, 4, 5, 6, 7, 1]);
    assert_eq!(run.per_class_accuracy.len(), 8);
}

#[test]
fn forgetful_learner_only_knows_the_last_task() {
    let features = separable(8, 3, 2);
    for scenario in [Scenario::ClassIncremental, Scenario::TaskIncremental] {
        let run = run(&features, &protocol(scenario), &forgetful(8)).unwrap();
        for (i, row) in run.accuracy_matrix.rows().iter().enumerate() {
            let expected: Vec<f64> = (0..=i).map(|j| if i == j { 1.0 } else { 0.0 }).collect();
            assert_eq!(row, &expected, "{scenario} row {i}");
        }
        assert_eq!(run.metrics.final_accuracy, 0.25);
        assert_eq!(run.metrics.final_accuracy_weighted, 0.25);
        assert_close(
            run.metrics.avg_incremental_accuracy,
            (1.0 + 1.0 / 2.0 + 1.0 / 3.0 + 1.0 / 4.0) / 4.0,
        );
        assert_eq!(
            (run.metrics.forgetting, run.metrics.bwt),
            (Some(1.0), Some(-1.0))
        );
        let last_task = protocol(scenario).tasks()[3].clone();
        for class in &run.per_class_accuracy {
            let expected = if last_task.contains(&class.class) {
                1.0
            } else {
                0.0
            };
            assert_eq!(class.accuracy, expected, "{scenario} class {}", class.class);
        }
    }
}

/// Domain-IL features: one-hot of the class's position within its task, then
/// one-hot of its task; positions are shared labels across tasks.
fn domain_features(protocol: &Protocol) -> FeatureSet {
    let tasks = protocol.tasks().len();
    let embed = |class: u32| -> Vec<f32> {
        let (position, task) = (
            protocol.train_label(class).unwrap() as usize,
            protocol.task_of(class).unwrap(),
        );
        (0..2 + tasks)
            .map(|d| {
                if d == position || d == 2 + task {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    };
    let split = |per_class: usize| {
        (0..8u32)
            .flat_map(|c| (0..per_class).map(move |_| c))
            .map(|c| labelled(embed(c), c))
            .collect()
    };
    FeatureSet {
        dim: 2 + tasks,
        train: split(2),
        test: split(1),
        test_video_absent: None,
        test_imu_absent: None,
        ..Default::default()
    }
}

#[test]
fn domain_incremental_learns_positions_and_measures_forward_transfer() {
    let protocol = protocol(Scenario::DomainIncremental);
    let features = domain_features(&protocol);
    let run = run(&features, &protocol, &ncm(features.dim)).unwrap();
    assert!(run
        .accuracy_matrix
        .rows()
        .iter()
        .flatten()
        .all(|&a| a == 1.0));
    let before: Vec<Option<f64>> = run.tasks.iter().map(|t| t.accuracy_before).collect();
    assert_eq!(before, [None, Some(1.0), Some(1.0), Some(1.0)]);
    // Each later task is fully right before it is learned; chance is 1 / 2.
    assert_eq!(run.metrics.fwt, Some(0.5));
    assert_eq!(run.metrics.fwt_note, None);
    // The learner was taught positions only.
    assert_eq!(run.metrics.memory_bytes, 2 * (features.dim * 8 + 16));
}

#[test]
fn missing_modality_splits_are_scored_after_the_last_task() {
    let mut features = separable(8, 3, 2);
    // Video absent: every second sample looks like the next class.
    let confused = |k: usize, l: &mmcl::eval::Labelled| {
        let look = if k % 2 == 1 {
            (l.class + 1) % 8
        } else {
            l.class
        };
        labelled(
            (0..8).map(|d| if d == look { 1.0 } else { 0.0 }).collect(),
            l.class,
        )
    };
    features.test_video_absent = Some(
        features
            .test
            .iter()
            .enumerate()
            .map(|(k, l)| confused(k, l))
            .collect(),
    );
    features.test_imu_absent = Some(features.test.clone());
    let run = run(&features, &protocol(Scenario::ClassIncremental), &ncm(8)).unwrap();
    assert_eq!(run.missing_modality.video, Some(0.5));
    assert_eq!(run.missing_modality.imu, Some(1.0));
    let without = separable(8, 3, 2);
    let run = self::run(&without, &protocol(Scenario::ClassIncremental), &ncm(8)).unwrap();
    assert_eq!(
        (run.missing_modality.video, run.missing_modality.imu),
        (None, None)
    );
}

#[test]
fn batches_are_timed_with_the_injected_clock() {
    let features = separable(8, 5, 1);
    let clock = StepClock::new(1_000_000);
    let options = RunOptions {
        clock: &clock,
        batch: NonZeroUsize::new(3),
    };
    let mut events = Vec::new();
    let run = run_seed(
        &features,
        &protocol(Scenario::ClassIncremental),
        &ncm(8),
        options,
        &mut |e| events.push(e),
    )
    .unwrap();
    for task in &run.tasks {
        // 10 samples per task in calls of 3: 4 calls, each seeing one clock step.
        assert_eq!(task.learn_ms, [1.0; 4]);
        assert_eq!((task.train_samples, task.test_samples), (10, 2));
    }
    assert_eq!(run.metrics.learn_ms_per_task, 4.0);
    assert_eq!(run.metrics.learn_ms_per_call, 1.0);
    assert!(events.contains(&ProgressEvent::TaskLearned {
        seed: 1993,
        task: 0,
        tasks: 4,
        learn_ms: 4.0,
        memory_bytes: 160
    }));
    let counts = count_events(&events);
    assert_eq!(
        (
            counts["task_learned"],
            counts["task_evaluated"],
            counts["seed_finished"]
        ),
        (4, 4, 1)
    );
}

#[test]
fn seeds_change_the_order_and_are_summarized() {
    assert_eq!(default_seeds(3), [1993, 1994, 1995]);
    let features = separable(8, 3, 2);
    let clock = StepClock::new(2_000_000);
    let options = RunOptions {
        clock: &clock,
        batch: None,
    };
    let mut events = Vec::new();
    let protocol = protocol(Scenario::ClassIncremental);
    let summary = run_seeds(
        &features,
        &protocol,
        &default_seeds(3),
        &forgetful(8),
        options,
        &mut |e| events.push(e),
    )
    .unwrap();
    assert_eq!(summary.name, "forgetful");
    assert_eq!(summary.seeds(), [1993, 1994, 1995]);
    let orders: Vec<&Vec<u32>> = summary.per_seed.iter().map(|r| &r.class_order).collect();
    assert_ne!(orders[0], orders[1]);
    assert_ne!(orders[1], orders[2]);
    assert_eq!(
        (summary.final_accuracy, summary.final_accuracy_std),
        (0.25, 0.0)
    );
    assert_eq!(
        (summary.forgetting, summary.forgetting_std),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(summary.learn_ms_per_task, 2.0);
    let curve: Vec<usize> = summary.accuracy_curve.iter().map(|p| p.classes).collect();
    assert_eq!(curve, [2, 4, 6, 8]);
    let counts = count_events(&events);
    assert_eq!(
        (
            counts["seed_started"],
            counts["task_learned"],
            counts["seed_finished"]
        ),
        (3, 12, 3)
    );
}

#[test]
fn refuses_samples_it_cannot_place() {
    let protocol = protocol(Scenario::ClassIncremental);
    let mut features = separable(8, 3, 2);
    features.test.push(labelled(vec![0.0; 8], 9));
    let err = run(&features, &protocol, &ncm(8)).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::ClassOutOfRange {
                split: "test",
                index: 16,
                class: 9,
                classes: 8
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("class 9"), "{err}");
    assert!(err.is_input());

    let mut features = separable(8, 3, 2);
    features.train.push(labelled(vec![0.0; 3], 1));
    let err = run(&features, &protocol, &ncm(8)).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::DimMismatch {
                split: "train",
                index: 24,
                expected: 8,
                got: 3
            }
        ),
        "{err}"
    );

    let mut features = separable(8, 3, 2);
    let first_task = protocol.tasks()[0].clone();
    features.train.retain(|l| !first_task.contains(&l.class));
    let err = run(&features, &protocol, &ncm(8)).unwrap_err();
    assert!(
        matches!(&err, EvalError::EmptyTask { split: "train", task: 0, classes } if *classes == first_task),
        "{err}"
    );
}

#[test]
fn learner_failures_name_the_strategy_seed_and_task() {
    let features = separable(8, 3, 2);
    let protocol = protocol(Scenario::ClassIncremental);
    let err = run(&features, &protocol, &ncm(7)).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::LearnerDim {
                expected: 8,
                got: 7,
                ..
            }
        ),
        "{err}"
    );

    let refuse = || -> Result<Box<dyn Learner>, LearnError> {
        Err(LearnError::BadParameter {
            name: "lr".into(),
            value: "-1".into(),
            why: "negative".into(),
        })
    };
    assert!(matches!(
        run(&features, &protocol, &refuse),
        Err(EvalError::Factory { .. })
    ));

    let failing = || -> Result<Box<dyn Learner>, LearnError> {
        Ok(Box::new(eval_support::Failing {
            inner: NearestMean::new(8),
            fail_after: 2,
            calls: 0,
        }))
    };
    let err = run(&features, &protocol, &failing).unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::Learner {
                seed: 1993,
                task: 2,
                action: "learn",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("strategy failing, seed 1993, task 2: learn:"),
        "{err}"
    );
    assert!(
        !err.is_input(),
        "a learner failing mid-run is a runtime failure"
    );
}
