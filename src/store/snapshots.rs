//! `SnapshotStore`: the snapshot files of one state directory: listing them (strictly named,
//! `names`), committing the next one atomically, pruning old ones, and finding the newest
//! valid one.
//!
//! Pruning keeps the newest `keep` valid snapshots and deletes only strictly named snapshot
//! files older than all of them: the newest valid snapshot is never deleted, a damaged file
//! newer than the kept ones is left for inspection until it falls behind them, and a file the
//! store did not name is never touched.

use super::file::{self, Snapshot};
use super::names::{classify, snapshot_name, Entry};
use super::{is_encoder_id, remove_if_present, StoreError};
use crate::envelope::{self, EnvelopeError};
use std::path::{Path, PathBuf};

/// The snapshot files of one state directory.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    /// Valid snapshots kept after each commit.
    keep: usize,
}

/// What a state directory holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Strictly named snapshot files (valid or not), ascending.
    pub snapshots: Vec<u64>,
    /// Whether `journal.log` exists.
    pub journal: bool,
    /// Temp files of snapshot or journal writes, with the process that made each.
    pub temps: Vec<(PathBuf, u32)>,
    /// Everything else: reported, never touched.
    pub strays: Vec<PathBuf>,
}

/// A snapshot read back from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub seq: u64,
    pub path: PathBuf,
    /// The file's format version.
    pub version: u32,
    pub snapshot: Snapshot,
}

/// A damaged snapshot file recovery passed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("skipped damaged snapshot {}: {error}", path.display())]
pub struct SkippedSnapshot {
    pub path: PathBuf,
    pub error: EnvelopeError,
}

/// What `load_latest` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latest {
    /// The newest valid snapshot, if any.
    pub snapshot: Option<StoredSnapshot>,
    /// Damaged snapshots newer than it, newest first (warnings for the caller to show).
    pub skipped: Vec<SkippedSnapshot>,
    pub strays: Vec<PathBuf>,
}

/// What `commit` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub seq: u64,
    pub path: PathBuf,
    /// Old snapshot files removed.
    pub pruned: Vec<PathBuf>,
    pub strays: Vec<PathBuf>,
}

impl SnapshotStore {
    /// Opens (creating) `dir`; `keep` >= 1 valid snapshots survive each commit.
    pub fn open(dir: &Path, keep: usize) -> Result<SnapshotStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::Io {
            path: dir.to_path_buf(),
            action: "create state directory",
            error,
        })?;
        Ok(SnapshotStore {
            dir: dir.to_path_buf(),
            keep: keep.max(1),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, seq: u64) -> PathBuf {
        self.dir.join(snapshot_name(seq))
    }

    /// Classifies every entry of the directory.
    pub fn list(&self) -> Result<Listing, StoreError> {
        let io = |error| StoreError::Io {
            path: self.dir.clone(),
            action: "list state directory",
            error,
        };
        let mut listing = Listing::default();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            match classify(name) {
                Entry::Snapshot(seq) => listing.snapshots.push(seq),
                Entry::Journal => listing.journal = true,
                Entry::Temp { pid } => listing.temps.push((path, pid)),
                Entry::Stray => listing.strays.push(path),
            }
        }
        listing.snapshots.sort_unstable();
        listing.strays.sort();
        Ok(listing)
    }

    /// Writes `snapshot` as the next sequence number atomically, checks it reads back, then
    /// prunes. Refuses a malformed encoder id and a sequence number past `u64::MAX`.
    pub fn commit(&self, snapshot: &Snapshot) -> Result<Commit, StoreError> {
        if !is_encoder_id(&snapshot.encoder_sha256) {
            return Err(StoreError::EncoderId(snapshot.encoder_sha256.clone()));
        }
        let listing = self.list()?;
        let seq = match listing.snapshots.last() {
            None => 1,
            Some(&last) => last
                .checked_add(1)
                .ok_or_else(|| StoreError::SequenceExhausted {
                    path: self.path_of(last),
                    seq: last,
                })?,
        };
        let path = self.path_of(seq);
        envelope::write_atomic(&path, &file::encode(snapshot))
            .map_err(|error| StoreError::Write { error })?;
        match self.read(seq)? {
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(StoreError::Unreadable { path, error }),
            None => return Err(StoreError::Vanished { path }),
        }
        let pruned = self.prune(seq)?;
        Ok(Commit {
            seq,
            path,
            pruned,
            strays: listing.strays,
        })
    }

    /// The newest valid snapshot. A damaged newer file is skipped and reported in
    /// `Latest::skipped`; an intact one this build cannot read (a newer format version) and
    /// one of another encoder are errors, never skipped, since loading an older snapshot
    /// instead would silently lose what the newer one holds.
    pub fn load_latest(&self, encoder_sha256: &str) -> Result<Latest, StoreError> {
        let listing = self.list()?;
        let mut latest = Latest {
            strays: listing.strays,
            ..Latest::default()
        };
        for &seq in listing.snapshots.iter().rev() {
            let path = self.path_of(seq);
            match self.read(seq)? {
                None => continue,
                Some(Err(error @ EnvelopeError::Version { .. })) => {
                    return Err(StoreError::Unreadable { path, error })
                }
                Some(Err(error)) => latest.skipped.push(SkippedSnapshot { path, error }),
                Some(Ok(stored)) if stored.snapshot.encoder_sha256 != encoder_sha256 => {
                    return Err(StoreError::OtherEncoder {
                        path,
                        expected: encoder_sha256.to_string(),
                        found: stored.snapshot.encoder_sha256,
                    })
                }
                Some(Ok(stored)) => {
                    latest.snapshot = Some(stored);
                    break;
                }
            }
        }
        Ok(latest)
    }

    /// Reads snapshot `seq`: `None` if the file is gone, else the decoded file or why not.
    fn read(&self, seq: u64) -> Result<Option<Result<StoredSnapshot, EnvelopeError>>, StoreError> {
        let path = self.path_of(seq);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(StoreError::Io {
                    path,
                    action: "read snapshot",
                    error,
                })
            }
        };
        Ok(Some(file::decode(&bytes).map(|(version, snapshot)| {
            StoredSnapshot {
                seq,
                path,
                version,
                snapshot,
            }
        })))
    }

    /// Deletes the snapshots older than the newest `keep` valid ones; `written` is known valid.
    fn prune(&self, written: u64) -> Result<Vec<PathBuf>, StoreError> {
        let mut valid = 0;
        let mut pruned = Vec::new();
        for &seq in self.list()?.snapshots.iter().rev() {
            if valid < self.keep {
                // A file that cannot be read now is neither kept nor deleted.
                let ok = seq == written || matches!(self.read(seq), Ok(Some(Ok(_))));
                valid += usize::from(ok);
                continue;
            }
            let path = self.path_of(seq);
            if remove_if_present(&path, "remove old snapshot")? {
                pruned.push(path);
            }
        }
        Ok(pruned)
    }
}
