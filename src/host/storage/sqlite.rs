//! `SqliteStorage`: metadata in one SQLite database (rusqlite, SQLite bundled), bundle
//! bytes in a `BlobStore` (files or S3). The schema is versioned by `PRAGMA user_version` and brought up to
//! date by `MIGRATIONS` in one transaction per step when the database is opened; a database
//! newer than this build is refused, not guessed at.

use super::{from_sql, to_sql, BlobStore, BundleMeta, DeviceSummary, Put, Storage, StorageError};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// Schema steps: `MIGRATIONS[i]` takes version `i` to `i + 1`. Append, never edit.
pub const MIGRATIONS: &[&str] = &[
    // 1: devices, hashed tokens, bundle metadata.
    "CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        registered_at_ms INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id),
        token_sha256 BLOB NOT NULL UNIQUE,
        created_at_ms INTEGER NOT NULL,
        revoked_at_ms INTEGER
    );
    CREATE TABLE bundles (
        content_hash TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id),
        snapshot_seq INTEGER NOT NULL,
        journal_seq INTEGER NOT NULL,
        encoder_sha256 TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        classes INTEGER NOT NULL
    );
    CREATE INDEX bundles_by_device ON bundles (device_id, created_at_ms, snapshot_seq);",
];

/// SQLite metadata + a blob store (see the module docs).
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    blobs: Arc<dyn BlobStore>,
}

fn db(action: &'static str) -> impl FnOnce(rusqlite::Error) -> StorageError {
    move |e| StorageError::Database {
        action,
        source: Box::new(e),
    }
}

