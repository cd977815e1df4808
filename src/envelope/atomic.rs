//! The one atomic file write: a temp file in the same directory, written, fsynced, renamed over
//! the target, then the directory fsynced. A crash at any point leaves the old file or the new
//! one, each complete (plus, at worst, a temp file nobody reads); a failed write removes its
//! temp file.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A failed atomic write: what was being done to which path.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {error}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub action: &'static str,
    pub error: std::io::Error,
}

/// Distinguishes the temp files of concurrent writes within one process.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `bytes` atomically (the directory must exist).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let name = path.file_name().ok_or_else(|| {
        let error = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name");
        failed("write", path)(error)
    })?;
    let tmp = directory_of(path).join(temp_name(name));
    let written = write_and_rename(&tmp, path, bytes);
    if written.is_err() {
        // Best effort: the write already failed, and a leftover temp file is never read.
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_directory_of(path)
}

/// Fsyncs the directory that holds `path`, making a created, renamed or removed entry
/// durable.
pub fn sync_directory_of(path: &Path) -> Result<(), WriteError> {
    let dir = directory_of(path);
    let d = std::fs::File::open(dir).map_err(failed("open directory", dir))?;
    d.sync_all().map_err(failed("fsync directory", dir))
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |error| WriteError {
        path,
        action,
        error,
    }
}

fn write_and_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    // `create` truncates: the name is unique to this process and write, so an existing file
    // can only be a leftover of a dead process that had the same pid.
    let mut f = std::fs::File::create(tmp).map_err(failed("create", tmp))?;
    f.write_all(bytes).map_err(failed("write", tmp))?;
    f.sync_all().map_err(failed("fsync", tmp))?;
    drop(f);
    std::fs::rename(tmp, path).map_err(failed("rename into place", path))
}

/// `.<name>.<pid>.<n>.tmp`: hidden, in the target's directory, unique per process and write.
fn temp_name(name: &OsStr) -> String {
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id())
}

/// If `file_name` is a temp file `write_atomic` made for a file named `target`, the id of
/// the process that made it (so a caller that owns the directory can remove the leftovers of
/// processes that died mid-write).
pub fn temp_owner(file_name: &str, target: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_prefix(target)?;
    let rest = rest.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (pid, n) = rest.split_once('.')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.bin")]);
    }

    #[test]
    fn a_failed_write_names_the_path_and_removes_its_temp() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails after the temp file was written.
        let target = dir.path().join("busy");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), b"x").unwrap();
        let err = write_atomic(&target, b"bytes").unwrap_err();
        assert_eq!(err.action, "rename into place");
        assert!(err.to_string().contains("busy"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/f");
        assert_eq!(write_atomic(&missing, b"x").unwrap_err().action, "create");
    }

    #[test]
    fn temp_names_are_recognised_only_for_their_target() {
        let name = temp_name(OsStr::new("journal.log"));
        assert_eq!(temp_owner(&name, "journal.log"), Some(std::process::id()));
        assert_eq!(temp_owner(&name, "journal"), None);
        assert_eq!(temp_owner(".journal.log.12.x.tmp", "journal.log"), None);
        assert_eq!(temp_owner("journal.log.12.3.tmp", "journal.log"), None);
    }
}
