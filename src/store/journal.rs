//! The journal: an append-only file of enrollment records not yet in a snapshot.
//!
//! Each record is one envelope frame (format "journal record", magic `MMCLJRNL`, version 1)
//! whose body is `seq u64 | payload` (the payload is opaque: the daemon's enrollment record).
//! Sequence numbers rise by exactly one from record to record. `append` returns only after
//! the record is fsynced, so an acknowledged enrollment survives a crash. `open` reads the
//! valid records in order and cuts a torn or damaged tail (truncating the file where the last
//! valid record ends, reporting how many bytes went and why): what follows a bad record is
//! never trusted. `truncate_through(seq)` drops the records a snapshot now includes by
//! rewriting the rest with `envelope::write_atomic`, so a crash leaves the old journal or the
//! new one.

use super::StoreError;
use crate::envelope::{self, EnvelopeError, Format, Reader};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FORMAT: Format = Format {
    name: "journal record",
    magic: *b"MMCLJRNL",
    legacy: &[],
};
pub const FORMAT_VERSION: u32 = 1;

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// What `Journal::open` read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// The valid records after the `after` sequence number `open` was given, in order.
    pub records: Vec<JournalRecord>,
    /// Valid records at or before `after` (already in the snapshot; the next
    /// `truncate_through` drops them).
    pub already_included: usize,
    /// A torn or damaged tail that was cut off.
    pub cut: Option<Cut>,
    /// The first record after `after` is not `after + 1`: records in between are missing
    /// (the journal was replaced or cut by something other than this module).
    pub gap: Option<Gap>,
}

/// Missing journal records between a snapshot and the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub expected: u64,
    pub found: u64,
}

/// A tail `open` cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Where the file now ends (the end of the last valid record).
    pub at: u64,
    pub bytes: u64,
    pub error: EnvelopeError,
}

/// The open journal, positioned for appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Bytes of valid records (the file's length).
    len: u64,
    /// The last sequence number used (by a record here or by the snapshot before them).
    last_seq: u64,
    /// (seq, start offset) of every record in the file.
    records: Vec<(u64, u64)>,
    /// Set when a failed append could not be undone: the file may end in a partial record.
    broken: bool,
}

impl Journal {
    /// Opens (creating) the journal at `path`; `after` is the journal seq of the snapshot it
    /// follows. Cuts a torn tail (see the module docs).
    pub fn open(path: &Path, after: u64) -> Result<(Journal, Replay), StoreError> {
        let file = open_append(path)?;
        let bytes = std::fs::read(path).map_err(|error| io(path, "read journal", error))?;
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            len: 0,
            last_seq: after,
            records: Vec::new(),
            broken: false,
        };
        let mut replay = Replay::default();
        while (journal.len as usize) < bytes.len() {
            let rest = bytes.get(journal.len as usize..).unwrap_or_default();
            let (record, used) = match parse(rest, journal.records.last().map(|r| r.0)) {
                Ok(parsed) => parsed,
                Err(error) => {
                    replay.cut = Some(journal.cut(bytes.len() as u64, error)?);
                    break;
                }
            };
            journal.records.push((record.seq, journal.len));
            journal.len += used as u64;
            journal.last_seq = journal.last_seq.max(record.seq);
            if record.seq <= after {
                replay.already_included += 1;
            } else {
                replay.records.push(record);
            }
        }
        replay.gap = replay
            .records
            .first()
            .filter(|r| Some(r.seq) != after.checked_add(1))
            .map(|r| Gap {
                expected: after.saturating_add(1),
                found: r.seq,
            });
        Ok((journal, replay))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last sequence number appended (or the snapshot's, when the journal is empty).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Appends one record and fsyncs it; returns its sequence number. A failed append is
    /// undone (the file truncated back) before the error is returned.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, StoreError> {
        if self.broken {
            return Err(StoreError::JournalBroken {
                path: self.path.clone(),
            });
        }
        let seq = self
            .last_seq
            .checked_add(1)
            .ok_or(StoreError::SequenceExhausted {
                path: self.path.clone(),
                seq: self.last_seq,
            })?;
        let mut body = Vec::with_capacity(8 + payload.len());
        body.extend_from_slice(&seq.to_le_bytes());
        body.extend_from_slice(payload);
        let record = envelope::seal(&FORMAT, FORMAT_VERSION, &body);
        let written = self
            .file
            .write_all(&record)
            .map_err(|e| io(&self.path, "append to journal", e))
            .and_then(|()| {
                let sync = self.file.sync_data();
                sync.map_err(|e| io(&self.path, "fsync journal", e))
            });
        if let Err(e) = written {
            self.undo();
            return Err(e);
        }
        self.records.push((seq, self.len));
        self.len += record.len() as u64;
        self.last_seq = seq;
        Ok(seq)
    }

