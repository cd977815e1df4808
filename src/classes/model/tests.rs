use super::*;
use crate::learn::{build, LearnerConfig, Strategy};
use crate::time::Timestamp;

const DIM: usize = 8;

fn model(strategy: Strategy) -> ClassModel {
    ClassModel::new(build(DIM, &LearnerConfig::for_strategy(strategy, DIM)).unwrap())
}

fn enroll(label: &str, axis: usize, n: usize, at_ms: u64) -> Change {
    let embeddings = (0..n)
        .map(|i| {
            let mut v = vec![0.02 * i as f32; DIM];
            v[axis] += 1.0;
            Embedding::new(v, DIM).unwrap()
        })
        .collect();
    Change {
        at_ms,
        kind: ChangeKind::Enroll(Enrollment {
            label: ClassName::new(label).unwrap(),
            embeddings,
            span: (Timestamp(0), Timestamp(1)),
            source: "test".into(),
        }),
    }
}

fn probe(axis: usize) -> Embedding {
    let mut v = vec![0.0; DIM];
    v[axis] = 1.0;
    Embedding::new(v, DIM).unwrap()
}

fn name_change(kind: ChangeKind) -> Change {
    Change { at_ms: 9, kind }
}

fn name(s: &str) -> ClassName {
    ClassName::new(s).unwrap()
}

#[test]
fn enrollments_are_predicted_by_name_and_counted_in_the_book() {
    let m = model(Strategy::Ncm);
    let a = m.apply(&enroll("walk", 0, 5, 100)).unwrap();
    assert!(matches!(
        a,
        Applied::Enrolled {
            class: 0,
            new_class: true,
            ..
        }
    ));
    m.apply(&enroll("run", 3, 4, 200)).unwrap();
    let again = m.apply(&enroll("Walk", 0, 2, 300)).unwrap();
    assert!(
        matches!(again, Applied::Enrolled { class: 0, new_class: false, ref name, .. } if name.as_str() == "walk")
    );
    let now = m.current();
    let p = now.predict(&probe(3)).unwrap();
    assert_eq!((p.class, p.name.as_str()), (1, "run"));
    assert_eq!(p.scores[0].name, "run");
    let walk = now.book().by_name("walk").unwrap();
    assert_eq!((walk.windows, walk.enrollments), (7, 2));
}

#[test]
fn forget_and_rename_act_on_the_learner_and_the_book_together() {
    let m = model(Strategy::Proto);
    m.apply(&enroll("walk", 0, 6, 1)).unwrap();
    m.apply(&enroll("run", 3, 6, 2)).unwrap();
    m.apply(&name_change(ChangeKind::Rename {
        from: name("run"),
        to: name("jog"),
    }))
    .unwrap();
    assert_eq!(m.current().predict(&probe(3)).unwrap().name, "jog");
    let forgot = m
        .apply(&name_change(ChangeKind::Forget { name: name("walk") }))
        .unwrap();
    assert!(matches!(forgot, Applied::Forgot { class: 0, .. }));
    let now = m.current();
    assert_eq!(now.learner().classes(), vec![1]);
    assert_eq!(now.book().names(), "jog");
    assert_eq!(now.predict(&probe(0)).unwrap().name, "jog");
}

#[test]
fn a_refused_change_leaves_everything_as_it_was() {
    let m = model(Strategy::Ncm);
    m.apply(&enroll("walk", 0, 3, 1)).unwrap();
    let before = m.sections();
    let err = m
        .apply(&name_change(ChangeKind::Forget { name: name("swim") }))
        .unwrap_err();
    assert_eq!(err.to_string(), "no class named \"swim\" (known: walk)");
    let mut wrong_dim = enroll("run", 1, 2, 5);
    if let ChangeKind::Enroll(e) = &mut wrong_dim.kind {
        e.embeddings
            .push(Embedding::new(vec![1.0; DIM + 1], DIM + 1).unwrap());
    }
    assert!(matches!(m.apply(&wrong_dim), Err(ClassError::Learn { .. })));
    assert!(m
        .apply(&name_change(ChangeKind::Rename {
            from: name("walk"),
            to: name("walk")
        }))
        .is_ok());
    assert_eq!(m.sections(), before, "nothing changed");
    assert!(m.current().book().by_name("run").is_none());
}

#[test]
fn a_snapshot_plus_the_later_changes_rebuilds_the_same_state() {
    let changes = vec![
        enroll("walk", 0, 8, 1),
        enroll("run", 2, 8, 2),
        name_change(ChangeKind::Rename {
            from: name("run"),
            to: name("jog"),
        }),
        enroll("sit", 5, 8, 3),
        name_change(ChangeKind::Forget { name: name("walk") }),
        enroll("walk", 6, 8, 4),
    ];
    for strategy in [Strategy::Proto, Strategy::Analytic, Strategy::Er] {
        let live = model(strategy);
        for c in &changes {
            live.apply(c).unwrap();
        }
        for cut in 0..changes.len() {
            let early = model(strategy);
            for c in &changes[..cut] {
                early.apply(c).unwrap();
            }
            let restored = ClassModel::restore(&early.sections()).unwrap();
            for c in &changes[cut..] {
                // Replayed records go through the record format, as the journal's do.
                restored
                    .apply(&Change::decode(&c.encode()).unwrap())
                    .unwrap();
            }
            assert_eq!(
                restored.sections(),
                live.sections(),
                "{strategy} cut at {cut}"
            );
        }
    }
}

#[test]
fn a_snapshot_whose_book_and_learner_disagree_is_refused() {
    let m = model(Strategy::Ncm);
    m.apply(&enroll("walk", 0, 3, 1)).unwrap();
    let mut sections = m.sections();
    sections.insert(CLASSES_SECTION, ClassBook::new().encode());
    assert!(matches!(
        ClassModel::restore(&sections),
        Err(ClassError::Inconsistent { .. })
    ));
    let only_learner = Sections::new().with(LEARNER_SECTION, m.current().learner().save());
    let err = ClassModel::restore(&only_learner).err().unwrap();
    assert_eq!(err.to_string(), "snapshot has no \"classes\" section");
}
