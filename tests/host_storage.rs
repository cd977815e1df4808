#![cfg(feature = "host")]
//! The `Storage` contract, one suite run on every backend this machine can reach: SQLite +
//! blob files always; PostgreSQL is not built yet (the suite
//! says so when it runs).

use mmcl::host::auth::token_hash;
use mmcl::host::storage::{self, BundleMeta, Put, Storage};

/// Each backend to test, with a fresh, empty store.
fn backends(dir: &std::path::Path) -> Vec<(&'static str, Box<dyn Storage>)> {
    let sqlite = storage::open(
        &format!("sqlite:{}", dir.join("host.db").display()),
        Some(&dir.join("blobs")),
    )
    .expect("sqlite");
    let out: Vec<(&'static str, Box<dyn Storage>)> = vec![("sqlite", sqlite)];
    eprintln!("skipping PostgreSQL: this build has no PostgreSQL backend yet");
    out
}

fn meta(device: &str, seq: u64, hash: &str) -> BundleMeta {
    BundleMeta {
        content_hash: hash.into(),
        device_id: device.into(),
        snapshot_seq: seq,
        journal_seq: seq * 2,
        encoder_sha256: "e".repeat(64),
        created_at_ms: 1000 + seq,
        received_at_ms: 5000,
        bytes: 3,
        classes: seq as u32,
    }
}

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

#[test]
fn bundles_are_stored_once_by_hash_and_listed_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    for (name, s) in backends(dir.path()) {
        s.add_token("d1", &token_hash("t"), 1).unwrap();
        assert_eq!(
            s.put_bundle(&meta("d1", 2, &hash(2)), b"two").unwrap(),
            Put::Stored,
            "{name}"
        );
        assert_eq!(
            s.put_bundle(&meta("d1", 1, &hash(1)), b"one").unwrap(),
            Put::Stored,
            "{name}"
        );
        assert_eq!(
            s.put_bundle(&meta("d1", 2, &hash(2)), b"two").unwrap(),
            Put::Duplicate,
            "{name}"
        );
        let history = s.history("d1").unwrap();
        let seqs: Vec<u64> = history.iter().map(|m| m.snapshot_seq).collect();
        assert_eq!(seqs, [1, 2], "{name}: one row per hash, in time order");
        assert_eq!(history[0], meta("d1", 1, &hash(1)), "{name}: round trip");
        assert_eq!(
            s.bundle_bytes(&hash(2)).unwrap(),
            Some(b"two".to_vec()),
            "{name}"
        );
        assert_eq!(s.bundle_bytes(&hash(9)).unwrap(), None, "{name}");
        assert!(s.history("nobody").unwrap().is_empty(), "{name}");
    }
}

#[test]
fn an_unregistered_device_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, s) in backends(dir.path()) {
        let err = s.put_bundle(&meta("ghost", 1, &hash(1)), b"x").unwrap_err();
        assert!(err.to_string().contains("not registered"), "{name}: {err}");
        assert_eq!(s.bundle_bytes(&hash(1)).unwrap(), None, "{name}");
        assert!(s.devices().unwrap().is_empty(), "{name}");
    }
}

#[test]
fn devices_list_tokens_bundles_and_revocations() {
    let dir = tempfile::tempdir().unwrap();
    for (name, s) in backends(dir.path()) {
        s.add_token("b", &token_hash("b1"), 10).unwrap();
        s.add_token("a", &token_hash("a1"), 11).unwrap();
        s.add_token("a", &token_hash("a2"), 12).unwrap();
        s.put_bundle(&meta("a", 4, &hash(4)), b"x").unwrap();
        assert_eq!(s.revoke_tokens("b", 20).unwrap(), 1, "{name}");
        assert_eq!(
            s.revoke_tokens("b", 21).unwrap(),
            0,
            "{name}: already revoked"
        );
        let devices = s.devices().unwrap();
        let rows: Vec<(String, u32, u64, Option<u64>)> = devices
            .iter()
            .map(|d| {
                (
                    d.device_id.clone(),
                    d.active_tokens,
                    d.bundles,
                    d.last_bundle_at_ms,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [("a".into(), 2, 1, Some(1004)), ("b".into(), 0, 0, None)],
            "{name}"
        );
        assert_eq!(s.token_hashes("a").unwrap().len(), 2, "{name}");
        assert!(s.token_hashes("b").unwrap().is_empty(), "{name}");
    }
}
