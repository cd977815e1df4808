//! Where the host keeps what devices send: the `Storage` contract (devices and their hashed
//! tokens, bundle metadata, bundle bytes) and its backends, picked by the `--db` URL
//! (`open`): SQLite (`sqlite`, the default) or PostgreSQL (`postgres`, for a fleet that
//! outgrows one host), with bundle bytes in a `BlobStore` picked by `--blobs`
//! (`blob_url`): content-addressed files (`blobs`) or S3-compatible object storage (`s3`).
//! Every `put_bundle` writes the blob first and the metadata row after it, so a crash
//! between the two leaves an orphan blob (rewritten by the retry), never a row without
//! its blob.
//!
//! Every backend is idempotent by content hash: storing a bundle whose hash is already
//! stored changes nothing and says so (`Put::Duplicate`), which is what makes a device's
//! retries harmless.

mod blob_url;
mod blobs;
mod pg_url;
mod postgres;
mod s3;
mod sqlite;

pub use blob_url::{BlobLocation, S3Config, S3Credentials, S3Options};
pub use blobs::{BlobDir, BlobStore, MAX_BLOB_BYTES};
pub use pg_url::redact as redact_url;
pub use postgres::PgStorage;
pub use s3::S3Blobs;
pub use sqlite::SqliteStorage;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The metadata of one stored bundle (the bytes are in the blob store, by hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BundleMeta {
    pub content_hash: String,
    pub device_id: String,
    /// The snapshot's sequence number on the device.
    pub snapshot_seq: u64,
    pub journal_seq: u64,
    pub encoder_sha256: String,
    /// When the device made the bundle (device clock), Unix ms.
    pub created_at_ms: u64,
    /// When the host stored it (host clock), Unix ms.
    pub received_at_ms: u64,
    pub bytes: u64,
    /// Classes the bundle's class book names.
    pub classes: u32,
}

/// One device as `GET /v1/devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceSummary {
    pub device_id: String,
    pub registered_at_ms: u64,
    /// Tokens not revoked.
    pub active_tokens: u32,
    pub bundles: u64,
    /// The newest bundle's creation time, if any.
    pub last_bundle_at_ms: Option<u64>,
}

/// What `put_bundle` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Stored,
    /// A bundle with this content hash was already stored; nothing was written.
    Duplicate,
}

/// Why the storage could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {action}")]
    Database {
        action: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `url` has its password masked.
    #[error("connect to database {url}")]
    Connect {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("database schema version {found}; this build knows versions up to {known} (a newer mmcl made it)")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("{action} {}: {error}", path.display())]
    Blob {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    #[error("bundle {hash} is in the database but its blob {location} is missing")]
    MissingBlob { hash: String, location: String },
    #[error(
        "the blob of bundle {hash} at {location} is damaged: its {bytes} bytes have sha256 {found}"
    )]
    CorruptBlob {
        hash: String,
        location: String,
        found: String,
        bytes: u64,
    },
    #[error("the blob {location} is {bytes} bytes, over the {limit} bytes a blob may have")]
    BlobTooLarge {
        location: String,
        bytes: u64,
        limit: u64,
    },
    /// An S3 request that failed (after its retries): `location` is `s3://bucket/key`.
    #[error("{action} {location}: {message}")]
    ObjectStore {
        action: &'static str,
        location: String,
        message: String,
    },
    #[error("blob location {url:?}: {why}")]
    BlobUrl { url: String, why: String },
    #[error("database URL {url:?}: {why}")]
    Url { url: String, why: String },
    #[error("device {device:?} is not registered (mmcl host token add {device})")]
    UnknownDevice { device: String },
}

/// The host's store. Implementations serialize their own writes; every method may be
/// called from any thread. Errors leave the store as it was (a failed `put_bundle` stores
/// no metadata; at worst its blob file exists, which a retry rewrites with the same bytes).
pub trait Storage: Send + Sync {
    /// Registers `device` if new and adds a token whose sha256 is `token_sha256`.
    fn add_token(
        &self,
        device: &str,
        token_sha256: &[u8; 32],
        at_ms: u64,
    ) -> Result<(), StorageError>;
    /// Revokes every active token of `device`; returns how many were active.
    fn revoke_tokens(&self, device: &str, at_ms: u64) -> Result<u32, StorageError>;
    /// The sha256 of each active token of `device` (empty for an unknown device).
    fn token_hashes(&self, device: &str) -> Result<Vec<[u8; 32]>, StorageError>;
    /// Stores a bundle's bytes and metadata unless its content hash is stored already.
    /// The device must be registered (`UnknownDevice`).
    fn put_bundle(&self, meta: &BundleMeta, bytes: &[u8]) -> Result<Put, StorageError>;
    /// Every registered device, by id.
    fn devices(&self) -> Result<Vec<DeviceSummary>, StorageError>;
    /// A device's bundles in time order: device creation time, then snapshot seq.
    fn history(&self, device: &str) -> Result<Vec<BundleMeta>, StorageError>;
    /// The bytes of the bundle with `content_hash`, if stored.
    fn bundle_bytes(&self, content_hash: &str) -> Result<Option<Vec<u8>>, StorageError>;
}

/// Opens the storage a `--db` URL names: `postgres://` or `postgresql://` (PostgreSQL; blobs
/// must be given: the database server's disk is not the host's), else `sqlite:PATH`,
/// `sqlite://PATH` or a plain path (SQLite; blobs default to `blobs/` next to the file).
pub fn open(url: &str, blobs: Option<&BlobLocation>) -> Result<Box<dyn Storage>, StorageError> {
    if is_postgres(url) {
        let Some(blobs) = blobs else {
            return Err(StorageError::Url {
                url: redact_url(url),
                why: "a PostgreSQL database keeps bundle bytes in a blob store: pass --blobs DIR or --blobs s3://BUCKET[/PREFIX]"
                    .into(),
            });
        };
        return Ok(Box::new(PgStorage::open(url, open_blobs(blobs)?)?));
    }
    let path = sqlite_path(url);
    // Created like a blob directory is: with blobs elsewhere (S3), nothing else makes it.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| StorageError::Blob {
            path: parent.to_path_buf(),
            action: "create database directory",
            error,
        })?;
    }
    let next_to = BlobLocation::Dir(path.parent().unwrap_or(Path::new(".")).join("blobs"));
    let blobs = open_blobs(blobs.unwrap_or(&next_to))?;
    Ok(Box::new(SqliteStorage::open(&path, blobs)?))
}

/// The blob store `location` names.
pub fn open_blobs(location: &BlobLocation) -> Result<Arc<dyn BlobStore>, StorageError> {
    Ok(match location {
        BlobLocation::Dir(dir) => Arc::new(BlobDir::open(dir)?),
        BlobLocation::S3(config) => Arc::new(S3Blobs::open(config)?),
    })
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_path(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(rest)
}

/// u64 values are stored as SQL's signed 64-bit integers; larger ones saturate (no mmcl
/// counter or time comes near 2^63).
fn to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn from_sql(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests;
