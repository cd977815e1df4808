//! `StateDir`: a state directory as the daemon uses it: the snapshot store and the journal
//! together, opened by recovery and written by `append` (an enrollment, before it is
//! acknowledged) and `checkpoint` (a snapshot that folds the journal in).
//!
//! Recovery = the newest valid snapshot + the journal records after the journal seq it
//! includes. A crash between a checkpoint's snapshot and its journal truncation leaves
//! records the snapshot already includes; recovery skips them by sequence number. The
//! directory must have one writer: `open` removes the temp files of dead processes
//! (crashed writes), which a second live writer would not expect.

use super::file::Sections;
use super::journal::{Gap, Journal, JournalRecord};
use super::names::JOURNAL_NAME;
use super::snapshots::{Commit, SkippedSnapshot, SnapshotStore, StoredSnapshot};
use super::{is_encoder_id, remove_if_present, Snapshot, StoreError};
use crate::envelope::EnvelopeError;
use std::path::{Path, PathBuf};

/// What recovery found and did, for the caller to act on and report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    pub snapshot: Option<StoredSnapshot>,
    /// The journal records to replay on the snapshot, in order.
    pub records: Vec<JournalRecord>,
    pub warnings: Vec<Warning>,
    /// Files the store did not write; left alone.
    pub strays: Vec<PathBuf>,
    /// Temp files of dead processes' writes, removed.
    pub removed_temps: Vec<PathBuf>,
}

/// Something recovery survived that the caller should show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    #[error("{0}")]
    SkippedSnapshot(SkippedSnapshot),
    #[error("journal {}: cut {bytes} bytes of a torn or damaged tail at byte {at}: {error}", path.display())]
    JournalCut {
        path: PathBuf,
        at: u64,
        bytes: u64,
        error: EnvelopeError,
    },
    #[error("journal {}: records {} to {} are missing (the journal resumes at {})", path.display(), gap.expected, gap.found - 1, gap.found)]
    JournalGap { path: PathBuf, gap: Gap },
}

/// The snapshot store and journal of one state directory.
#[derive(Debug)]
pub struct StateDir {
    snapshots: SnapshotStore,
    journal: Journal,
    encoder_sha256: String,
}

impl StateDir {
    /// Recovers the state in `dir` (creating it) for the encoder `encoder_sha256`; keeps
    /// `keep` valid snapshots after each checkpoint. Errors as `SnapshotStore::load_latest`.
    pub fn open(
        dir: &Path,
        encoder_sha256: &str,
        keep: usize,
    ) -> Result<(StateDir, Recovery), StoreError> {
        if !is_encoder_id(encoder_sha256) {
            return Err(StoreError::EncoderId(encoder_sha256.to_string()));
        }
        let snapshots = SnapshotStore::open(dir, keep)?;
        let removed_temps = remove_dead_temps(&snapshots)?;
        let latest = snapshots.load_latest(encoder_sha256)?;
        let after = latest
            .snapshot
            .as_ref()
            .map_or(0, |s| s.snapshot.journal_seq);
        let (journal, replay) = Journal::open(&dir.join(JOURNAL_NAME), after)?;
        let mut warnings: Vec<Warning> = latest
            .skipped
            .into_iter()
            .map(Warning::SkippedSnapshot)
            .collect();
        let path = journal.path().to_path_buf();
        if let Some(cut) = replay.cut {
            let (at, bytes, error) = (cut.at, cut.bytes, cut.error);
            let path = path.clone();
            warnings.push(Warning::JournalCut {
                path,
                at,
                bytes,
                error,
            });
        }
        if let Some(gap) = replay.gap {
            warnings.push(Warning::JournalGap { path, gap });
        }
        let recovery = Recovery {
            snapshot: latest.snapshot,
            records: replay.records,
            warnings,
            strays: latest.strays,
            removed_temps,
        };
        let state = StateDir {
            snapshots,
            journal,
            encoder_sha256: encoder_sha256.to_string(),
        };
        Ok((state, recovery))
    }

    /// Journals one enrollment record; returns its sequence number once it is on disk.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, StoreError> {
        self.journal.append(payload)
    }

    /// The last journal sequence number (appended, or included by the recovered snapshot).
    pub fn last_seq(&self) -> u64 {
        self.journal.last_seq()
    }

    /// Commits `sections` as a snapshot that includes the journal through record `through`
    /// (at most `last_seq()`), then drops those records from the journal.
    pub fn checkpoint(&mut self, through: u64, sections: Sections) -> Result<Commit, StoreError> {
        if through > self.journal.last_seq() {
            return Err(StoreError::NotJournaled {
                path: self.journal.path().to_path_buf(),
                through,
                last: self.journal.last_seq(),
            });
        }
        let snapshot = Snapshot {
            encoder_sha256: self.encoder_sha256.clone(),
            journal_seq: through,
            sections,
        };
        let commit = self.snapshots.commit(&snapshot)?;
        self.journal.truncate_through(through)?;
        Ok(commit)
    }

    pub fn snapshots(&self) -> &SnapshotStore {
        &self.snapshots
    }
}

/// Removes the temp files of store writes whose process is gone (a write a crash
/// interrupted). Where `/proc` is missing, liveness is unknown and nothing is removed.
fn remove_dead_temps(store: &SnapshotStore) -> Result<Vec<PathBuf>, StoreError> {
    let proc = Path::new("/proc");
    let mut removed = Vec::new();
    for (path, pid) in store.list()?.temps {
        let alive = pid == std::process::id()
            || !proc.join("self").exists()
            || proc.join(pid.to_string()).exists();
        if !alive && remove_if_present(&path, "remove a crashed write's temp file")? {
            removed.push(path);
        }
    }
    Ok(removed)
}
