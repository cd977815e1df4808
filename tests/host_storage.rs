#![cfg(feature = "host")]
//! The `Storage` contract, one suite run on every backend this machine can reach: SQLite +
//! blob files always, PostgreSQL + blob files when `MMCL_TEST_PG_URL` is set (each test on a
//! scratch database of its own), and both with blobs in S3 when `MMCL_TEST_S3_URL` is set
//! (the suite prints a skip line for what is not set).

mod host_support;

use host_support::backends::{self, Backend};
use mmcl::host::auth::token_hash;
use mmcl::host::storage::{self, BundleMeta, Put, Storage};
use mmcl::uplink::bundle::content_hash;

/// Each backend to test, with a fresh, empty store (the `Backend` owns its scratch database).
fn backends(dir: &std::path::Path) -> Vec<(&'static str, Box<dyn Storage>, Backend)> {
    backends::backends(dir)
        .into_iter()
        .map(|b| (b.name, b.open(), b))
        .collect()
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
    // Real content hashes: a blob read back is checked against its hash.
    let (h1, h2) = (content_hash(b"one"), content_hash(b"two"));
    for (name, s, _backend) in backends(dir.path()) {
        s.add_token("d1", &token_hash("t"), 1).unwrap();
        assert_eq!(
            s.put_bundle(&meta("d1", 2, &h2), b"two").unwrap(),
            Put::Stored,
            "{name}"
        );
        assert_eq!(
            s.put_bundle(&meta("d1", 1, &h1), b"one").unwrap(),
            Put::Stored,
            "{name}"
        );
        assert_eq!(
            s.put_bundle(&meta("d1", 2, &h2), b"two").unwrap(),
            Put::Duplicate,
            "{name}"
        );
        let history = s.history("d1").unwrap();
        let seqs: Vec<u64> = history.iter().map(|m| m.snapshot_seq).collect();
        assert_eq!(seqs, [1, 2], "{name}: one row per hash, in time order");
        assert_eq!(history[0], meta("d1", 1, &h1), "{name}: round trip");
        assert_eq!(
            s.bundle_bytes(&h2).unwrap(),
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
    for (name, s, _backend) in backends(dir.path()) {
        let err = s.put_bundle(&meta("ghost", 1, &hash(1)), b"x").unwrap_err();
        assert!(err.to_string().contains("not registered"), "{name}: {err}");
        assert_eq!(s.bundle_bytes(&hash(1)).unwrap(), None, "{name}");
        assert!(s.devices().unwrap().is_empty(), "{name}");
    }
}

#[test]
fn devices_list_tokens_bundles_and_revocations() {
    let dir = tempfile::tempdir().unwrap();
    for (name, s, _backend) in backends(dir.path()) {
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

#[test]
fn concurrent_puts_of_one_bundle_store_it_once() {
    let dir = tempfile::tempdir().unwrap();
    for (name, s, _backend) in backends(dir.path()) {
        s.add_token("d1", &token_hash("t"), 1).unwrap();
        let s: std::sync::Arc<dyn Storage> = std::sync::Arc::from(s);
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.put_bundle(&meta("d1", 1, &hash(1)), b"one").unwrap())
            })
            .collect();
        let puts: Vec<Put> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let stored = puts.iter().filter(|p| **p == Put::Stored).count();
        assert_eq!(stored, 1, "{name}: {puts:?}");
        assert_eq!(s.history("d1").unwrap().len(), 1, "{name}");
        assert_eq!(s.devices().unwrap()[0].bundles, 1, "{name}");
    }
}

#[test]
fn a_store_reopened_keeps_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    for backend in backends::backends(dir.path()) {
        let s = backend.open();
        s.add_token("d1", &token_hash("t"), 1).unwrap();
        s.put_bundle(&meta("d1", 1, &hash(1)), b"one").unwrap();
        drop(s);
        let s = backend.open();
        let name = backend.name;
        assert_eq!(s.token_hashes("d1").unwrap(), [token_hash("t")], "{name}");
        assert_eq!(
            s.history("d1").unwrap(),
            [meta("d1", 1, &hash(1))],
            "{name}"
        );
        assert_eq!(
            s.put_bundle(&meta("d1", 1, &hash(1)), b"one").unwrap(),
            Put::Duplicate,
            "{name}"
        );
    }
}

#[test]
fn a_postgres_url_needs_a_blob_directory_and_errors_hide_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://mmcl:s3cr3t@127.0.0.1:1/mmcl";
    let err = storage::open(url, None)
        .err()
        .expect("no --blobs")
        .to_string();
    assert!(err.contains("--blobs"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    // Port 1 on loopback refuses at once: the error names the URL, masked.
    let err = storage::open(url, Some(&dir.path().into()))
        .err()
        .expect("refused");
    let text = mmcl::host::server::error_chain(&err);
    assert!(
        text.contains("postgres://mmcl:***@127.0.0.1:1/mmcl"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
}

/// The PostgreSQL backend with files for blobs, when MMCL_TEST_PG_URL names a server.
fn postgres(dir: &std::path::Path) -> Option<Backend> {
    backends::backends(dir)
        .into_iter()
        .find(|b| b.name == "postgres")
}

#[test]
fn a_postgres_schema_newer_than_this_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(backend) = postgres(dir.path()) else {
        return;
    };
    let pg = storage::PgStorage::open(&backend.db, backend.blob_store()).unwrap();
    let known = pg.schema_version().unwrap();
    assert!(known >= 1);
    drop(pg);
    let mut client = postgres::Client::connect(&backend.db, postgres::NoTls).unwrap();
    client
        .batch_execute("UPDATE mmcl_schema SET version = 99")
        .unwrap();
    drop(client);
    let err = backend.open_err();
    assert!(err.contains("schema version 99"), "{err}");
    assert!(err.contains(&format!("up to {known}")), "{err}");
}

#[test]
fn hosts_migrating_one_postgres_database_at_once_all_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(backend) = postgres(dir.path()) else {
        return;
    };
    // Several rounds, each on a fresh database: the race is in the first statements.
    for round in 0..4 {
        let scratch = backends::ScratchDb::create(&std::env::var(backends::PG_URL_VAR).unwrap());
        let hosts = 8;
        let start = std::sync::Barrier::new(hosts);
        let opened: Vec<Result<i64, String>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..hosts)
                .map(|_| {
                    let (url, blobs, start) = (&scratch.url, backend.blob_store(), &start);
                    scope.spawn(move || {
                        start.wait();
                        storage::PgStorage::open(url, blobs)
                            .and_then(|pg| pg.schema_version())
                            .map_err(|e| mmcl::host::server::error_chain(&e))
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let known = storage::PgStorage::open(&scratch.url, backend.blob_store())
            .unwrap()
            .schema_version()
            .unwrap();
        for result in opened {
            assert_eq!(result, Ok(known), "round {round}");
        }
        let mut client = postgres::Client::connect(&scratch.url, postgres::NoTls).unwrap();
        let rows: i64 = client
            .query_one("SELECT COUNT(*) FROM mmcl_schema", &[])
            .unwrap()
            .get(0);
        assert_eq!(rows, 1, "round {round}: one schema row");
    }
}
