//! Persisted state: the snapshot store and the journal of one state directory.
//!
//! ```text
//! <state dir>/snapshot-00000041.mmcl   snapshots (`file`: encoder sha256, journal seq,
//! <state dir>/snapshot-00000042.mmcl    named sections), the newest `keep` valid ones
//! <state dir>/journal.log              enrollment records after the newest snapshot
//! ```
//! Every file is framed by `crate::envelope` and replaced only through
//! `envelope::write_atomic`, so a crash leaves each file old or new, never torn; the journal
//! is appended in place and its torn tail cut on open. Names are parsed strictly (`names`);
//! any other file is a stray, reported and left alone. `SnapshotStore` handles snapshots,
//! `Journal` the journal, and `StateDir` both as recovery needs them: the newest valid
//! snapshot (a damaged newer one skipped with a warning, one of another encoder refused)
//! plus the journal records after the journal seq it includes.

mod file;
pub mod journal;
mod names;
mod snapshots;
mod state;

pub use file::{decode, encode, Sections, Snapshot, FORMAT, FORMAT_VERSION, LEARNER_SECTION};
pub use journal::{Journal, JournalRecord, Replay};
pub use names::{parse_snapshot_name, snapshot_name, JOURNAL_NAME};
pub use snapshots::{Commit, Latest, Listing, SkippedSnapshot, SnapshotStore, StoredSnapshot};
pub use state::{Recovery, StateDir, Warning};

use crate::envelope::{EnvelopeError, WriteError};
use std::path::{Path, PathBuf};

/// Why the state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {}: {error}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    #[error("{error}")]
    Write { error: WriteError },
    /// An intact file of a version this build cannot read, or a file just written that does
    /// not read back.
    #[error("{}: {error}", path.display())]
    Unreadable { path: PathBuf, error: EnvelopeError },
    #[error("snapshot {} was made with encoder {found}, the current encoder is {expected}: refusing to load it (re-enroll, or run with the encoder it was made with)", path.display())]
    OtherEncoder {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{}: sequence number {seq} is the last there is, nothing can follow it (move the state directory aside to start over)", path.display())]
    SequenceExhausted { path: PathBuf, seq: u64 },
    #[error("encoder id {0:?} is not a 64-digit hex sha256")]
    EncoderId(String),
    #[error("snapshot {} vanished right after it was written", path.display())]
    Vanished { path: PathBuf },
    #[error("journal {}: a checkpoint through record {through}, but the last record is {last}", path.display())]
    NotJournaled {
        path: PathBuf,
        through: u64,
        last: u64,
    },
    #[error("journal {}: {found} bytes on disk, {expected} written by this process: another writer?", path.display())]
    JournalChanged {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("journal {}: a failed append could not be undone; reopen the state directory", path.display())]
    JournalBroken { path: PathBuf },
}

/// 64 hex digits: what `encode::sha256_hex` writes.
fn is_encoder_id(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Removes `path`; `false` when it was already gone (nothing to undo, not an error).
fn remove_if_present(path: &Path, action: &'static str) -> Result<bool, StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(StoreError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }),
    }
}
