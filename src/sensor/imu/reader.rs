//! Lines from a file descriptor without ever blocking for long: the descriptor
//! is switched to non-blocking mode and waited on with poll(2) for at most the
//! caller's timeout, so a silent FIFO or serial port cannot hold a shutdown
//! back. Lines are bounded (`MAX_LINE` bytes): a stream without newlines cannot
//! grow the buffer.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// The longest line kept; a longer one is cut off and reported once.
pub const MAX_LINE: usize = 4096;

/// What one `next_line` call found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read1 {
    Line(String),
    /// Nothing arrived within the timeout (or a signal interrupted the wait).
    Idle,
    /// The writer is gone (end of a regular file, every FIFO writer closed).
    Eof,
    /// A line longer than `MAX_LINE` was dropped, with its length so far.
    TooLong(usize),
}

/// A non-blocking line reader over one open file.
#[derive(Debug)]
pub struct LineReader {
    file: File,
    buf: Vec<u8>,
    /// Bytes of an over-long line being skipped up to its newline.
    skipping: Option<usize>,
}

impl LineReader {
    /// Takes `file` and puts it in non-blocking mode.
    pub fn new(file: File) -> std::io::Result<LineReader> {
        set_nonblocking(&file)?;
        Ok(LineReader {
            file,
            buf: Vec::new(),
            skipping: None,
        })
    }

    /// The next complete line (without its newline), waiting at most `timeout`
    /// for bytes. An unterminated last line before EOF is returned as a line.
    pub fn next_line(&mut self, timeout: Duration) -> std::io::Result<Read1> {
        if let Some(found) = self.take_line() {
            return Ok(found);
        }
        if !wait_readable(&self.file, timeout)? {
            return Ok(Read1::Idle);
        }
        let mut chunk = [0u8; 4096];
        match self.file.read(&mut chunk) {
            Ok(0) if self.buf.is_empty() => Ok(Read1::Eof),
            Ok(0) => Ok(Read1::Line(self.take_rest())),
            Ok(n) => {
                self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                Ok(self.take_line().unwrap_or(Read1::Idle))
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                Ok(Read1::Idle)
            }
            Err(e) => Err(e),
        }
    }

    /// A buffered complete line, or the report of an over-long one.
    fn take_line(&mut self) -> Option<Read1> {
        let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
            if self.buf.len() > MAX_LINE {
                let dropped = self.buf.len();
                self.buf.clear();
                self.skipping = Some(self.skipping.unwrap_or(0) + dropped);
            }
            return None;
        };
        let line: Vec<u8> = self.buf.drain(..=end).take(end).collect();
        if let Some(skipped) = self.skipping.take() {
            return Some(Read1::TooLong(skipped + line.len()));
        }
        Some(Read1::Line(String::from_utf8_lossy(&line).into_owned()))
    }

    /// Back to the start of the file (a looping recording), buffered bytes dropped.
    pub fn rewind(&mut self) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(0))?;
        self.buf.clear();
        self.skipping = None;
        Ok(())
    }

    fn take_rest(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        rest
    }
}

pub(crate) fn set_nonblocking(file: &File) -> std::io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this `File` owns; no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout` for `file` to be readable (or at EOF / hung up).
pub(crate) fn wait_readable(file: &File, timeout: Duration) -> std::io::Result<bool> {
    let mut fds = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, count 1, for the duration of the call.
    match unsafe { libc::poll(&mut fds, 1, ms) } {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                ErrorKind::Interrupted => Ok(false),
                _ => Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_lines_then_an_unterminated_tail_then_eof() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"a,b\n\nlast").unwrap();
        let mut r = LineReader::new(reopen(&f)).unwrap();
        let t = Duration::from_millis(5);
        assert_eq!(r.next_line(t).unwrap(), Read1::Line("a,b".into()));
        assert_eq!(r.next_line(t).unwrap(), Read1::Line(String::new()));
        assert_eq!(r.next_line(t).unwrap(), Read1::Line("last".into()));
        assert_eq!(r.next_line(t).unwrap(), Read1::Eof);
    }

    #[test]
    fn an_over_long_line_is_dropped_and_reported_once() {
        let mut f = tempfile::tempfile().unwrap();
        let long = vec![b'9'; 3 * MAX_LINE];
        f.write_all(&long).unwrap();
        f.write_all(b"\nok\n").unwrap();
        let mut r = LineReader::new(reopen(&f)).unwrap();
        let mut got = Vec::new();
        loop {
            match r.next_line(Duration::from_millis(5)).unwrap() {
                Read1::Eof => break,
                Read1::Idle => {}
                other => got.push(other),
            }
        }
        assert_eq!(
            got,
            [Read1::TooLong(3 * MAX_LINE), Read1::Line("ok".into())]
        );
    }

    /// The same file from offset 0 (the writer's handle is at its end).
    fn reopen(f: &File) -> File {
        use std::io::{Seek, SeekFrom};
        let mut r = f.try_clone().unwrap();
        r.seek(SeekFrom::Start(0)).unwrap();
        r
    }
}
