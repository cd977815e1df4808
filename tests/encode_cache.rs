//! The embedding cache: round trip, another encoder's file, damaged files,
//! and the pinned version-1 format (tests/data/encoder/cache_v1.embcache).

mod encode_support;

use encode_support::data;
use mmcl::embedding::Embedding;
use mmcl::encode::cache::{CacheEntry, CacheError, EmbeddingCache, LoadStatus, Variant};

const ENCODER: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const OTHER: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

fn entry(clip: &str, variant: Variant, seed: f32) -> CacheEntry {
    let values = vec![seed, -seed / 2.0, 0.25, 1.0 / (seed + 3.0)];
    CacheEntry {
        clip: clip.into(),
        label: 7,
        split: "train".into(),
        variant,
        embedding: Embedding::new(values, 4).unwrap(),
    }
}

/// The entries the golden file holds.
fn golden_entries() -> Vec<CacheEntry> {
    vec![
        entry("1_upstairs/1_upstairs_1_1", Variant::All, 1.0),
        entry("1_upstairs/1_upstairs_1_1", Variant::VideoAbsent, 2.0),
        CacheEntry {
            label: 31,
            split: "test".into(),
            ..entry("32_watch_TV/32_watch_TV_2_5", Variant::ImuAbsent, 3.0)
        },
    ]
}

fn filled(dir: &std::path::Path) -> EmbeddingCache {
    let (mut cache, status) = EmbeddingCache::load(dir, ENCODER, 4).unwrap();
    assert_eq!(status, LoadStatus::New);
    for e in golden_entries() {
        cache.insert(e).unwrap();
    }
    cache
}

#[test]
fn round_trip_keeps_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path()).commit().unwrap();
    let (loaded, status) = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap();
    assert_eq!(status, LoadStatus::Loaded { entries: 3 });
    assert_eq!(loaded.path(), dir.path().join("0011223344556677.embcache"));
    let want = golden_entries();
    assert_eq!(loaded.entries().cloned().collect::<Vec<_>>(), want);
    assert_eq!(
        loaded.get("1_upstairs/1_upstairs_1_1", Variant::VideoAbsent),
        Some(&want[1])
    );
    assert_eq!(
        loaded.get("1_upstairs/1_upstairs_1_1", Variant::ImuAbsent),
        None
    );
    assert!(!dir.path().join("0011223344556677.embcache.tmp").exists());
}

#[test]
fn a_cache_of_another_encoder_is_replaced_not_used() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path()).commit().unwrap();
    // Same 16-digit prefix file name, different full sha256 in the header.
    let other = format!("{}{}", &ENCODER[..16], &OTHER[16..]);
    let (cache, status) = EmbeddingCache::load(dir.path(), &other, 4).unwrap();
    assert!(cache.is_empty());
    let LoadStatus::Replaced { reason } = status else {
        panic!("{status:?}")
    };
    assert_eq!(
        reason,
        format!("cache built by encoder {ENCODER}, current encoder {other}: re-encoding")
    );
    cache.commit().unwrap();
    let (_, status) = EmbeddingCache::load(dir.path(), &other, 4).unwrap();
    assert_eq!(status, LoadStatus::Loaded { entries: 0 });
}

#[test]
fn a_truncated_or_altered_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled(dir.path());
    cache.commit().unwrap();
    let bytes = std::fs::read(cache.path()).unwrap();
    for cut in [bytes.len() - 1, bytes.len() / 2, 70, 30] {
        std::fs::write(cache.path(), &bytes[..cut]).unwrap();
        let err = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap_err();
        assert!(
            matches!(err, CacheError::Corrupt { .. }),
            "cut {cut}: {err}"
        );
        assert!(
            err.to_string().contains("0011223344556677.embcache"),
            "{err}"
        );
    }
    let mut flipped = bytes.clone();
    flipped[80] ^= 1;
    std::fs::write(cache.path(), &flipped).unwrap();
    let err = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
}

#[test]
fn wrong_dimension_magic_and_version_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled(dir.path());
    cache.commit().unwrap();
    let err = EmbeddingCache::load(dir.path(), ENCODER, 5).unwrap_err();
    assert!(
        matches!(
            err,
            CacheError::Dim {
                expected: 5,
                got: 4,
                ..
            }
        ),
        "{err}"
    );
    let mut bytes = std::fs::read(cache.path()).unwrap();
    bytes[8] = 9;
    std::fs::write(cache.path(), &bytes).unwrap();
    let err = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap_err();
    assert!(matches!(err, CacheError::Version { got: 9, .. }), "{err}");
    std::fs::write(cache.path(), b"hello").unwrap();
    assert!(matches!(
        EmbeddingCache::load(dir.path(), ENCODER, 4),
        Err(CacheError::NotACache { .. })
    ));
}

#[test]
fn entries_of_another_dimension_and_bad_encoder_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cache, _) = EmbeddingCache::load(dir.path(), ENCODER, 3).unwrap();
    let err = cache.insert(entry("a/b", Variant::All, 1.0)).unwrap_err();
    assert!(
        err.to_string().contains("dimension 4, the cache holds 3"),
        "{err}"
    );
    assert!(matches!(
        EmbeddingCache::load(dir.path(), "abc", 3),
        Err(CacheError::EncoderId(_))
    ));
}

/// Version 1 is pinned: the committed file must keep loading, and writing the
/// same entries must reproduce it byte for byte.
#[test]
fn golden_version_1_file_loads_and_is_reproduced() {
    let golden = data("cache_v1.embcache");
    let dir = tempfile::tempdir().unwrap();
    let cache = filled(dir.path());
    cache.commit().unwrap();
    let written = std::fs::read(cache.path()).unwrap();
    if std::env::var_os("MMCL_BLESS").is_some() {
        std::fs::write(&golden, &written).unwrap();
    }
    let pinned = std::fs::read(&golden)
        .expect("tests/data/encoder/cache_v1.embcache (MMCL_BLESS=1 writes it)");
    assert_eq!(
        written, pinned,
        "the writer no longer produces format version 1"
    );
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(&golden, copy.path().join("0011223344556677.embcache")).unwrap();
    let (loaded, status) = EmbeddingCache::load(copy.path(), ENCODER, 4).unwrap();
    assert_eq!(status, LoadStatus::Loaded { entries: 3 });
    assert_eq!(
        loaded.entries().cloned().collect::<Vec<_>>(),
        golden_entries()
    );
}

proptest::proptest! {
    /// Whatever is inserted and committed loads back unchanged.
    #[test]
    fn any_entries_round_trip(
        entries in proptest::collection::vec(
            ("[a-z_/0-9]{1,40}", 0u32..32, "(train|val|test)", 0usize..3, proptest::collection::vec(-1e3f32..1e3, 4)),
            0..20,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (mut cache, _) = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap();
        for (clip, label, split, v, values) in entries {
            let embedding = Embedding::new(values, 4).unwrap();
            cache.insert(CacheEntry { clip, label, split, variant: Variant::ALL[v], embedding }).unwrap();
        }
        cache.commit().unwrap();
        let (loaded, _) = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap();
        let want: Vec<_> = cache.entries().cloned().collect();
        proptest::prop_assert_eq!(loaded.entries().cloned().collect::<Vec<_>>(), want);
    }
}
