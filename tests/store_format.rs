//! The snapshot file format pinned by golden files: `tests/data/store/snapshot_v1.mmcl` (format
//! version 1, written by the store before the envelope) keeps loading.

use std::path::PathBuf;

/// The encoder digest the golden snapshot names.
const ENCODER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(path)
}

#[test]
fn golden_version_1_snapshot_loads() {
    let golden = data("store/snapshot_v1.mmcl");
    let learner = std::fs::read(data("learn/proto.snap")).expect("learn/proto.snap");
    if std::env::var_os("MMCL_BLESS").is_some() {
        std::fs::write(&golden, mmcl::store::encode_snapshot(ENCODER, &learner)).expect("bless");
    }
    let bytes = std::fs::read(&golden).expect("tests/data/store/snapshot_v1.mmcl");
    let (header, payload) = mmcl::store::decode_snapshot(&golden, &bytes).expect("decodes");
    assert_eq!((header.version, header.encoder_sha256.as_str()), (1, ENCODER));
    assert_eq!(payload, learner);
}
