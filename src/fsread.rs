//! Reading the files a user hands mmcl (split lists, sensor CSVs, frames, device
//! profiles, model files) as untrusted input. Every reader of such a file goes
//! through here, so three rules hold everywhere:
//! - only regular files are read: a directory, a FIFO, a socket or a device such as
//!   `/dev/zero` is refused, and nothing ever blocks on one (the path is checked
//!   before it is opened, it is opened with `O_NONBLOCK`, and the opened descriptor
//!   is checked again, which also catches a path swapped between check and open);
//! - each kind of file has a size cap (`Limit`), checked on the opened file before
//!   a byte is buffered, and again while reading in case the file grows;
//! - a refusal is an `io::Error` whose message states the problem and the numbers
//!   but not the path, so each caller's own `Io { path, action, .. }` error names
//!   the path once; `refusal` gets the typed `Refusal` back out.
//!
//! `probe` tells a missing path (a clip without that modality) from one that
//! exists but cannot be used (a symlink loop, a dangling link, a directory where a
//! file belongs), which `Path::is_file` and `is_dir` would both report as absent.

use std::fs::{File, FileType, Metadata};
use std::io::{self, ErrorKind, Read};
use std::path::Path;

/// One kind of untrusted file and the most bytes mmcl reads of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What the file is, for messages ("sensor file").
    pub what: &'static str,
    pub max_bytes: u64,
}

/// A split list. UESTC-MMEA-CL's largest (train, 4553 clips) is ~360 KB; 2 MiB
/// is almost 6 times that, and bounds what a hostile list of tiny lines costs (a
/// clip or an error per line, a few hundred bytes each once parsed and checked).
pub const LIST: Limit = Limit {
    what: "list file",
    max_bytes: 2 << 20,
};
/// A clip's sensor CSV: ~30 bytes a row at 25 Hz, so 16 MiB is hours of recording.
/// The cap also bounds what parsing costs (a row is 48 bytes once parsed).
pub const SENSOR_CSV: Limit = Limit {
    what: "sensor file",
    max_bytes: 16 << 20,
};
/// One JPEG frame: even a 4096x4096 frame at quality 100 is ~10 MB.
pub const FRAME: Limit = Limit {
    what: "frame",
    max_bytes: 32 << 20,
};
/// A clip's `.mp4`, which is streamed, never read whole: the cap only refuses
/// absurd files (a 37 s clip is a few MB).
pub const MP4: Limit = Limit {
    what: "mp4 clip",
    max_bytes: 4 << 30,
};
/// A device profile: a few KB of TOML.
pub const CONFIG: Limit = Limit {
    what: "config file",
    max_bytes: 1 << 20,
};
/// An ONNX model: protobuf cannot encode a message over 2 GiB.
pub const MODEL: Limit = Limit {
    what: "model file",
    max_bytes: 2 << 30,
};

/// Why a path was not read. Carried inside the `io::Error`s this module returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("is {kind}, not a regular file")]
    NotAFile { kind: &'static str },
    #[error("is {size} bytes, over the {max}-byte limit of a {what}")]
    TooLarge {
        what: &'static str,
        size: u64,
        max: u64,
    },
    #[error("is a symbolic link to a path that does not exist")]
    DanglingLink,
    #[error("is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
}

impl Refusal {
    fn into_io(self) -> io::Error {
        let kind = match &self {
            Refusal::NotAFile { kind } if *kind == DIRECTORY => ErrorKind::IsADirectory,
            Refusal::TooLarge { .. } => ErrorKind::FileTooLarge,
            Refusal::NotUtf8 { .. } => ErrorKind::InvalidData,
            _ => ErrorKind::InvalidInput,
        };
        io::Error::new(kind, self)
    }
}

/// The `Refusal` inside an error from this module, if it is one (else an OS error).
pub fn refusal(e: &io::Error) -> Option<&Refusal> {
    e.get_ref()?.downcast_ref()
}

const DIRECTORY: &str = "a directory";

/// What a path names, following symbolic links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Nothing there (and no symbolic link either).
    Missing,
    File {
        len: u64,
    },
    Dir,
    /// A FIFO, socket or device: `kind` says which, for messages.
    Other {
        kind: &'static str,
    },
}

/// What is at `path`. Errors for anything that is there but cannot be looked at:
/// a symlink loop, a dangling symlink, a path through a file, no permission.
pub fn probe(path: &Path) -> io::Result<Entry> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(entry(&meta)),
        Err(e) if e.kind() == ErrorKind::NotFound => match std::fs::symlink_metadata(path) {
            Ok(_) => Err(Refusal::DanglingLink.into_io()),
            Err(_) => Ok(Entry::Missing),
        },
        Err(e) => Err(e),
    }
}

fn entry(meta: &Metadata) -> Entry {
    let ft = meta.file_type();
    if ft.is_file() {
        Entry::File { len: meta.len() }
    } else if ft.is_dir() {
        Entry::Dir
    } else {
        Entry::Other { kind: kind(ft) }
    }
}

/// The name of a file type that is not a regular file.
fn kind(ft: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        DIRECTORY
    } else {
        "a special file"
    }
}

