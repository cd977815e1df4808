//! The class book and the class change record (the journal's payload) are pinned by
//! golden files in tests/data/classes/: each keeps loading to the value this test builds,
//! re-encodes to the same bytes, and a flipped byte or a truncation is refused by name.
//! `MMCL_WRITE_GOLDEN=1 cargo test --test classes_format` rewrites them (only when a new
//! format version is added: old versions' files must never change).

mod format_support;

use format_support::{damaged, names_the_failure};
use mmcl::classes::{Change, ChangeKind, ClassModel, ClassName, Enrollment};
use mmcl::embedding::Embedding;
use mmcl::learn::{build, LearnerConfig, Strategy};
use mmcl::time::Timestamp;
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/classes")
        .join(name)
}

fn name(s: &str) -> ClassName {
    ClassName::new(s).expect("name")
}

fn enrollment() -> Enrollment {
    let embeddings = (0..3)
        .map(|i| {
            Embedding::new((0..4).map(|j| (i * 4 + j) as f32 / 8.0 - 0.7).collect(), 4)
                .expect("finite")
        })
        .collect();
    Enrollment {
        label: name("brushing teeth"),
        embeddings,
        span: (Timestamp(12_500_000_000), Timestamp(30_620_000_000)),
        source: "replay 3_brush_teeth/clip_0004".into(),
    }
}

fn changes() -> Vec<(&'static str, Change)> {
    vec![
        (
            "change_v1_enroll.mmcl",
            Change {
                at_ms: 1_764_576_000_000,
                kind: ChangeKind::Enroll(enrollment()),
            },
        ),
        (
            "change_v1_forget.mmcl",
            Change {
                at_ms: 1_764_576_060_000,
                kind: ChangeKind::Forget { name: name("walk") },
            },
        ),
        (
            "change_v1_rename.mmcl",
            Change {
                at_ms: 1_764_576_120_000,
                kind: ChangeKind::Rename {
                    from: name("run"),
                    to: name("jogging"),
                },
            },
        ),
    ]
}

/// A book of two classes (one forgotten in between, so ids skip).
fn book_bytes() -> Vec<u8> {
    let model =
        ClassModel::new(build(4, &LearnerConfig::for_strategy(Strategy::Ncm, 4)).expect("learner"));
    let mut e = enrollment();
    for (label, at) in [("walk", 1), ("brushing teeth", 2), ("run", 3)] {
        e.label = name(label);
        model
            .apply(&Change {
                at_ms: 1_764_576_000_000 + at,
                kind: ChangeKind::Enroll(e.clone()),
            })
            .expect("enroll");
    }
    model
        .apply(&Change {
            at_ms: 1_764_576_100_000,
            kind: ChangeKind::Forget { name: name("walk") },
        })
        .expect("forget");
    model.current().book().encode()
}

fn check_golden(file: &str, made: &[u8]) -> Vec<u8> {
    let path = golden(file);
    if std::env::var_os("MMCL_WRITE_GOLDEN").is_some() {
        std::fs::write(&path, made).expect("write golden");
    }
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(bytes, made, "{file} re-encodes to the same bytes");
    bytes
}

#[test]
fn every_change_record_golden_file_loads_and_damage_is_refused() {
    for (file, change) in changes() {
        let bytes = check_golden(file, &change.encode());
        assert_eq!(Change::decode(&bytes).expect(file), change);
        for (what, bad) in damaged(&bytes, 3, 5, &[0, 19, bytes.len() - 1]) {
            let err = Change::decode(&bad).expect_err(&what).to_string();
            assert!(
                err.starts_with("class change record"),
                "{file} {what}: {err}"
            );
            assert!(names_the_failure(&err), "{file} {what}: {err}");
        }
    }
}

#[test]
fn the_class_book_golden_file_loads_and_damage_is_refused() {
    let bytes = check_golden("book_v1.mmcl", &book_bytes());
    let book = mmcl::classes::ClassBook::decode(&bytes).expect("loads");
    let names: Vec<(u32, &str)> = book
        .entries()
        .iter()
        .map(|e| (e.id, e.name.as_str()))
        .collect();
    assert_eq!(names, [(1, "brushing teeth"), (2, "run")]);
    assert_eq!(
        book.by_name("run").map(|e| (e.windows, e.enrolled_at_ms)),
        Some((3, 1_764_576_000_003))
    );
    for (what, bad) in damaged(&bytes, 1, 7, &[0, 30, bytes.len() - 2]) {
        let err = mmcl::classes::ClassBook::decode(&bad)
            .expect_err(&what)
            .to_string();
        assert!(err.starts_with("class book"), "{what}: {err}");
        assert!(names_the_failure(&err), "{what}: {err}");
    }
}
