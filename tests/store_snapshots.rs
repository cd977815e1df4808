//! The snapshot store from outside: commit and recovery, strict names (a stray is reported
//! and left alone), the sequence never wraps, pruning never deletes the newest valid snapshot
//! or a file the store did not write, and recovery skips damaged snapshots with a warning but
//! refuses another encoder's or a newer version's.

use mmcl::envelope::{self, EnvelopeError, Format};
use mmcl::store::{Sections, Snapshot, SnapshotStore, StoreError};
use std::path::Path;

const SHA: &str = "abababababababababababababababababababababababababababababababab";
const OTHER: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

fn snapshot(tag: u8) -> Snapshot {
    Snapshot {
        encoder_sha256: SHA.into(),
        journal_seq: u64::from(tag),
        sections: Sections::new().with("learner", vec![tag; 10]),
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn commit_then_load_latest_keeps_the_newest_few() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 2).unwrap();
    assert_eq!(store.load_latest(SHA).unwrap().snapshot, None);
    for tag in 1..=4 {
        let commit = store.commit(&snapshot(tag)).unwrap();
        assert_eq!(commit.seq, u64::from(tag));
    }
    assert_eq!(
        names(dir.path()),
        ["snapshot-00000003.mmcl", "snapshot-00000004.mmcl"]
    );
    let latest = store.load_latest(SHA).unwrap();
    let stored = latest.snapshot.unwrap();
    assert_eq!((stored.seq, stored.version), (4, 2));
    assert_eq!(stored.snapshot, snapshot(4));
}

/// Regression: a stray `snapshot-1.mmcl` beside padded names made every later commit fail
/// ("remove old snapshot …: No such file or directory").
#[test]
fn a_stray_unpadded_name_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 1).unwrap();
    std::fs::write(dir.path().join("snapshot-1.mmcl"), b"not mine").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    for tag in 1..=3 {
        let commit = store.commit(&snapshot(tag)).unwrap();
        assert_eq!(
            commit.strays,
            vec![
                dir.path().join("notes.txt"),
                dir.path().join("snapshot-1.mmcl")
            ]
        );
    }
    assert_eq!(
        names(dir.path()),
        ["notes.txt", "snapshot-00000003.mmcl", "snapshot-1.mmcl"]
    );
    let latest = store.load_latest(SHA).unwrap();
    assert_eq!(latest.snapshot.unwrap().seq, 3);
    assert_eq!(latest.strays.len(), 2);
}

/// Regression: `snapshot-18446744073709551615.mmcl` made the sequence wrap to 0, and pruning
/// then deleted a valid snapshot. Now the next commit is an error naming the file, and
/// nothing is deleted.
#[test]
fn the_sequence_never_wraps() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 1).unwrap();
    store.commit(&snapshot(1)).unwrap();
    let last = dir.path().join("snapshot-18446744073709551615.mmcl");
    std::fs::write(&last, b"garbage").unwrap();
    let err = store.commit(&snapshot(2)).unwrap_err();
    assert!(
        matches!(err, StoreError::SequenceExhausted { ref path, seq: u64::MAX } if *path == last),
        "{err}"
    );
    assert!(err.to_string().contains("18446744073709551615"), "{err}");
    assert_eq!(
        names(dir.path()),
        [
            "snapshot-00000001.mmcl",
            "snapshot-18446744073709551615.mmcl"
        ]
    );
    // The damaged maximum is skipped by recovery, which still finds snapshot 1.
    let latest = store.load_latest(SHA).unwrap();
    assert_eq!(latest.snapshot.unwrap().seq, 1);
    assert_eq!(latest.skipped.len(), 1);
}

#[test]
fn pruning_keeps_the_newest_valid_snapshots_and_leaves_newer_damage_alone() {
    let dir = tempfile::tempdir().unwrap();
    let three = SnapshotStore::open(dir.path(), 3).unwrap();
    for tag in 1..=3 {
        three.commit(&snapshot(tag)).unwrap();
    }
    let store = SnapshotStore::open(dir.path(), 2).unwrap();
    // Snapshot 3 damaged: the newest valid ones are now 4 (after the commit) and 2.
    std::fs::write(store.path_of(3), b"torn").unwrap();
    let commit = store.commit(&snapshot(4)).unwrap();
    assert_eq!(commit.pruned, vec![store.path_of(1)]);
    assert_eq!(
        names(dir.path()),
        [
            "snapshot-00000002.mmcl",
            "snapshot-00000003.mmcl",
            "snapshot-00000004.mmcl"
        ]
    );
    // Keeping one: what is older than the newest valid snapshot goes, damaged or not.
    let one = SnapshotStore::open(dir.path(), 1).unwrap();
    std::fs::write(one.path_of(6), b"torn too").unwrap();
    let commit = one.commit(&snapshot(7)).unwrap();
    assert_eq!((commit.seq, commit.pruned.len()), (7, 4));
    assert_eq!(names(dir.path()), ["snapshot-00000007.mmcl"]);
}

#[test]
fn a_damaged_newer_snapshot_is_skipped_with_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    store.commit(&snapshot(1)).unwrap();
    store.commit(&snapshot(2)).unwrap();
    let newest = store.path_of(2);
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() - 5]).unwrap();
    let latest = store.load_latest(SHA).unwrap();
    assert_eq!(latest.snapshot.unwrap().snapshot, snapshot(1));
    let warning = latest.skipped[0].to_string();
    assert!(
        warning.starts_with(&format!(
            "skipped damaged snapshot {}: snapshot file: body length",
            newest.display()
        )),
        "{warning}"
    );
}

#[test]
fn another_encoders_snapshot_is_refused_naming_both_digests() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    store.commit(&snapshot(1)).unwrap();
    let err = store.load_latest(OTHER).unwrap_err();
    assert!(matches!(err, StoreError::OtherEncoder { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(SHA) && text.contains(OTHER), "{text}");
    let bad = Snapshot {
        encoder_sha256: "xyz".into(),
        ..snapshot(1)
    };
    assert!(matches!(store.commit(&bad), Err(StoreError::EncoderId(_))));
}

/// An intact snapshot of a version this build does not know is newer than this build:
/// loading an older one instead would silently drop what it holds.
#[test]
fn a_newer_format_version_is_refused_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    store.commit(&snapshot(1)).unwrap();
    let format = Format {
        name: "snapshot file",
        magic: *b"MMCLSNAP",
        legacy: &[1],
    };
    std::fs::write(store.path_of(2), envelope::seal(&format, 3, b"future body")).unwrap();
    let err = store.load_latest(SHA).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Unreadable {
                error: EnvelopeError::Version { found: 3, .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("snapshot-00000002.mmcl: snapshot file: format version 3"));
}