/// Refuses anything but a regular file of at most `limit.max_bytes`.
fn check(meta: &Metadata, limit: Limit) -> io::Result<()> {
    if !meta.file_type().is_file() {
        let kind = kind(meta.file_type());
        return Err(Refusal::NotAFile { kind }.into_io());
    }
    too_large(meta.len(), limit)
}

fn too_large(size: u64, limit: Limit) -> io::Result<()> {
    if size <= limit.max_bytes {
        return Ok(());
    }
    let (what, max) = (limit.what, limit.max_bytes);
    Err(Refusal::TooLarge { what, size, max }.into_io())
}

/// Opens `path` for reading if it is a regular file within `limit`; returns the
/// file and its length. Never blocks, whatever the path names.
pub fn open(path: &Path, limit: Limit) -> io::Result<(File, u64)> {
    // Checked before opening too: opening some devices has effects (a tape rewinds).
    check(&std::fs::metadata(path)?, limit)?;
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    check(&meta, limit)?;
    Ok((file, meta.len()))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// The whole of `path`, if it is a regular file within `limit`.
pub fn read(path: &Path, limit: Limit) -> io::Result<Vec<u8>> {
    let (file, len) = open(path, limit)?;
    // `len <= max_bytes`, so the reservation is bounded by the cap.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    too_large(bytes.len() as u64, limit)?;
    Ok(bytes)
}

/// `read`, as UTF-8 text.
pub fn read_text(path: &Path, limit: Limit) -> io::Result<String> {
    String::from_utf8(read(path, limit)?).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        Refusal::NotUtf8 { offset }.into_io()
    })
}

/// A line that is not UTF-8: its bytes and the offset of the first invalid one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadLine<'a> {
    pub raw: &'a [u8],
    pub offset: usize,
}

/// The lines of `bytes` with their 1-based numbers, split at `\n` with one trailing
/// `\r` removed (as `str::lines` does); each is its text, or a `BadLine` when it is
/// not UTF-8. A UTF-8 byte-order mark at the start is dropped (Windows editors
/// write one).
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, Result<&str, BadLine<'_>>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|b| *b == b'\n')
        .take(if bytes.is_empty() { 0 } else { usize::MAX })
        .enumerate()
        .map(|(i, raw)| {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let text = std::str::from_utf8(raw).map_err(|e| BadLine {
                raw,
                offset: e.valid_up_to(),
            });
            (i + 1, text)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit {
        what: "test file",
        max_bytes: 8,
    };

    fn refused(r: io::Result<Vec<u8>>) -> Refusal {
        let e = r.expect_err("refused");
        refusal(&e)
            .cloned()
            .unwrap_or_else(|| panic!("not a refusal: {e}"))
    }

    #[test]
    fn reads_a_small_regular_file_and_refuses_a_large_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345678").unwrap();
        assert_eq!(read(&path, SMALL).unwrap(), b"12345678");
        std::fs::write(&path, b"123456789").unwrap();
        let e = read(&path, SMALL).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge);
        assert_eq!(
            e.to_string(),
            "is 9 bytes, over the 8-byte limit of a test file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_devices_directories_fifos_and_links_that_go_nowhere() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            refused(read(Path::new("/dev/zero"), SMALL)),
            Refusal::NotAFile {
                kind: "a character device"
            }
        );
        let e = read(dir.path(), SMALL).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::IsADirectory);
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.is_ok_and(|s| s.success()) {
            assert_eq!(
                refused(read(&fifo, SMALL)),
                Refusal::NotAFile { kind: "a FIFO" }
            );
            assert_eq!(probe(&fifo).unwrap(), Entry::Other { kind: "a FIFO" });
        }
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert_eq!(
            refusal(&probe(&dangling).unwrap_err()),
            Some(&Refusal::DanglingLink)
        );
        let looped = dir.path().join("loop");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        assert!(probe(&looped).is_err());
        assert_eq!(probe(&dir.path().join("none")).unwrap(), Entry::Missing);
        assert_eq!(probe(dir.path()).unwrap(), Entry::Dir);
    }

    #[test]
    fn read_text_refuses_bytes_that_are_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"ab\xFFc").unwrap();
        let e = read_text(&path, SMALL).unwrap_err();
        assert_eq!(refusal(&e), Some(&Refusal::NotUtf8 { offset: 2 }));
    }

    #[test]
    fn lines_match_str_lines_and_flag_bad_bytes() {
        fn collect(b: &[u8]) -> Vec<(usize, Result<&str, BadLine<'_>>)> {
            lines(b).collect()
        }
        for text in [
            "", "a", "a\n", "a\r\nb", "a\n\nb\n", "\n", "\r\n\r\n", "x\ry\n",
        ] {
            let ours: Vec<&str> = lines(text.as_bytes()).map(|(_, l)| l.unwrap()).collect();
            assert_eq!(ours, text.lines().collect::<Vec<_>>(), "{text:?}");
        }
        let bad = BadLine {
            raw: b"b\xC3(",
            offset: 1,
        };
        assert_eq!(
            collect(b"\xEF\xBB\xBFa\nb\xC3(\nc"),
            [(1, Ok("a")), (2, Err(bad)), (3, Ok("c"))]
        );
    }
}
