//! The bundle format pinned by a golden file (tests/data/uplink/README.md): `bundle_v1.mmcl`
//! keeps loading, re-encodes to the same bytes, holds a class model that restores, and a
//! flipped byte or a truncation is refused naming what failed.

mod format_support;

use format_support::{damaged, names_the_failure};
use mmcl::classes::{Change, ChangeKind, ClassModel, ClassName, Enrollment};
use mmcl::embedding::Embedding;
use mmcl::learn::{self, LearnerConfig, Strategy};
use mmcl::store::Snapshot;
use mmcl::time::Timestamp;
use mmcl::uplink::{content_hash, Bundle};
use std::path::PathBuf;

const ENCODER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/uplink/bundle_v1.mmcl")
}

/// A ncm learner of dimension 4 that learned `walking` then `cycling`, as a bundle.
fn made_bundle() -> Bundle {
    let config = LearnerConfig::for_strategy(Strategy::Ncm, 4);
    let model = ClassModel::new(learn::build(4, &config).expect("learner"));
    for (at, (name, axis)) in [("walking", 0), ("cycling", 1)].into_iter().enumerate() {
        let embeddings = (0..3)
            .map(|i| {
                let mut v = vec![0.1 * i as f32; 4];
                v[axis] = 1.0;
                Embedding::new(v, 4).expect("embedding")
            })
            .collect();
        let enrollment = Enrollment {
            label: ClassName::new(name).expect("name"),
            embeddings,
            span: (Timestamp(0), Timestamp(2_000_000_000)),
            source: "golden".into(),
        };
        let change = Change {
            at_ms: 1_700_000_000_000 + at as u64,
            kind: ChangeKind::Enroll(enrollment),
        };
        model.apply(&change).expect("enrolls");
    }
    let mut sections = model.sections();
    sections.insert("counters", br#"{"windows":6}"#.to_vec());
    Bundle {
        device_id: "glasses-7".into(),
        snapshot_seq: 2,
        created_at_ms: 1_700_000_000_500,
        snapshot: Snapshot {
            encoder_sha256: ENCODER.into(),
            journal_seq: 2,
            sections,
        },
    }
}

fn pinned() -> Vec<u8> {
    if std::env::var_os("MMCL_BLESS").is_some() {
        std::fs::write(golden_path(), made_bundle().encode()).expect("bless");
    }
    std::fs::read(golden_path()).expect("tests/data/uplink/bundle_v1.mmcl")
}

#[test]
fn golden_bundle_loads_restores_and_re_encodes_byte_for_byte() {
    let bytes = pinned();
    let bundle = Bundle::decode(&bytes).expect("decodes");
    assert_eq!(
        (
            bundle.device_id.as_str(),
            bundle.snapshot_seq,
            bundle.created_at_ms
        ),
        ("glasses-7", 2, 1_700_000_000_500)
    );
    assert_eq!(
        (
            bundle.snapshot.encoder_sha256.as_str(),
            bundle.snapshot.journal_seq
        ),
        (ENCODER, 2)
    );
    assert_eq!(bundle.encode(), bytes, "the writer no longer produces v1");
    let model = ClassModel::restore(&bundle.snapshot.sections).expect("restores");
    let current = model.current();
    let names: Vec<String> = current
        .book()
        .entries()
        .iter()
        .map(|e| format!("{}:{}:{}", e.name, e.windows, e.origin))
        .collect();
    assert_eq!(names, ["walking:3:golden", "cycling:3:golden"]);
    assert_eq!(
        bundle.snapshot.sections.get("counters"),
        Some(&br#"{"windows":6}"#[..])
    );
}

#[test]
fn golden_bundle_hash_is_its_sha256_and_damage_is_named() {
    let bytes = pinned();
    let hash = content_hash(&bytes);
    assert_eq!(hash.len(), 64);
    let cuts = [0, 7, 19, 51, bytes.len() - 1];
    for (what, copy) in damaged(&bytes, 0, 37, &cuts) {
        assert_ne!(content_hash(&copy), hash, "{what}");
        let err = Bundle::decode(&copy).expect_err(&what).to_string();
        assert!(err.starts_with("snapshot bundle: "), "{what}: {err}");
        assert!(
            names_the_failure(&err) || err.contains("format version"),
            "{what}: {err}"
        );
    }
}
