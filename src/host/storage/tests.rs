use super::*;

#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.db");
    let blobs: Arc<dyn BlobStore> = Arc::new(BlobDir::open(&dir.path().join("blobs")).unwrap());
    let s = SqliteStorage::open(&path, blobs.clone()).unwrap();
    assert_eq!(s.schema_version().unwrap(), sqlite::MIGRATIONS.len() as i64);
    s.add_token("d1", &[7; 32], 5).unwrap();
    drop(s);
    let s = SqliteStorage::open(&path, blobs.clone()).unwrap();
    assert_eq!(
        s.token_hashes("d1").unwrap(),
        vec![[7u8; 32]],
        "kept across reopen"
    );
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteStorage::open(&path, blobs).err().unwrap().to_string();
    assert!(err.contains("schema version 99"), "{err}");
}

#[test]
fn database_urls_name_sqlite_paths() {
    for url in ["sqlite:/x/h.db", "sqlite:///x/h.db", "/x/h.db"] {
        assert_eq!(sqlite_path(url), PathBuf::from("/x/h.db"), "{url}");
    }
}

#[test]
fn blob_paths_fan_out_by_hash_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobDir::open(dir.path()).unwrap();
    let hash = "ab".repeat(32);
    assert_eq!(blobs.get(&hash).unwrap(), None);
    blobs.put(&hash, b"x").unwrap();
    assert!(blobs.path_of(&hash).starts_with(dir.path().join("ab")));
    assert_eq!(blobs.get(&hash).unwrap(), Some(b"x".to_vec()));
}

#[test]
fn a_stored_blob_is_checked_against_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobDir::open(dir.path()).unwrap();
    let hash = crate::uplink::bundle::content_hash(b"bundle");
    let err = blobs.get_stored(&hash).unwrap_err().to_string();
    assert!(err.contains("missing") && err.contains(&hash), "{err}");
    blobs.put(&hash, b"bundle").unwrap();
    assert_eq!(blobs.get_stored(&hash).unwrap(), b"bundle");
    blobs.put(&hash, b"bundlf").unwrap();
    let err = blobs.get_stored(&hash).unwrap_err().to_string();
    assert!(err.contains("damaged") && err.contains("6 bytes"), "{err}");
    assert!(err.contains(&blobs.location(&hash)), "{err}");
}
