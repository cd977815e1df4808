//! Persisted learner state: versioned snapshot files in a state directory.
//!
//! A snapshot file `snapshot-<seq>.mmcl` is `magic | format version | encoder sha256 |
//! payload length | payload | sha256 of everything before it`. It is written to a temp
//! file, fsynced, renamed into place and the directory fsynced, so a crash leaves either
//! the old or the new snapshot, never a torn one. Loading takes the newest snapshot that
//! verifies; one from another encoder is refused, since its embeddings mean nothing to
//! the current encoder. (The journal of enrollments arrives with the daemon.)

mod file;

pub use file::{decode_snapshot, encode_snapshot, SnapshotHeader, FORMAT_VERSION, MAGIC};

use std::path::{Path, PathBuf};

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {path}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("snapshot {path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("snapshot {path} was made with encoder {found}, the current encoder is {expected}: refusing to load it (re-enroll, or run with the encoder it was made with)")]
    OtherEncoder {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "snapshot {path} has format version {found}; this mmcl reads versions 1..={supported}"
    )]
    Version {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
}

/// A loaded snapshot: its sequence number, where it was, and the learner payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub seq: u64,
    pub path: PathBuf,
    pub payload: Vec<u8>,
}

/// The snapshot files of one state directory.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    /// Snapshots kept after each commit (older ones are removed).
    keep: usize,
}

impl SnapshotStore {
    /// Opens (creating) `dir`; `keep` >= 1 snapshots survive each commit.
    pub fn open(dir: &Path, keep: usize) -> Result<SnapshotStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            action: "create state directory",
            source,
        })?;
        Ok(SnapshotStore {
            dir: dir.to_path_buf(),
            keep: keep.max(1),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sequence numbers of the snapshot files present, ascending.
    pub fn sequences(&self) -> Result<Vec<u64>, StoreError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| self.io("list", source))?;
        let mut seqs: Vec<u64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| parse_seq(&e.file_name().to_string_lossy()))
            .collect();
        seqs.sort_unstable();
        Ok(seqs)
    }

    pub fn path_of(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("snapshot-{seq:08}.mmcl"))
    }

    /// Writes `payload` as the next snapshot atomically; returns its sequence number.
    pub fn commit(&self, encoder_sha256: &str, payload: &[u8]) -> Result<u64, StoreError> {
        let seq = self.sequences()?.last().map_or(1, |s| s + 1);
        let bytes = encode_snapshot(encoder_sha256, payload);
        let path = self.path_of(seq);
        file::write_atomic(&self.dir, &path, &bytes)?;
        self.prune()?;
        Ok(seq)
    }

    /// The newest snapshot that verifies, or `None` when there is none. A corrupt newer
    /// file is skipped (it can only be a torn write from a crash); one from another
    /// encoder is an error, never skipped silently.
    pub fn load_latest(&self, encoder_sha256: &str) -> Result<Option<Snapshot>, StoreError> {
        for seq in self.sequences()?.into_iter().rev() {
            let path = self.path_of(seq);
            let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                action: "read snapshot",
                source,
            })?;
            match decode_snapshot(&path, &bytes) {
                Ok((header, payload)) if header.encoder_sha256 == encoder_sha256 => {
                    return Ok(Some(Snapshot { seq, path, payload }))
                }
                Ok((header, _)) => {
                    return Err(StoreError::OtherEncoder {
                        path,
                        expected: encoder_sha256.to_string(),
                        found: header.encoder_sha256,
                    })
                }
                Err(StoreError::Corrupt { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    fn prune(&self) -> Result<(), StoreError> {
        let seqs = self.sequences()?;
        let excess = seqs.len().saturating_sub(self.keep);
        for seq in &seqs[..excess] {
            let path = self.path_of(*seq);
            std::fs::remove_file(&path).map_err(|source| StoreError::Io {
                path,
                action: "remove old snapshot",
                source,
            })?;
        }
        Ok(())
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.dir.clone(),
            action,
            source,
        }
    }
}

fn parse_seq(name: &str) -> Option<u64> {
    name.strip_prefix("snapshot-")?
        .strip_suffix(".mmcl")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha() -> String {
        "ab".repeat(32)
    }

    #[test]
    fn commit_then_load_latest_keeps_the_last_few() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path(), 2).unwrap();
        for i in 0..4u8 {
            store.commit(&sha(), &[i; 10]).unwrap();
        }
        assert_eq!(store.sequences().unwrap(), vec![3, 4]);
        let snap = store.load_latest(&sha()).unwrap().unwrap();
        assert_eq!((snap.seq, snap.payload), (4, vec![3u8; 10]));
    }

    #[test]
    fn a_torn_newest_snapshot_falls_back_to_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path(), 3).unwrap();
        store.commit(&sha(), b"old").unwrap();
        store.commit(&sha(), b"new").unwrap();
        let newest = store.path_of(2);
        let bytes = std::fs::read(&newest).unwrap();
        std::fs::write(&newest, &bytes[..bytes.len() - 5]).unwrap();
        let snap = store.load_latest(&sha()).unwrap().unwrap();
        assert_eq!((snap.seq, snap.payload.as_slice()), (1, &b"old"[..]));
    }

    #[test]
    fn another_encoders_snapshot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path(), 3).unwrap();
        store.commit(&sha(), b"x").unwrap();
        let err = store.load_latest(&"cd".repeat(32)).unwrap_err();
        assert!(matches!(err, StoreError::OtherEncoder { .. }), "{err}");
    }
}
