//! `Queue`: bundles waiting for the host, on disk in the state directory, bounded in bytes.
//!
//! ```text
//! <state dir>/uplink/q-<n>.mmcl    one bundle each, n = enqueue order (16 digits)
//! <state dir>/uplink/queue.json    counters: next n, sent, dropped, rejected, last snapshot
//! <state dir>/uplink/rejected/     bundles the host refused for good (kept for people)
//! <state dir>/uplink/lock          flock(2): the daemon's sync thread and `mmcl sync`
//! ```
//! Every file is written with `envelope::write_atomic`, so the queue survives a crash or a
//! restart whole. A bundle leaves only when the host acknowledged it (`acknowledge`) or
//! refused it for good (`reject`, moved aside); when the queue is over its byte limit the
//! oldest bundles are dropped and counted, since on a device the newest snapshot is the one
//! that matters and a full disk is worse than a gap in the host's history.

use super::bundle::{content_hash, Bundle};
use crate::envelope::{self, WriteError};
use crate::store::SnapshotStore;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The queue's directory inside the state directory.
pub const QUEUE_DIR: &str = "uplink";
const STATE_FILE: &str = "queue.json";

/// Why the queue could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("uplink queue: {action} {}: {error}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    #[error("uplink queue: {error}")]
    Write { error: WriteError },
    #[error("uplink queue: {} is not a queue state file: {error}", path.display())]
    State {
        path: PathBuf,
        error: serde_json::Error,
    },
}

/// The queue's counters, persisted in `queue.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    /// The enqueue number the next bundle gets.
    pub next: u64,
    /// Bundles the host acknowledged.
    pub sent: u64,
    /// Bundles dropped to stay under the byte limit.
    pub dropped: u64,
    /// Bundles the host refused for good (moved to `rejected/`).
    pub rejected: u64,
    /// The newest snapshot seq enqueued: `enqueue_new_snapshots` starts after it.
    pub last_snapshot_seq: u64,
}

/// What `mmcl sync` reports about the queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueStatus {
    pub queued: usize,
    pub queued_bytes: u64,
    #[serde(flatten)]
    pub counters: Counters,
}

/// One queued bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub n: u64,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Its content hash (sha256 of `bytes`).
    pub hash: String,
}

/// The on-disk queue of one state directory (see the module docs).
#[derive(Debug, Clone)]
pub struct Queue {
    dir: PathBuf,
    limit_bytes: u64,
}

/// An exclusive `flock` on the queue, released on drop.
struct Locked {
    _file: File,
}

