//! The embedding cache: round trip, another encoder's file, damaged files,
//! and the pinned formats (tests/data/encoder/cache_v{1,2}.embcache).

mod encode_support;
mod format_support;

use encode_support::data;
use format_support::{damaged, names_the_failure};
use mmcl::embedding::Embedding;
use mmcl::encode::cache::{CacheEntry, CacheError, EmbeddingCache, LoadStatus, Variant};
use mmcl::envelope::{self, EnvelopeError, Format};

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
    // An intact file of a later version (not a damaged one: its checksum is right).
    let bytes = std::fs::read(cache.path()).unwrap();
    let format = Format {
        name: "embedding cache",
        magic: *b"MMCLEMBC",
        legacy: &[1],
    };
    let body = &bytes[envelope::HEADER_LEN..bytes.len() - envelope::CHECKSUM_LEN];
    std::fs::write(cache.path(), envelope::seal(&format, 9, body)).unwrap();
    let err = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap_err();
    assert!(
        matches!(
            err,
            CacheError::Version {
                error: EnvelopeError::Version { found: 9, .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("embedding cache: format version 9; this build reads version 2 (and 1 in its pre-envelope layout)"),
        "{err}"
    );
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

/// The current version is pinned: writing the golden entries reproduces
/// cache_v2.embcache byte for byte, and every committed version keeps loading.
#[test]
fn golden_files_load_and_the_current_one_is_reproduced() {
    let golden = data("cache_v2.embcache");
    let dir = tempfile::tempdir().unwrap();
    let cache = filled(dir.path());
    cache.commit().unwrap();
    let written = std::fs::read(cache.path()).unwrap();
    if std::env::var_os("MMCL_BLESS").is_some() {
        std::fs::write(&golden, &written).unwrap();
    }
    let pinned = std::fs::read(&golden)
        .expect("tests/data/encoder/cache_v2.embcache (MMCL_BLESS=1 writes it)");
    assert_eq!(
        written, pinned,
        "the writer no longer produces format version 2"
    );
    for version in ["cache_v1.embcache", "cache_v2.embcache"] {
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(data(version), copy.path().join("0011223344556677.embcache")).unwrap();
        let (loaded, status) = EmbeddingCache::load(copy.path(), ENCODER, 4).unwrap();
        assert_eq!(status, LoadStatus::Loaded { entries: 3 }, "{version}");
        assert_eq!(
            loaded.entries().cloned().collect::<Vec<_>>(),
            golden_entries(),
            "{version}"
        );
    }
}

/// A flipped byte anywhere and a truncation anywhere in a golden file are refused with an
/// error naming the file, the format and what failed.
#[test]
fn damaged_golden_files_are_refused_by_name() {
    for version in ["cache_v1.embcache", "cache_v2.embcache"] {
        let bytes = std::fs::read(data(version)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0011223344556677.embcache");
        let cuts = [1, 33, bytes.len() / 2, bytes.len() - 1];
        for (what, b) in damaged(&bytes, 8, 7, &cuts) {
            std::fs::write(&path, &b).unwrap();
            let err = EmbeddingCache::load(dir.path(), ENCODER, 4).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("0011223344556677.embcache") && text.contains("embedding cache: "),
                "{version} {what}: {text}"
            );
            assert!(names_the_failure(&text), "{version} {what}: {text}");
        }
    }
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
