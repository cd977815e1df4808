//! The `BlobStore` contract (bundle bytes by content hash) and its file implementation,
//! `BlobDir`: `<dir>/<first two hex digits>/<hash>.mmcl`, each written with
//! `envelope::write_atomic` so a crash leaves a blob whole or absent. Object storage is
//! `s3::S3Blobs`. The same hash always holds the same bytes, so rewriting one is harmless,
//! and every read is checked against its hash (`get_stored`).

use super::StorageError;
use crate::envelope;
use crate::uplink::bundle::content_hash;
use std::path::{Path, PathBuf};

/// The largest blob either store reads back: far above any bundle the server accepts
/// (its `--max-bundle-bytes` is checked before anything is stored), so an object over it
/// is not one of ours and is refused before it is read into memory.
pub const MAX_BLOB_BYTES: u64 = 1 << 30;

/// Where bundle bytes live, keyed by their content hash (64 lowercase hex digits, checked
/// by the caller). Implementations may be called from any thread, never from async code
/// that must not block: every method blocks until the store answered.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` as the blob of `hash`. Rewriting a blob is harmless (same hash, same
    /// bytes), so a put needs no condition. On error nothing is promised about the blob;
    /// callers record no metadata then.
    fn put(&self, hash: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// The blob of `hash` as stored, `None` when there is none. Not checked against
    /// `hash`: `get_stored` does that.
    fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Where the blob of `hash` lives (a path, or `s3://bucket/key`), for errors.
    fn location(&self, hash: &str) -> String;

    /// The blob of a bundle the metadata says is stored: its absence is an error
    /// (`MissingBlob`), and so are bytes whose sha256 is not `hash` (`CorruptBlob`).
    /// Every backend's `bundle_bytes` ends here.
    fn get_stored(&self, hash: &str) -> Result<Vec<u8>, StorageError> {
        let bytes = self.get(hash)?.ok_or_else(|| StorageError::MissingBlob {
            hash: hash.to_string(),
            location: self.location(hash),
        })?;
        let found = content_hash(&bytes);
        if found != hash {
            return Err(StorageError::CorruptBlob {
                hash: hash.to_string(),
                location: self.location(hash),
                found,
                bytes: bytes.len() as u64,
            });
        }
        Ok(bytes)
    }
}

/// The name of the blob of `hash` inside a store, `<first two hex digits>/<hash>.mmcl`:
/// the file under a `BlobDir` and the key under an S3 prefix.
pub(super) fn blob_name(hash: &str) -> String {
    let fan = hash.get(..2).unwrap_or("00");
    format!("{fan}/{hash}.mmcl")
}

/// A directory of content-addressed blobs.
#[derive(Debug, Clone)]
pub struct BlobDir {
    dir: PathBuf,
}

impl BlobDir {
    /// Opens (creating) `dir`.
    pub fn open(dir: &Path) -> Result<BlobDir, StorageError> {
        std::fs::create_dir_all(dir).map_err(|error| StorageError::Blob {
            path: dir.to_path_buf(),
            action: "create blob directory",
            error,
        })?;
        Ok(BlobDir {
            dir: dir.to_path_buf(),
        })
    }

    /// Where the blob of `hash` lives (`hash` is 64 hex digits, checked by the caller).
    pub fn path_of(&self, hash: &str) -> PathBuf {
        self.dir.join(blob_name(hash))
    }
}

impl BlobStore for BlobDir {
    /// Writes the blob of `hash` atomically.
    fn put(&self, hash: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path_of(hash);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| StorageError::Blob {
                path: parent.to_path_buf(),
                action: "create blob directory",
                error,
            })?;
        }
        envelope::write_atomic(&path, bytes).map_err(|e| StorageError::Blob {
            path: e.path,
            action: e.action,
            error: e.error,
        })
    }

    fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path_of(hash);
        let read = |error| StorageError::Blob {
            path: path.clone(),
            action: "read blob",
            error,
        };
        let len = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(read(e)),
        };
        if len > MAX_BLOB_BYTES {
            return Err(StorageError::BlobTooLarge {
                location: path.display().to_string(),
                bytes: len,
                limit: MAX_BLOB_BYTES,
            });
        }
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            // Removed between the two calls: as absent as before.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(read(e)),
        }
    }

    fn location(&self, hash: &str) -> String {
        self.path_of(hash).display().to_string()
    }
}
