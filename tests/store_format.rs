//! The snapshot file format pinned by golden files (tests/data/store/README.md): version 1
//! (`snapshot_v1.mmcl`, before the envelope) and version 2 (`snapshot_v2.mmcl`) keep loading,
//! version 2 is what the writer produces byte for byte, and a flipped byte or a truncation in
//! either is refused naming the file, the format and what failed.

mod format_support;

use format_support::{damaged, names_the_failure};
use mmcl::store::{decode, encode, Sections, Snapshot, SnapshotStore, LEARNER_SECTION};
use std::path::PathBuf;

/// The encoder digest the golden snapshots name.
const ENCODER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(data(path)).unwrap_or_else(|e| panic!("tests/data/{path}: {e}"))
}

/// What `snapshot_v2.mmcl` holds.
fn golden_v2() -> Snapshot {
    Snapshot {
        encoder_sha256: ENCODER.into(),
        journal_seq: 7,
        sections: Sections::new()
            .with(LEARNER_SECTION, read("learn/v2/proto.snap"))
            .with("class book", b"0 walking\n1 cycling\n".to_vec())
            .with("counters", 12u64.to_le_bytes().to_vec()),
    }
}

#[test]
fn golden_version_1_snapshot_loads_as_one_learner_section() {
    let (version, snapshot) = decode(&read("store/snapshot_v1.mmcl")).expect("decodes");
    assert_eq!(
        (
            version,
            snapshot.encoder_sha256.as_str(),
            snapshot.journal_seq
        ),
        (1, ENCODER, 0)
    );
    assert_eq!(snapshot.sections.len(), 1);
    let learner = snapshot
        .sections
        .get(LEARNER_SECTION)
        .expect("learner section");
    assert_eq!(learner, read("learn/proto.snap").as_slice());
    assert_eq!(mmcl::learn::load(learner).expect("loads").name(), "proto");
}

#[test]
fn golden_version_2_snapshot_loads_and_is_reproduced() {
    let golden = data("store/snapshot_v2.mmcl");
    if std::env::var_os("MMCL_BLESS").is_some() {
        std::fs::write(&golden, encode(&golden_v2())).expect("bless");
    }
    let pinned = read("store/snapshot_v2.mmcl");
    assert!(
        encode(&golden_v2()) == pinned,
        "the writer no longer produces version 2"
    );
    assert_eq!(decode(&pinned).expect("decodes"), (2, golden_v2()));
}

#[test]
fn both_golden_versions_load_through_the_store() {
    for (name, journal_seq) in [("snapshot_v1.mmcl", 0), ("snapshot_v2.mmcl", 7)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            data(&format!("store/{name}")),
            dir.path().join("snapshot-00000003.mmcl"),
        )
        .unwrap();
        let store = SnapshotStore::open(dir.path(), 2).unwrap();
        let latest = store.load_latest(ENCODER).unwrap();
        let stored = latest.snapshot.expect("a snapshot");
        assert_eq!(
            (stored.seq, stored.snapshot.journal_seq),
            (3, journal_seq),
            "{name}"
        );
        assert!(latest.skipped.is_empty() && latest.strays.is_empty());
    }
}

/// Each damaged copy sits in a state directory behind an intact older snapshot: recovery
/// skips it with a warning that names the file, the format and what failed.
#[test]
fn a_flipped_byte_or_a_truncation_in_a_golden_snapshot_is_refused_by_name() {
    for name in ["snapshot_v1.mmcl", "snapshot_v2.mmcl"] {
        let bytes = read(&format!("store/{name}"));
        let cuts = [0, 5, 60, bytes.len() / 2, bytes.len() - 1];
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("snapshot-00000001.mmcl"), &bytes).unwrap();
        let store = SnapshotStore::open(dir.path(), 2).unwrap();
        let newer = store.path_of(2);
        for (what, b) in damaged(&bytes, 0, 11, &cuts) {
            std::fs::write(&newer, &b).unwrap();
            let latest = store.load_latest(ENCODER).unwrap();
            assert_eq!(latest.snapshot.map(|s| s.seq), Some(1), "{name} {what}");
            let warning = latest
                .skipped
                .first()
                .map(|w| w.to_string())
                .unwrap_or_default();
            assert!(
                warning.contains("snapshot-00000002.mmcl: snapshot file: "),
                "{name} {what}: {warning:?}"
            );
            assert!(names_the_failure(&warning), "{name} {what}: {warning}");
        }
    }
}