    /// Drops every record with a sequence number <= `seq` (a snapshot now includes them).
    pub fn truncate_through(&mut self, seq: u64) -> Result<(), StoreError> {
        let keep_from = self.records.iter().position(|(s, _)| *s > seq);
        let cut = keep_from.map_or(self.len, |i| self.records[i].1);
        self.last_seq = self.last_seq.max(seq);
        if cut == 0 {
            return Ok(());
        }
        let bytes = std::fs::read(&self.path).map_err(|e| io(&self.path, "read journal", e))?;
        if bytes.len() as u64 != self.len {
            return Err(StoreError::JournalChanged {
                path: self.path.clone(),
                expected: self.len,
                found: bytes.len() as u64,
            });
        }
        let rest = bytes.get(cut as usize..).unwrap_or_default();
        envelope::write_atomic(&self.path, rest).map_err(|error| StoreError::Write { error })?;
        // The old handle points at the replaced file.
        self.file = open_append(&self.path)?;
        self.records
            .drain(..keep_from.unwrap_or(self.records.len()));
        self.records.iter_mut().for_each(|(_, start)| *start -= cut);
        self.len -= cut;
        self.broken = false;
        Ok(())
    }

    /// Truncates the file to the valid records after a damaged tail was found at `self.len`.
    fn cut(&mut self, size: u64, error: EnvelopeError) -> Result<Cut, StoreError> {
        self.file
            .set_len(self.len)
            .and_then(|()| self.file.sync_all())
            .map_err(|e| io(&self.path, "cut the journal's damaged tail", e))?;
        Ok(Cut {
            at: self.len,
            bytes: size - self.len,
            error,
        })
    }

    /// Takes a failed append back off the file; if that fails too, refuses later appends.
    fn undo(&mut self) {
        let undone = self
            .file
            .set_len(self.len)
            .and_then(|()| self.file.sync_all());
        self.broken = undone.is_err();
    }
}

/// Parses the record at the start of `bytes`, which must follow `previous` (if any).
fn parse(bytes: &[u8], previous: Option<u64>) -> Result<(JournalRecord, usize), EnvelopeError> {
    let (opened, used) = envelope::open_prefix(&FORMAT, &[FORMAT_VERSION], bytes)?;
    let mut r = Reader::new(FORMAT.name, opened.body);
    let seq = r.u64("sequence number")?;
    if let Some(previous) = previous.filter(|p| p.checked_add(1) != Some(seq)) {
        return Err(r.error(format!("sequence number {seq} follows {previous}")));
    }
    let payload = r.raw(r.remaining(), "payload")?.to_vec();
    Ok((JournalRecord { seq, payload }, used))
}

/// Opens the journal for appending; a journal this call creates has its directory entry
/// fsynced, so that the records later appended (and fsynced) cannot lose their file.
fn open_append(path: &Path) -> Result<File, StoreError> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io(path, "open journal", e))?;
    if !existed {
        envelope::sync_directory_of(path).map_err(|error| StoreError::Write { error })?;
    }
    Ok(file)
}

fn io(path: &Path, action: &'static str, error: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        action,
        error,
    }
}
