#![cfg(feature = "host")]
//! Blob faults on every backend (host_support::backends: files always, S3 when
//! `MMCL_TEST_S3_URL` is set): a blob missing or damaged behind the metadata's back is a
//! clear error on read naming the bundle and where its blob lives; an S3 server that is
//! down at put records nothing, and the retry after it is back stores the bundle once.

mod host_support;

use host_support::backends;
use mmcl::host::auth::token_hash;
use mmcl::host::storage::{self, BundleMeta, Put};
use mmcl::uplink::bundle::content_hash;

fn meta(device: &str, seq: u64, bytes: &[u8]) -> BundleMeta {
    BundleMeta {
        content_hash: content_hash(bytes),
        device_id: device.into(),
        snapshot_seq: seq,
        journal_seq: seq,
        encoder_sha256: "e".repeat(64),
        created_at_ms: 1000 + seq,
        received_at_ms: 5000,
        bytes: bytes.len() as u64,
        classes: 1,
    }
}

#[test]
fn a_missing_or_damaged_blob_is_an_error_naming_the_bundle_and_its_blob() {
    let dir = tempfile::tempdir().unwrap();
    for backend in backends::backends(dir.path()) {
        let name = backend.name;
        let s = backend.open();
        s.add_token("d1", &token_hash("t"), 1).unwrap();
        let (one, two) = (b"bundle one".as_slice(), b"bundle two".as_slice());
        for (seq, bytes) in [(1, one), (2, two)] {
            assert_eq!(
                s.put_bundle(&meta("d1", seq, bytes), bytes).unwrap(),
                Put::Stored,
                "{name}"
            );
        }
        let (h1, h2) = (content_hash(one), content_hash(two));
        assert_eq!(s.bundle_bytes(&h1).unwrap().as_deref(), Some(one), "{name}");
        let blobs = backend.blob_store();

        // Damaged: other bytes under the bundle's key.
        blobs.put(&h1, b"bundle 0ne").unwrap();
        let err = s.bundle_bytes(&h1).unwrap_err().to_string();
        assert!(
            err.contains("damaged") && err.contains(&h1),
            "{name}: {err}"
        );
        assert!(
            err.contains(&blobs.location(&h1)),
            "{name}: names the blob: {err}"
        );

        // Missing: the metadata still names it.
        backend.delete_blob(&h2);
        let err = s.bundle_bytes(&h2).unwrap_err().to_string();
        assert!(
            err.contains("missing") && err.contains(&h2),
            "{name}: {err}"
        );
        assert!(err.contains(&blobs.location(&h2)), "{name}: {err}");
        assert_eq!(
            s.history("d1").unwrap().len(),
            2,
            "{name}: metadata untouched"
        );
    }
}

#[test]
fn an_s3_server_down_at_put_records_nothing_and_the_retry_stores_the_bundle_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut tested = 0;
    for backend in backends::backends(dir.path()) {
        let Some(down) = backend.with_s3_down() else {
            continue;
        };
        let name = backend.name;
        tested += 1;
        let s = backend.open();
        s.add_token("d1", &token_hash("t"), 1).unwrap();
        let bytes = b"bundle while S3 is down".as_slice();
        let m = meta("d1", 1, bytes);
        let outage = storage::open(&backend.db, Some(&down)).unwrap();
        let started = std::time::Instant::now();
        let err = outage.put_bundle(&m, bytes).unwrap_err();
        let text = mmcl::host::server::error_chain(&err);
        assert!(text.contains("put blob s3://"), "{name}: {text}");
        assert!(
            text.contains(&m.content_hash),
            "{name}: names the key: {text}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{name}: the outage answered within the retry window, not {:?}",
            started.elapsed()
        );
        // Nothing recorded: no row, no bundle counted, nothing to read.
        assert!(s.history("d1").unwrap().is_empty(), "{name}");
        assert_eq!(s.devices().unwrap()[0].bundles, 0, "{name}");
        assert_eq!(s.bundle_bytes(&m.content_hash).unwrap(), None, "{name}");

        // S3 back: the device's retry stores it, once.
        assert_eq!(s.put_bundle(&m, bytes).unwrap(), Put::Stored, "{name}");
        assert_eq!(s.put_bundle(&m, bytes).unwrap(), Put::Duplicate, "{name}");
        assert_eq!(s.history("d1").unwrap().len(), 1, "{name}");
        assert_eq!(
            s.bundle_bytes(&m.content_hash).unwrap().as_deref(),
            Some(bytes),
            "{name}"
        );

        // Down at read: an error naming the object, not a panic and not "no such bundle".
        let err = outage.bundle_bytes(&m.content_hash).unwrap_err();
        let text = mmcl::host::server::error_chain(&err);
        assert!(text.contains("get blob s3://"), "{name}: {text}");
    }
    if tested == 0 {
        eprintln!(
            "skipping the S3 outage: {} is not set",
            backends::S3_URL_VAR
        );
    }
}
