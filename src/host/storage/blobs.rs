//! `BlobDir`: bundle bytes in files named by their content hash,
//! `<dir>/<first two hex digits>/<hash>.mmcl`, each written with `envelope::write_atomic`
//! so a crash leaves a blob whole or absent. The same hash always holds the same bytes, so
//! rewriting one is harmless.

use super::StorageError;
use crate::envelope;
use std::path::{Path, PathBuf};

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
        let fan = hash.get(..2).unwrap_or("00");
        self.dir.join(fan).join(format!("{hash}.mmcl"))
    }

    /// Writes the blob of `hash` atomically.
    pub fn put(&self, hash: &str, bytes: &[u8]) -> Result<(), StorageError> {
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

    /// The blob of `hash`, `None` when there is none.
    pub fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path_of(hash);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StorageError::Blob {
                path,
                action: "read blob",
                error,
            }),
        }
    }

    /// The blob of a bundle the metadata says is stored: its absence is an error
    /// (`MissingBlob`), not `None`. Every backend's `bundle_bytes` ends here.
    pub fn get_stored(&self, hash: &str) -> Result<Vec<u8>, StorageError> {
        self.get(hash)?.ok_or_else(|| StorageError::MissingBlob {
            hash: hash.to_string(),
            path: self.path_of(hash),
        })
    }
}
