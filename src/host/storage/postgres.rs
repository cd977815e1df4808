//! `PgStorage`: metadata in PostgreSQL (the blocking `postgres` client), bundle bytes in a
//! `BlobStore` (files or S3). The schema is versioned by the one-row table `mmcl_schema`
//! and brought up to date by `MIGRATIONS` when the storage is opened, one transaction per
//! step under an advisory lock taken before anything else (the schema table is created
//! under it too) so two hosts starting at once migrate once; a database newer than this
//! build is refused, not guessed at. Several hosts may share one database: every write is
//! one statement or one transaction, and a bundle stored by two hosts at once is stored
//! once (`ON CONFLICT DO NOTHING`).

use super::pg_url::redact;
use super::{from_sql, to_sql, BlobStore, BundleMeta, DeviceSummary, Put, Storage, StorageError};
use postgres::{Client, Config, GenericClient, NoTls, Row};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Schema steps: `MIGRATIONS[i]` takes version `i` to `i + 1`. Append, never edit.
pub const MIGRATIONS: &[&str] = &[
    // 1: devices, hashed tokens, bundle metadata (`stored_order` breaks ties in history
    // order the way SQLite's rowid does).
    "CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        registered_at_ms BIGINT NOT NULL
    );
    CREATE TABLE tokens (
        id BIGSERIAL PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id),
        token_sha256 BYTEA NOT NULL UNIQUE,
        created_at_ms BIGINT NOT NULL,
        revoked_at_ms BIGINT
    );
    CREATE TABLE bundles (
        content_hash TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id),
        snapshot_seq BIGINT NOT NULL,
        journal_seq BIGINT NOT NULL,
        encoder_sha256 TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        received_at_ms BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        classes BIGINT NOT NULL,
        stored_order BIGSERIAL NOT NULL
    );
    CREATE INDEX bundles_by_device ON bundles (device_id, created_at_ms, snapshot_seq);",
];

/// Connections per storage: the server's blocking pool calls storage from several threads,
/// and each call holds one connection for its statements.
const CONNECTIONS: usize = 4;

/// Taken (transaction-scoped) while migrating; an arbitrary constant ("mmcl" in ASCII).
const MIGRATION_LOCK: i64 = 0x6d6d_636c;

/// PostgreSQL metadata + a blob store (see the module docs).
pub struct PgStorage {
    config: Config,
    /// The URL with its password masked, for errors.
    url: String,
    /// `None` until connected, and after a connection was found closed.
    pool: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
    blobs: Arc<dyn BlobStore>,
}

/// A postgres error as one message: its `Display` already appends its cause, which
/// `source()` would repeat.
fn db(action: &'static str) -> impl Fn(postgres::Error) -> StorageError + Copy {
    move |e| StorageError::Database {
        action,
        source: e.to_string().into(),
    }
}

