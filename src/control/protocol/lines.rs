//! Bounded line reading for both ends of the socket. A frame is the bytes before a `\n`
//! (a `\r` before it is dropped too), at most `max` bytes counting the newline. A longer
//! line is reported as `TooLong` as soon as `max` bytes are buffered without a newline, so
//! the buffer never holds more than `max` plus one read: a 100 MB line costs 64 KiB.

use std::io::{self, Read};

/// Bytes asked of the reader per call.
const CHUNK: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// One frame, without its line ending. A last frame cut by end of stream (no newline)
    /// still counts: `printf '{...}' | socat` is a fair client.
    Frame(Vec<u8>),
    /// The line is longer than the limit; what follows cannot be framed any more.
    TooLong,
    /// End of stream between frames.
    End,
}

/// Reads `Line`s from `inner`; what was read past a frame stays buffered for the next.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R, max: usize) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::new(),
            max,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The next frame. Errors are the reader's (a timeout, a reset); the stream is then
    /// in an unknown state and should be closed.
    pub fn next_line(&mut self) -> io::Result<Line> {
        let mut scanned = 0;
        loop {
            if let Some(at) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                return Ok(self.take_frame(scanned + at));
            }
            scanned = self.buf.len();
            if self.buf.len() >= self.max {
                return Ok(Line::TooLong);
            }
            if self.fill()? == 0 {
                return Ok(match std::mem::take(&mut self.buf) {
                    rest if rest.is_empty() => Line::End,
                    rest => Line::Frame(rest),
                });
            }
        }
    }

    /// Exactly `n` bytes from where the last frame ended (a snapshot after its header),
    /// grown as they arrive rather than allocated up front from a length the peer gave.
    pub fn read_bytes(&mut self, n: u64) -> io::Result<Vec<u8>> {
        let buffered = self.buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        let mut out: Vec<u8> = self.buf.drain(..buffered).collect();
        let rest = n - buffered as u64;
        (&mut self.inner).take(rest).read_to_end(&mut out)?;
        if (out.len() as u64) < n {
            let message = format!("stream ended after {} of {n} bytes", out.len());
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, message));
        }
        Ok(out)
    }

    /// The frame ending with the newline at `newline`.
    fn take_frame(&mut self, newline: usize) -> Line {
        if newline + 1 > self.max {
            return Line::TooLong;
        }
        let mut frame: Vec<u8> = self.buf.drain(..=newline).collect();
        frame.pop();
        if frame.last() == Some(&b'\r') {
            frame.pop();
        }
        Line::Frame(frame)
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; CHUNK];
        loop {
            match self.inner.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes per read, to cut frames at every boundary.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn lines(data: &[u8], step: usize, max: usize) -> Vec<Line> {
        let mut r = LineReader::new(Trickle { data, step }, max);
        let mut out = Vec::new();
        loop {
            let line = r.next_line().unwrap();
            let last = matches!(line, Line::End | Line::TooLong);
            out.push(line);
            if last {
                return out;
            }
        }
    }

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        let data = b"{\"a\":1}\r\n\n{\"b\":2}\nlast";
        for step in [1, 2, 3, 7, 100] {
            assert_eq!(
                lines(data, step, 64),
                [
                    Line::Frame(b"{\"a\":1}".to_vec()),
                    Line::Frame(Vec::new()),
                    Line::Frame(b"{\"b\":2}".to_vec()),
                    Line::Frame(b"last".to_vec()),
                    Line::End,
                ]
            );
        }
    }

    #[test]
    fn a_line_at_the_limit_passes_and_one_byte_more_is_too_long() {
        let ok = [vec![b'x'; 9], vec![b'\n']].concat();
        assert_eq!(lines(&ok, 4, 10)[0], Line::Frame(vec![b'x'; 9]));
        let long = [vec![b'x'; 10], vec![b'\n']].concat();
        assert_eq!(lines(&long, 4, 10), [Line::TooLong]);
        assert_eq!(lines(&long, 100, 10), [Line::TooLong]);
    }

    #[test]
    fn an_endless_line_is_refused_after_the_limit_plus_one_read() {
        struct Endless(usize);
        impl Read for Endless {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                out.fill(b'x');
                self.0 += out.len();
                Ok(out.len())
            }
        }
        let mut r = LineReader::new(Endless(0), 64 * 1024);
        assert_eq!(r.next_line().unwrap(), Line::TooLong);
        assert!(r.get_ref().0 < 64 * 1024 + CHUNK, "read {}", r.get_ref().0);
    }

    #[test]
    fn bytes_after_a_frame_are_read_exactly() {
        let data = b"{\"ok\":3}\nabcdefgh{\"next\":1}\n";
        let mut r = LineReader::new(Trickle { data, step: 5 }, 64);
        assert_eq!(r.next_line().unwrap(), Line::Frame(b"{\"ok\":3}".to_vec()));
        assert_eq!(r.read_bytes(8).unwrap(), b"abcdefgh");
        assert_eq!(
            r.next_line().unwrap(),
            Line::Frame(b"{\"next\":1}".to_vec())
        );
        let err = r.read_bytes(3).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
