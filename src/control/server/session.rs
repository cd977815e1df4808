//! One client's thread: greet, then read bounded request lines and answer each in order
//! until the client closes, idles past `idle_timeout`, fails to take a reply within
//! `write_timeout`, sends a line longer than `MAX_REQUEST_BYTES`, or the server stops.
//! A malformed line is answered and the next line read (framing survives a bad request);
//! an over-long one is answered and the connection closed (framing does not).

use super::handlers::{self, Reply};
use super::{subscription, Counters, Shared};
use crate::control::api::{ControlError, ErrorKind};
use crate::control::protocol::lines::{Line, LineReader};
use crate::control::protocol::{
    decode_request, encode, Body, Hello, Refusal, Request, ResponseFrame, SnapshotHeader,
    Subscribed, MAX_REQUEST_BYTES,
};
use crate::control::sys::{self, Ready};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::AssertUnwindSafe;

/// Whether the session goes on after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Continue,
    Close,
}

pub(super) fn run(stream: UnixStream, shared: &Shared) {
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_write_timeout(Some(shared.config.write_timeout)));
    let session = Session {
        stream: &stream,
        shared,
    };
    let hello = ResponseFrame::new(None, Body::Hello(Hello::this_build()));
    if setup.is_err() || session.send(&encode(&hello)) == Next::Close {
        return;
    }
    let mut lines = LineReader::new(Polled(session), MAX_REQUEST_BYTES);
    // A read error (idle, stopping, reset) ends the session like a close does.
    while let Ok(line) = lines.next_line() {
        let next = match line {
            Line::Frame(bytes) => session.answer(&bytes),
            Line::TooLong => session.too_long(),
            Line::End => Next::Close,
        };
        if next == Next::Close {
            return;
        }
    }
}

#[derive(Clone, Copy)]
struct Session<'a> {
    stream: &'a UnixStream,
    shared: &'a Shared,
}

impl Session<'_> {
    fn answer(&self, line: &[u8]) -> Next {
        Counters::add(&self.shared.counters.requests);
        match decode_request(line) {
            Ok(frame) => self.reply(frame.id, frame.request),
            Err(Refusal { id, error }) => {
                Counters::add(&self.shared.counters.bad_requests);
                self.send(&encode(&ResponseFrame::error(id, error)))
            }
        }
    }

    fn reply(&self, id: u64, request: Request) -> Next {
        let name = request.name();
        // A panicking target method costs this client its answer, never the daemon.
        let target = &*self.shared.target;
        let reply =
            std::panic::catch_unwind(AssertUnwindSafe(|| handlers::dispatch(target, request)))
                .unwrap_or_else(|_| {
                    let message = format!("the daemon failed while answering `{name}`");
                    Err(ControlError::new(ErrorKind::Internal, message))
                });
        match reply {
            Ok(Reply::Json(value)) => {
                self.send(&encode(&ResponseFrame::new(Some(id), Body::Ok(value))))
            }
            Ok(Reply::Snapshot { header, bytes }) => self.send_snapshot(id, &header, &bytes),
            Ok(Reply::Events(events)) => {
                let ok = serde_json::json!(Subscribed { subscribed: true });
                if self.send(&encode(&ResponseFrame::new(Some(id), Body::Ok(ok)))) == Next::Continue
                {
                    subscription::stream(self.stream, id, &events, self.shared);
                }
                Next::Close
            }
            Err(error) => self.send(&encode(&ResponseFrame::error(Some(id), error))),
        }
    }

    fn send_snapshot(&self, id: u64, header: &SnapshotHeader, bytes: &[u8]) -> Next {
        let ok = serde_json::json!(header);
        match self.send(&encode(&ResponseFrame::new(Some(id), Body::Ok(ok)))) {
            Next::Continue => self.send(bytes),
            Next::Close => Next::Close,
        }
    }

    fn too_long(&self) -> Next {
        Counters::add(&self.shared.counters.requests);
        Counters::add(&self.shared.counters.bad_requests);
        let message = format!(
            "request frame longer than {MAX_REQUEST_BYTES} bytes (newline included); closing the connection"
        );
        let error = ControlError::new(ErrorKind::BadRequest, message);
        self.send(&encode(&ResponseFrame::error(None, error)));
        Next::Close
    }

    /// Writes `bytes` whole within the write timeout, or closes.
    fn send(&self, bytes: &[u8]) -> Next {
        match (&*self.stream).write_all(bytes) {
            Ok(()) => Next::Continue,
            Err(e) => {
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) {
                    Counters::add(&self.shared.counters.write_timeouts);
                }
                Next::Close
            }
        }
    }
}

/// The client's socket as a `Read` that gives up when the server stops or the client
/// has sent nothing for `idle_timeout`.
struct Polled<'a>(Session<'a>);

impl Read for Polled<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Session { stream, shared } = self.0;
        let idle = Some(shared.config.idle_timeout);
        match sys::wait_readable(stream.as_raw_fd(), shared.wake.fd(), idle)? {
            Ready::Readable => (&*stream).read(buf),
            Ready::Woken => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the server is stopping",
            )),
            Ready::TimedOut => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client sent nothing",
            )),
        }
    }
}