impl PgStorage {
    /// Connects to the database `url` names and migrates it.
    pub fn open(url: &str, blobs: Arc<dyn BlobStore>) -> Result<PgStorage, StorageError> {
        let shown = redact(url);
        let mut config: Config = url
            .parse()
            .map_err(|e: postgres::Error| StorageError::Url {
                url: shown.clone(),
                why: e.to_string(),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let storage = PgStorage {
            config,
            url: shown,
            pool: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            blobs,
        };
        storage.with_client(migrate)?;
        Ok(storage)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StorageError> {
        self.with_client(schema_version)
    }

    /// Runs `f` on one pooled connection, (re)connecting it first when needed.
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let at = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len().max(1);
        let Some(slot) = self.pool.get(at) else {
            return Err(self.connect_error("no connection slot".into()));
        };
        let mut slot = lock(slot);
        if slot.as_ref().is_none_or(Client::is_closed) {
            // A restarted database server closes connections; the next call reconnects.
            let client = self
                .config
                .connect(NoTls)
                .map_err(|e| self.connect_error(e.to_string().into()))?;
            *slot = Some(client);
        }
        match slot.as_mut() {
            Some(client) => f(client),
            None => Err(self.connect_error("connection lost".into())),
        }
    }

    fn connect_error(&self, source: Box<dyn std::error::Error + Send + Sync>) -> StorageError {
        StorageError::Connect {
            url: self.url.clone(),
            source,
        }
    }
}

fn lock(slot: &Mutex<Option<Client>>) -> MutexGuard<'_, Option<Client>> {
    // A panic mid-call leaves at worst an aborted transaction, which the server rolls back.
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for PgStorage {
    /// A `postgres::Client` closes through its own runtime, which panics inside an async
    /// context (the server drops its storage there): close the connections on a plain thread.
    fn drop(&mut self) {
        let clients: Vec<Client> = self
            .pool
            .iter_mut()
            .filter_map(|slot| slot.get_mut().unwrap_or_else(|p| p.into_inner()).take())
            .collect();
        if clients.is_empty() {
            return;
        }
        if let Ok(closer) = std::thread::Builder::new()
            .name("mmcl-pg-close".into())
            .spawn(move || drop(clients))
        {
            let _ = closer.join();
        }
    }
}

fn schema_version(client: &mut impl GenericClient) -> Result<i64, StorageError> {
    let row = client
        .query_opt("SELECT to_regclass('mmcl_schema') IS NOT NULL", &[])
        .map_err(db("look up schema table"))?;
    if !row.is_some_and(|r| r.get::<_, bool>(0)) {
        return Ok(0);
    }
    let row = client
        .query_opt("SELECT version FROM mmcl_schema", &[])
        .map_err(db("read schema version"))?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// Applies the migrations after the database's version, each in its own transaction.
fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let known = MIGRATIONS.len() as i64;
    for (at, sql) in MIGRATIONS.iter().enumerate() {
        let mut tx = client.transaction().map_err(db("begin migration"))?;
        // The lock before anything else, the schema table's creation included: two
        // hosts creating it at once race in the catalog (a unique violation on
        // pg_type), `IF NOT EXISTS` notwithstanding.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(db("lock for migration"))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS mmcl_schema (version BIGINT NOT NULL)")
            .map_err(db("create schema table"))?;
        let found = schema_version(&mut tx)?;
        if found > known {
            return Err(StorageError::SchemaTooNew { found, known });
        }
        if found > at as i64 {
            continue;
        }
        tx.batch_execute(sql).map_err(db("migrate schema"))?;
        tx.batch_execute("DELETE FROM mmcl_schema")
            .map_err(db("record schema version"))?;
        tx.execute(
            "INSERT INTO mmcl_schema (version) VALUES ($1)",
            &[&(at as i64 + 1)],
        )
        .map_err(db("record schema version"))?;
        tx.commit().map_err(db("commit migration"))?;
    }
    let found = schema_version(client)?;
    if found > known {
        return Err(StorageError::SchemaTooNew { found, known });
    }
    Ok(())
}

fn meta_from_row(r: &Row) -> Result<BundleMeta, StorageError> {
    let read = db("read bundle row");
    Ok(BundleMeta {
        content_hash: r.try_get(0).map_err(read)?,
        device_id: r.try_get(1).map_err(read)?,
        snapshot_seq: from_sql(r.try_get(2).map_err(read)?),
        journal_seq: from_sql(r.try_get(3).map_err(read)?),
        encoder_sha256: r.try_get(4).map_err(read)?,
        created_at_ms: from_sql(r.try_get(5).map_err(read)?),
        received_at_ms: from_sql(r.try_get(6).map_err(read)?),
        bytes: from_sql(r.try_get(7).map_err(read)?),
        classes: u32::try_from(r.try_get::<_, i64>(8).map_err(read)?).unwrap_or(0),
    })
}

const META_COLUMNS: &str = "content_hash, device_id, snapshot_seq, journal_seq, encoder_sha256, \
                            created_at_ms, received_at_ms, bytes, classes";

fn is_stored(client: &mut Client, hash: &str) -> Result<bool, StorageError> {
    let row = client
        .query_opt("SELECT 1 FROM bundles WHERE content_hash = $1", &[&hash])
        .map_err(db("look up bundle"))?;
    Ok(row.is_some())
}

fn insert_bundle(client: &mut Client, meta: &BundleMeta) -> Result<u64, StorageError> {
    client
        .execute(
            &format!(
                "INSERT INTO bundles ({META_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (content_hash) DO NOTHING"
            ),
            &[
                &meta.content_hash,
                &meta.device_id,
                &to_sql(meta.snapshot_seq),
                &to_sql(meta.journal_seq),
                &meta.encoder_sha256,
                &to_sql(meta.created_at_ms),
                &to_sql(meta.received_at_ms),
                &to_sql(meta.bytes),
                &i64::from(meta.classes),
            ],
        )
        .map_err(db("insert bundle"))
}

impl Storage for PgStorage {
    fn add_token(&self, device: &str, hash: &[u8; 32], at_ms: u64) -> Result<(), StorageError> {
        self.with_client(|client| {
            let mut tx = client.transaction().map_err(db("begin"))?;
            tx.execute(
                "INSERT INTO devices (id, registered_at_ms) VALUES ($1, $2)
                 ON CONFLICT (id) DO NOTHING",
                &[&device, &to_sql(at_ms)],
            )
            .map_err(db("register device"))?;
            tx.execute(
                "INSERT INTO tokens (device_id, token_sha256, created_at_ms) VALUES ($1, $2, $3)",
                &[&device, &&hash[..], &to_sql(at_ms)],
            )
            .map_err(db("add token"))?;
            tx.commit().map_err(db("commit token"))
        })
    }

    fn revoke_tokens(&self, device: &str, at_ms: u64) -> Result<u32, StorageError> {
        let n = self.with_client(|client| {
            client
                .execute(
                    "UPDATE tokens SET revoked_at_ms = $2
                     WHERE device_id = $1 AND revoked_at_ms IS NULL",
                    &[&device, &to_sql(at_ms)],
                )
                .map_err(db("revoke tokens"))
        })?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn token_hashes(&self, device: &str) -> Result<Vec<[u8; 32]>, StorageError> {
        let rows = self.with_client(|client| {
            client
                .query(
                    "SELECT token_sha256 FROM tokens
                     WHERE device_id = $1 AND revoked_at_ms IS NULL ORDER BY id",
                    &[&device],
                )
                .map_err(db("read tokens"))
        })?;
        // A stored hash of another length (or type) cannot match any token: skip it.
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<_, Vec<u8>>(0).ok())
            .filter_map(|h| <[u8; 32]>::try_from(h).ok())
            .collect())
    }

    fn put_bundle(&self, meta: &BundleMeta, bytes: &[u8]) -> Result<Put, StorageError> {
        self.with_client(|client| {
            if is_stored(client, &meta.content_hash)? {
                return Ok(Put::Duplicate);
            }
            let registered = client
                .query_opt("SELECT 1 FROM devices WHERE id = $1", &[&meta.device_id])
                .map_err(db("look up device"))?;
            if registered.is_none() {
                return Err(StorageError::UnknownDevice {
                    device: meta.device_id.clone(),
                });
            }
            // The blob first: metadata never names a blob that is not stored.
            self.blobs.put(&meta.content_hash, bytes)?;
            // 0 rows: another host stored the same bundle since the look-up.
            match insert_bundle(client, meta)? {
                0 => Ok(Put::Duplicate),
                _ => Ok(Put::Stored),
            }
        })
    }

    fn devices(&self) -> Result<Vec<DeviceSummary>, StorageError> {
        let rows = self.with_client(|client| {
            client
                .query(
                    "SELECT d.id, d.registered_at_ms,
                        (SELECT COUNT(*) FROM tokens t
                         WHERE t.device_id = d.id AND t.revoked_at_ms IS NULL),
                        (SELECT COUNT(*) FROM bundles b WHERE b.device_id = d.id),
                        (SELECT MAX(created_at_ms) FROM bundles b WHERE b.device_id = d.id)
                     FROM devices d ORDER BY d.id COLLATE \"C\"",
                    &[],
                )
                .map_err(db("list devices"))
        })?;
        rows.iter().map(device_from_row).collect()
    }

    fn history(&self, device: &str) -> Result<Vec<BundleMeta>, StorageError> {
        let rows = self.with_client(|client| {
            client
                .query(
                    &format!(
                        "SELECT {META_COLUMNS} FROM bundles WHERE device_id = $1
                         ORDER BY created_at_ms, snapshot_seq, stored_order"
                    ),
                    &[&device],
                )
                .map_err(db("list bundles"))
        })?;
        rows.iter().map(meta_from_row).collect()
    }

    fn bundle_bytes(&self, hash: &str) -> Result<Option<Vec<u8>>, StorageError> {
        if !self.with_client(|client| is_stored(client, hash))? {
            return Ok(None);
        }
        self.blobs.get_stored(hash).map(Some)
    }
}

fn device_from_row(r: &Row) -> Result<DeviceSummary, StorageError> {
    let read = db("read device");
    Ok(DeviceSummary {
        device_id: r.try_get(0).map_err(read)?,
        registered_at_ms: from_sql(r.try_get(1).map_err(read)?),
        active_tokens: u32::try_from(r.try_get::<_, i64>(2).map_err(read)?).unwrap_or(0),
        bundles: from_sql(r.try_get(3).map_err(read)?),
        last_bundle_at_ms: r.try_get::<_, Option<i64>>(4).map_err(read)?.map(from_sql),
    })
}