impl Queue {
    /// Opens (creating) the queue of `state_dir`, bounded to `limit_bytes` of bundles.
    pub fn open(state_dir: &Path, limit_bytes: u64) -> Result<Queue, QueueError> {
        let dir = state_dir.join(QUEUE_DIR);
        for d in [dir.clone(), dir.join("rejected")] {
            std::fs::create_dir_all(&d).map_err(io(&d, "create directory"))?;
        }
        Ok(Queue { dir, limit_bytes })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> Result<Locked, QueueError> {
        let path = self.dir.join("lock");
        let file = File::create(&path).map_err(io(&path, "open lock"))?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(&path, "lock")(std::io::Error::last_os_error()));
        }
        Ok(Locked { _file: file })
    }

    fn counters(&self) -> Result<Counters, QueueError> {
        let path = self.dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|error| QueueError::State { path, error })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Counters::default()),
            Err(e) => Err(io(&path, "read")(e)),
        }
    }

    fn save(&self, counters: &Counters) -> Result<(), QueueError> {
        let bytes = serde_json::to_vec_pretty(counters).unwrap_or_default();
        envelope::write_atomic(&self.dir.join(STATE_FILE), &bytes)
            .map_err(|error| QueueError::Write { error })
    }

    /// The queued bundle files, oldest first, with their sizes.
    fn files(&self) -> Result<Vec<(u64, PathBuf, u64)>, QueueError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir, "list"))? {
            let path = entry.map_err(io(&self.dir, "list"))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let n = name
                .strip_prefix("q-")
                .and_then(|r| r.strip_suffix(".mmcl"));
            if let Some(n) = n.and_then(|n| n.parse::<u64>().ok()) {
                let size = std::fs::metadata(&path).map_or(0, |m| m.len());
                out.push((n, path, size));
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Adds the bundle of snapshot `snapshot_seq` (already encoded) unless a bundle of that
    /// snapshot or a newer one was queued before, then drops the oldest bundles while the
    /// queue is over its limit; returns how many were dropped, `None` when it was not added.
    pub fn push(&self, bundle: &[u8], snapshot_seq: u64) -> Result<Option<u64>, QueueError> {
        let _lock = self.lock()?;
        let mut c = self.counters()?;
        let pushed = self.push_locked(&mut c, bundle, snapshot_seq)?;
        self.save(&c)?;
        Ok(pushed)
    }

    /// `push` under the lock: the check and the write are one step, so two processes
    /// cannot both queue (with different creation times, so different hashes) one snapshot.
    fn push_locked(
        &self,
        c: &mut Counters,
        bundle: &[u8],
        snapshot_seq: u64,
    ) -> Result<Option<u64>, QueueError> {
        if snapshot_seq <= c.last_snapshot_seq {
            return Ok(None);
        }
        let path = self.dir.join(format!("q-{:016}.mmcl", c.next));
        envelope::write_atomic(&path, bundle).map_err(|error| QueueError::Write { error })?;
        c.next += 1;
        c.last_snapshot_seq = snapshot_seq;
        let dropped = self.trim()?;
        c.dropped += dropped;
        Ok(Some(dropped))
    }

    /// Removes the oldest files until the queue fits its limit.
    fn trim(&self) -> Result<u64, QueueError> {
        let files = self.files()?;
        let mut total: u64 = files.iter().map(|f| f.2).sum();
        let mut dropped = 0;
        for (_, path, size) in files {
            if total <= self.limit_bytes {
                break;
            }
            remove(&path)?;
            total -= size;
            dropped += 1;
        }
        Ok(dropped)
    }

    /// Enqueues, as bundles of `device_id`, the valid snapshots of `store` newer than the
    /// last one enqueued; returns how many. Snapshots of another encoder are sent too: the
    /// host decides what it knows.
    pub fn enqueue_new_snapshots(
        &self,
        store: &SnapshotStore,
        device_id: &str,
        now_ms: u64,
    ) -> Result<usize, QueueError> {
        let _lock = self.lock()?;
        let mut c = self.counters()?;
        let after = c.last_snapshot_seq;
        let listing = store.list().map_err(|e| QueueError::Io {
            path: store.dir().to_path_buf(),
            action: "list snapshots",
            error: std::io::Error::other(e.to_string()),
        })?;
        let mut enqueued = 0;
        for seq in listing.snapshots.into_iter().filter(|s| *s > after) {
            let Ok(bytes) = std::fs::read(store.path_of(seq)) else {
                continue;
            };
            // A damaged snapshot is the store's to report; it is not worth a bundle.
            let Ok((_, snapshot)) = crate::store::decode(&bytes) else {
                continue;
            };
            let bundle = Bundle {
                device_id: device_id.to_string(),
                snapshot_seq: seq,
                created_at_ms: now_ms,
                snapshot,
            };
            if self.push_locked(&mut c, &bundle.encode(), seq)?.is_some() {
                enqueued += 1;
            }
        }
        self.save(&c)?;
        Ok(enqueued)
    }

    /// The oldest queued bundle, if any. A file that is not an intact bundle (damaged on
    /// disk) is moved to `rejected/` and counted, so it cannot block the queue.
    pub fn oldest(&self) -> Result<Option<Pending>, QueueError> {
        let _lock = self.lock()?;
        for (n, path, _) in self.files()? {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path, "read")(e)),
            };
            if Bundle::decode(&bytes).is_err() {
                self.move_aside(&path)?;
                continue;
            }
            let hash = content_hash(&bytes);
            return Ok(Some(Pending {
                n,
                path,
                bytes,
                hash,
            }));
        }
        Ok(None)
    }

    /// The host stored `pending` (or had it already): it leaves the queue.
    pub fn acknowledge(&self, pending: &Pending) -> Result<(), QueueError> {
        let _lock = self.lock()?;
        let mut c = self.counters()?;
        // Another process (a concurrent `mmcl sync`) may have sent it first.
        if remove(&pending.path)? {
            c.sent += 1;
            self.save(&c)?;
        }
        Ok(())
    }

    /// The host refused `pending` for good: it moves to `rejected/`.
    pub fn reject(&self, pending: &Pending) -> Result<(), QueueError> {
        let _lock = self.lock()?;
        self.move_aside(&pending.path)
    }

    fn move_aside(&self, path: &Path) -> Result<(), QueueError> {
        let Some(name) = path.file_name() else {
            return Ok(());
        };
        let to = self.dir.join("rejected").join(name);
        match std::fs::rename(path, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(path, "move aside")(e)),
        }
        let mut c = self.counters()?;
        c.rejected += 1;
        self.save(&c)
    }

    /// Queued bundles and the counters.
    pub fn status(&self) -> Result<QueueStatus, QueueError> {
        let files = self.files()?;
        Ok(QueueStatus {
            queued: files.len(),
            queued_bytes: files.iter().map(|f| f.2).sum(),
            counters: self.counters()?,
        })
    }
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> QueueError {
    let path = path.to_path_buf();
    move |error| QueueError::Io {
        path,
        action,
        error,
    }
}

/// Removes `path`; false when it was already gone.
fn remove(path: &Path) -> Result<bool, QueueError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(path, "remove")(e)),
    }
}

#[cfg(test)]
mod tests;
