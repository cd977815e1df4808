//! Unit tests of the protocol: orders, task splits, scenarios, class subsets.

use super::*;

fn config(classes: usize, initial: usize, increment: usize) -> ProtocolConfig {
    ProtocolConfig {
        classes,
        initial,
        increment,
        ..ProtocolConfig::default()
    }
}

#[test]
fn default_is_eight_tasks_of_four_in_pycil_order() {
    let protocol = Protocol::new(&ProtocolConfig::default()).unwrap();
    assert_eq!(protocol.tasks().len(), 8);
    assert_eq!(protocol.tasks()[0], [22, 20, 2, 14]);
    assert_eq!(protocol.tasks()[7], [31, 17, 25, 1]);
    assert_eq!(protocol.task_of(1), Some(7));
    assert_eq!(protocol.task_of(32), None);
}

#[test]
fn remainder_forms_a_shorter_last_task() {
    let protocol = Protocol::new(&config(10, 4, 4)).unwrap();
    let sizes: Vec<usize> = protocol.tasks().iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 4, 2]);
    let protocol = Protocol::new(&config(10, 10, 0)).unwrap();
    assert_eq!(protocol.tasks().len(), 1);
}

#[test]
fn refuses_bad_numbers_naming_them() {
    assert_eq!(
        Protocol::new(&config(0, 1, 1)),
        Err(ProtocolError::ClassCount { classes: 0 })
    );
    assert_eq!(
        Protocol::new(&config(8, 9, 1)),
        Err(ProtocolError::Initial {
            initial: 9,
            classes: 8
        })
    );
    assert_eq!(
        Protocol::new(&config(8, 0, 1)),
        Err(ProtocolError::Initial {
            initial: 0,
            classes: 8
        })
    );
    let err = Protocol::new(&config(8, 4, 0)).unwrap_err();
    assert_eq!(
        err,
        ProtocolError::ZeroIncrement {
            initial: 4,
            remaining: 4
        }
    );
    assert!(err.to_string().contains("4 classes left"), "{err}");
}

#[test]
fn seed_changes_the_order_only() {
    let a = Protocol::new(&ProtocolConfig::default()).unwrap();
    let b = a.with_seed(1994);
    assert_ne!(a.order(), b.order());
    assert_eq!(b.order()[..4], [9, 14, 25, 23]);
    assert_eq!(a.tasks().len(), b.tasks().len());
}

fn prediction(class: ClassId, scores: &[(ClassId, f32)]) -> Prediction {
    Prediction {
        class,
        confidence: 1.0,
        scores: scores.to_vec(),
    }
}

#[test]
fn scenarios_judge_predictions() {
    let class_il = Protocol::new(&config(4, 2, 2)).unwrap();
    let [a, b] = [class_il.tasks()[0][0], class_il.tasks()[0][1]];
    let other = class_il.tasks()[1][0];
    let wrong_task = prediction(other, &[(a, 0.3), (b, 0.1), (other, 0.9)]);
    assert!(!class_il.is_correct(&wrong_task, a));

    let task_il = Protocol::new(&ProtocolConfig {
        scenario: Scenario::TaskIncremental,
        ..config(4, 2, 2)
    })
    .unwrap();
    assert!(
        task_il.is_correct(&wrong_task, a),
        "task-IL ignores the other task's class"
    );
    assert!(!task_il.is_correct(&wrong_task, b));
    assert!(
        !task_il.is_correct(&prediction(other, &[(other, 1.0)]), a),
        "no score for the task"
    );

    let domain = Protocol::new(&ProtocolConfig {
        scenario: Scenario::DomainIncremental,
        ..config(4, 2, 2)
    })
    .unwrap();
    assert_eq!(domain.train_label(b), Some(1));
    assert!(domain.is_correct(&prediction(1, &[]), b));
    assert!(!domain.is_correct(&prediction(0, &[]), b));
}

#[test]
fn a_subset_of_class_ids_is_ordered_and_split_like_indices() {
    let ids = vec![30, 3, 7, 12, 5, 20];
    let sparse = Protocol::new(&ProtocolConfig {
        class_ids: ids.clone(),
        ..config(6, 2, 2)
    })
    .unwrap();
    let dense = Protocol::new(&config(6, 2, 2)).unwrap();
    let sorted = [3, 5, 7, 12, 20, 30];
    let mapped: Vec<ClassId> = dense.order().iter().map(|i| sorted[*i as usize]).collect();
    assert_eq!(sparse.order(), mapped);
    assert_eq!(
        (sparse.id_bound(), sparse.task_of(4), sparse.task_of(31)),
        (31, None, None)
    );
    assert!(ids.iter().all(|c| sparse.task_of(*c).is_some()));
    let twice = ProtocolConfig {
        class_ids: vec![1, 1, 2],
        ..config(3, 1, 1)
    };
    assert!(matches!(
        Protocol::new(&twice),
        Err(ProtocolError::ClassIds { .. })
    ));
}

#[test]
fn modality_dynamic_tasks_drop_video_then_imu() {
    let protocol = Protocol::new(&ProtocolConfig {
        scenario: Scenario::ModalityDynamic,
        ..config(8, 2, 2)
    })
    .unwrap();
    let absent: Vec<Option<usize>> = (0..5).map(|t| protocol.train_absent(t)).collect();
    assert_eq!(absent, [None, Some(0), None, Some(1), None]);
    let class_il = Protocol::new(&config(8, 2, 2)).unwrap();
    assert_eq!(class_il.train_absent(1), None);
}

#[test]
fn scenario_names_round_trip() {
    for scenario in Scenario::ALL {
        assert_eq!(scenario.name().parse::<Scenario>(), Ok(scenario));
    }
    assert!("class".parse::<Scenario>().is_err());
}

proptest::proptest! {
    #[test]
    fn tasks_partition_the_order(classes in 1usize..120, initial_frac in 0.0f64..1.0, increment in 1usize..12, seed in 0u32..5000) {
        let initial = 1 + ((classes - 1) as f64 * initial_frac) as usize;
        let protocol = Protocol::new(&ProtocolConfig { classes, class_ids: Vec::new(), initial, increment, seed, scenario: Scenario::DomainIncremental }).unwrap();
        let flat: Vec<ClassId> = protocol.tasks().concat();
        proptest::prop_assert_eq!(&flat, &protocol.order().to_vec());
        proptest::prop_assert_eq!(protocol.tasks()[0].len(), initial);
        for (t, task) in protocol.tasks().iter().enumerate() {
            proptest::prop_assert!(t == 0 || (1..=increment).contains(&task.len()));
            proptest::prop_assert!(t + 1 == protocol.tasks().len() || t == 0 || task.len() == increment);
            for (position, &class) in task.iter().enumerate() {
                proptest::prop_assert_eq!(protocol.task_of(class), Some(t));
                proptest::prop_assert_eq!(protocol.train_label(class), Some(position as ClassId));
            }
        }
    }
}
