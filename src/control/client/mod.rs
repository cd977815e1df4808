//! The client the CLI uses: connect to the daemon's socket, check its greeting, send
//! requests and read their answers (`call`, `call_as`), fetch a snapshot's bytes
//! (`export_snapshot`, checked against their SHA-256), or turn the connection into a
//! stream of events (`subscribe`). Replies are read with the response limit and a reply
//! timeout, so a wedged daemon costs a clear error rather than a hung terminal.

mod error;

pub use error::ClientError;

use super::api::Event;
use super::protocol::lines::{Line, LineReader};
use super::protocol::{
    encode, sha256_hex, Body, Hello, Request, RequestFrame, ResponseFrame, SnapshotHeader,
    MAX_RESPONSE_BYTES, PROTOCOL_VERSION,
};
use super::ErrorKind;
use serde::de::DeserializeOwned;
use std::io::{ErrorKind as IoKind, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a request may take to be answered (an `enroll_stop` learns, a `checkpoint`
/// writes a snapshot): generous, but not forever.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(300);

/// The default socket when no profile names one: systemd's `RuntimeDirectory=mmcl`.
pub const DEFAULT_SOCKET: &str = "/run/mmcl/control.sock";

/// One connection to the daemon.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    lines: LineReader<UnixStream>,
    hello: Hello,
    next_id: u64,
}

impl Client {
    /// Connects and reads the greeting (or the refusal the daemon sends instead).
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|e| connect_error(path, e))?;
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(REPLY_TIMEOUT)))
            .map_err(ClientError::io(path, "configure the connection to"))?;
        let mut lines = LineReader::new(stream, MAX_RESPONSE_BYTES);
        let hello = match read_frame(&mut lines, path)?.body {
            Body::Hello(hello) => hello,
            Body::Error(e) if e.kind == ErrorKind::PermissionDenied => {
                return Err(ClientError::permission(path, Some(e.message)))
            }
            Body::Error(e) => return Err(ClientError::Refused(e)),
            other => {
                return Err(ClientError::protocol(
                    path,
                    format!("greeted with {other:?}"),
                ))
            }
        };
        Ok(Client {
            path: path.to_path_buf(),
            lines,
            hello,
            next_id: 1,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the daemon said about itself when greeting.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Sends `request` and returns its `ok` as the daemon wrote it.
    pub fn call(&mut self, request: Request) -> Result<serde_json::Value, ClientError> {
        let id = self.send(request)?;
        let frame = self.read()?;
        match (frame.id, frame.body) {
            (Some(got), Body::Ok(value)) if got == id => Ok(value),
            (Some(got), Body::Error(e)) if got == id => Err(ClientError::Refused(e)),
            // No id: the answer to a line the server could not read as a request.
            (None, Body::Error(e)) => Err(ClientError::Refused(e)),
            (got, body) => Err(ClientError::protocol(
                &self.path,
                format!("expected the answer to request {id}, got {body:?} for {got:?}"),
            )),
        }
    }

    /// As `call`, with the `ok` read as `T`.
    pub fn call_as<T: DeserializeOwned>(&mut self, request: Request) -> Result<T, ClientError> {
        let name = request.name();
        let value = self.call(request)?;
        serde_json::from_value(value)
            .map_err(|e| ClientError::protocol(&self.path, format!("the answer to `{name}`: {e}")))
    }

    /// The newest snapshot file's bytes, checked against the header's SHA-256.
    pub fn export_snapshot(&mut self) -> Result<(SnapshotHeader, Vec<u8>), ClientError> {
        let header: SnapshotHeader = self.call_as(Request::ExportSnapshot)?;
        let bytes = self
            .lines
            .read_bytes(header.bytes)
            .map_err(|e| read_error(&self.path, e))?;
        if sha256_hex(&bytes) != header.sha256 {
            let message = format!(
                "the {} snapshot bytes do not match their sha256",
                bytes.len()
            );
            return Err(ClientError::protocol(&self.path, message));
        }
        Ok((header, bytes))
    }

    /// Subscribes; the connection then carries only events, with no reply timeout.
    pub fn subscribe(mut self) -> Result<EventStream, ClientError> {
        self.call(Request::Subscribe)?;
        self.lines
            .get_ref()
            .set_read_timeout(None)
            .map_err(ClientError::io(&self.path, "configure the connection to"))?;
        Ok(EventStream { client: self })
    }

    fn send(&mut self, request: Request) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let line = encode(&RequestFrame {
            v: PROTOCOL_VERSION,
            id,
            request,
        });
        match self.lines.get_ref().write_all(&line) {
            Ok(()) => Ok(id),
            Err(e) if e.kind() == IoKind::BrokenPipe => Err(ClientError::Closed {
                path: self.path.clone(),
            }),
            Err(e) => Err(ClientError::io(&self.path, "send a request to")(e)),
        }
    }

    fn read(&mut self) -> Result<ResponseFrame, ClientError> {
        read_frame(&mut self.lines, &self.path)
    }
}

/// A subscribed connection.
#[derive(Debug)]
pub struct EventStream {
    client: Client,
}

impl EventStream {
    /// The next event; `Ok(None)` when the daemon closed the stream.
    pub fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        match self.client.read() {
            Ok(ResponseFrame {
                body: Body::Event(event),
                ..
            }) => Ok(Some(event)),
            Ok(ResponseFrame {
                body: Body::Error(e),
                ..
            }) => Err(ClientError::Refused(e)),
            Ok(other) => Err(ClientError::protocol(
                &self.client.path,
                format!("expected an event, got {other:?}"),
            )),
            Err(ClientError::Closed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn connect_error(path: &Path, e: std::io::Error) -> ClientError {
    match e.kind() {
        IoKind::NotFound | IoKind::ConnectionRefused => ClientError::NotRunning {
            path: path.to_path_buf(),
        },
        IoKind::PermissionDenied => ClientError::permission(path, None),
        _ => ClientError::io(path, "connect to")(e),
    }
}

fn read_frame(
    lines: &mut LineReader<UnixStream>,
    path: &Path,
) -> Result<ResponseFrame, ClientError> {
    let bytes = match lines.next_line().map_err(|e| read_error(path, e))? {
        Line::Frame(bytes) => bytes,
        Line::TooLong => {
            let message = format!("a reply longer than {MAX_RESPONSE_BYTES} bytes");
            return Err(ClientError::protocol(path, message));
        }
        Line::End => {
            return Err(ClientError::Closed {
                path: path.to_path_buf(),
            })
        }
    };
    let frame: ResponseFrame = serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::protocol(path, format!("unreadable frame: {e}")))?;
    if frame.v != PROTOCOL_VERSION {
        let message = format!(
            "it speaks protocol version {}; this mmcl speaks version {PROTOCOL_VERSION}",
            frame.v
        );
        return Err(ClientError::protocol(path, message));
    }
    Ok(frame)
}

fn read_error(path: &Path, e: std::io::Error) -> ClientError {
    match e.kind() {
        IoKind::ConnectionReset | IoKind::UnexpectedEof | IoKind::BrokenPipe => {
            ClientError::Closed {
                path: path.to_path_buf(),
            }
        }
        IoKind::WouldBlock | IoKind::TimedOut => ClientError::Timeout {
            path: path.to_path_buf(),
            seconds: REPLY_TIMEOUT.as_secs(),
        },
        _ => ClientError::io(path, "wait for the answer of")(e),
    }
}