impl SqliteStorage {
    /// Opens (creating) the database at `path` and migrates it.
    pub fn open(path: &Path, blobs: Arc<dyn BlobStore>) -> Result<SqliteStorage, StorageError> {
        let mut conn = Connection::open(path).map_err(db("open"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db("set busy timeout"))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .map_err(db("set pragmas"))?;
        migrate(&mut conn)?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            blobs,
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StorageError> {
        user_version(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-statement leaves SQLite's own state consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn user_version(conn: &Connection) -> Result<i64, StorageError> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db("read schema version"))
}

/// Applies the migrations after the database's version, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let known = MIGRATIONS.len() as i64;
    let found = user_version(conn)?;
    if found > known {
        return Err(StorageError::SchemaTooNew { found, known });
    }
    for (at, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction().map_err(db("begin migration"))?;
        tx.execute_batch(sql).map_err(db("migrate schema"))?;
        tx.pragma_update(None, "user_version", at as i64 + 1)
            .map_err(db("record schema version"))?;
        tx.commit().map_err(db("commit migration"))?;
    }
    Ok(())
}

fn meta_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BundleMeta> {
    Ok(BundleMeta {
        content_hash: r.get(0)?,
        device_id: r.get(1)?,
        snapshot_seq: from_sql(r.get(2)?),
        journal_seq: from_sql(r.get(3)?),
        encoder_sha256: r.get(4)?,
        created_at_ms: from_sql(r.get(5)?),
        received_at_ms: from_sql(r.get(6)?),
        bytes: from_sql(r.get(7)?),
        classes: u32::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
    })
}

const META_COLUMNS: &str = "content_hash, device_id, snapshot_seq, journal_seq, encoder_sha256, \
                            created_at_ms, received_at_ms, bytes, classes";

impl Storage for SqliteStorage {
    fn add_token(&self, device: &str, hash: &[u8; 32], at_ms: u64) -> Result<(), StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(db("begin"))?;
        tx.execute(
            "INSERT OR IGNORE INTO devices (id, registered_at_ms) VALUES (?1, ?2)",
            params![device, to_sql(at_ms)],
        )
        .map_err(db("register device"))?;
        tx.execute(
            "INSERT INTO tokens (device_id, token_sha256, created_at_ms) VALUES (?1, ?2, ?3)",
            params![device, &hash[..], to_sql(at_ms)],
        )
        .map_err(db("add token"))?;
        tx.commit().map_err(db("commit token"))
    }

    fn revoke_tokens(&self, device: &str, at_ms: u64) -> Result<u32, StorageError> {
        let n = self
            .lock()
            .execute(
                "UPDATE tokens SET revoked_at_ms = ?2 WHERE device_id = ?1 AND revoked_at_ms IS NULL",
                params![device, to_sql(at_ms)],
            )
            .map_err(db("revoke tokens"))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn token_hashes(&self, device: &str) -> Result<Vec<[u8; 32]>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT token_sha256 FROM tokens WHERE device_id = ?1 AND revoked_at_ms IS NULL",
            )
            .map_err(db("prepare token query"))?;
        let rows = stmt
            .query_map(params![device], |r| r.get::<_, Vec<u8>>(0))
            .map_err(db("read tokens"))?;
        let mut out = Vec::new();
        for row in rows {
            // A stored hash of another length cannot match any token: skip it.
            if let Ok(hash) = <[u8; 32]>::try_from(row.map_err(db("read token"))?) {
                out.push(hash);
            }
        }
        Ok(out)
    }

    fn put_bundle(&self, meta: &BundleMeta, bytes: &[u8]) -> Result<Put, StorageError> {
        let conn = self.lock();
        let known: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM bundles WHERE content_hash = ?1",
                params![meta.content_hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("look up bundle"))?;
        if known.is_some() {
            return Ok(Put::Duplicate);
        }
        let registered: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM devices WHERE id = ?1",
                params![meta.device_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("look up device"))?;
        if registered.is_none() {
            return Err(StorageError::UnknownDevice {
                device: meta.device_id.clone(),
            });
        }
        // The blob first: metadata never names a blob that is not stored.
        self.blobs.put(&meta.content_hash, bytes)?;
        conn.execute(
            &format!(
                "INSERT INTO bundles ({META_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                meta.content_hash,
                meta.device_id,
                to_sql(meta.snapshot_seq),
                to_sql(meta.journal_seq),
                meta.encoder_sha256,
                to_sql(meta.created_at_ms),
                to_sql(meta.received_at_ms),
                to_sql(meta.bytes),
                i64::from(meta.classes),
            ],
        )
        .map_err(db("insert bundle"))?;
        Ok(Put::Stored)
    }

    fn devices(&self) -> Result<Vec<DeviceSummary>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT d.id, d.registered_at_ms,
                    (SELECT COUNT(*) FROM tokens t WHERE t.device_id = d.id AND t.revoked_at_ms IS NULL),
                    (SELECT COUNT(*) FROM bundles b WHERE b.device_id = d.id),
                    (SELECT MAX(created_at_ms) FROM bundles b WHERE b.device_id = d.id)
                 FROM devices d ORDER BY d.id",
            )
            .map_err(db("prepare device query"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DeviceSummary {
                    device_id: r.get(0)?,
                    registered_at_ms: from_sql(r.get(1)?),
                    active_tokens: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    bundles: from_sql(r.get(3)?),
                    last_bundle_at_ms: r.get::<_, Option<i64>>(4)?.map(from_sql),
                })
            })
            .map_err(db("list devices"))?;
        rows.collect::<Result<_, _>>().map_err(db("read device"))
    }

    fn history(&self, device: &str) -> Result<Vec<BundleMeta>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM bundles WHERE device_id = ?1
                 ORDER BY created_at_ms, snapshot_seq, rowid"
            ))
            .map_err(db("prepare history query"))?;
        let rows = stmt
            .query_map(params![device], meta_from_row)
            .map_err(db("list bundles"))?;
        rows.collect::<Result<_, _>>()
            .map_err(db("read bundle row"))
    }

    fn bundle_bytes(&self, hash: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let known: Option<i64> = self
            .lock()
            .query_row(
                "SELECT 1 FROM bundles WHERE content_hash = ?1",
                params![hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("look up bundle"))?;
        if known.is_none() {
            return Ok(None);
        }
        self.blobs.get_stored(hash).map(Some)
    }
}
