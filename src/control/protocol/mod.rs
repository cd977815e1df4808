//! The control protocol, version 1 (docs/control.md has every frame): newline-delimited
//! JSON over a Unix stream socket. The server greets each connection with a `hello` frame;
//! the client sends requests `{"v": 1, "id": N, "request": NAME, "args": {...}}`, at most
//! `MAX_REQUEST_BYTES` each, and gets one response per request in order, carrying the same
//! `id`: `{"v": 1, "id": N, "ok": ...}` or `{"v": 1, "id": N, "error": {"kind", "message"}}`.
//! A `subscribe` is answered, then followed by `event` frames until either side closes; an
//! `export_snapshot` answer is followed by exactly `bytes` raw bytes (the snapshot file).
//!
//! This module owns the frame types and their encoding; `decode` checks a request line once
//! into a `RequestFrame`; `lines` reads bounded lines for both ends.

mod decode;
pub mod lines;

pub use decode::{decode_request, Refusal};

use super::api::{ControlError, Event};
use serde::{Deserialize, Serialize};

/// The protocol version this build speaks (`v` in every frame).
pub const PROTOCOL_VERSION: u32 = 1;
/// The longest request frame, newline included. Requests are small (a class name at most);
/// a longer line is refused after this many bytes, never buffered whole.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The longest response frame a client reads. Responses are larger than requests (a status
/// with every pipeline counter, a long class book) but still bounded, so a broken daemon
/// cannot make the CLI buffer without end. Snapshot bytes travel outside frames.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// One request with its envelope: the protocol version it was written for and the id the
/// response will carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFrame {
    pub v: u32,
    pub id: u64,
    #[serde(flatten)]
    pub request: Request,
}

/// Every request, by name; `args` holds the variant's fields (absent for those without).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "request",
    content = "args",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Request {
    Status,
    Classes,
    EnrollStart(EnrollStart),
    EnrollProgress(EnrollmentId),
    EnrollStop(EnrollmentId),
    EnrollCancel(EnrollmentId),
    Subscribe,
    Forget(Forget),
    Rename(Rename),
    Checkpoint,
    ExportSnapshot,
}

impl Request {
    /// The request's name on the wire (`enroll_start`, ...), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Classes => "classes",
            Request::EnrollStart(_) => "enroll_start",
            Request::EnrollProgress(_) => "enroll_progress",
            Request::EnrollStop(_) => "enroll_stop",
            Request::EnrollCancel(_) => "enroll_cancel",
            Request::Subscribe => "subscribe",
            Request::Forget(_) => "forget",
            Request::Rename(_) => "rename",
            Request::Checkpoint => "checkpoint",
            Request::ExportSnapshot => "export_snapshot",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollStart {
    /// The class name the captured windows are learned as.
    pub label: String,
    /// Seconds of stream to capture; absent: until `enroll_stop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Replay only: capture the next this many whole clips of class `label` instead
    /// (`daemon::clip_capture`); not with `seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clips: Option<u32>,
}

/// Names one enrollment: the `id` of the `EnrollProgress` that `enroll_start` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentId {
    pub enrollment: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forget {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

/// One frame from the server. `id` is the request's; absent on frames that answer no
/// request (the greeting, a refusal at connect, a line that could not be read as one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseFrame {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(flatten)]
    pub body: Body,
}

/// What a response frame carries, as its one key besides `v` and `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// The first frame on every accepted connection.
    Hello(Hello),
    /// The request's result: the report `ControlTarget` returned, as JSON.
    Ok(serde_json::Value),
    Error(ControlError),
    /// One event of a subscription.
    Event(Event),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// "mmcl".
    pub daemon: String,
    /// The daemon's crate version, for bug reports.
    pub version: String,
    /// The request size limit this server enforces.
    pub max_request_bytes: usize,
}

impl Hello {
    pub fn this_build() -> Hello {
        Hello {
            daemon: "mmcl".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            max_request_bytes: MAX_REQUEST_BYTES,
        }
    }
}

/// The `ok` of `subscribe`; `event` frames with the same id follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribed {
    pub subscribed: bool,
}

/// The `ok` of `enroll_cancel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub enrollment: u64,
    pub cancelled: bool,
}

/// The `ok` of `export_snapshot`: exactly `bytes` raw bytes follow the frame's newline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub bytes: u64,
    /// Hex SHA-256 of those bytes, so the client can tell a cut transfer.
    pub sha256: String,
}

/// Hex SHA-256, as `SnapshotHeader::sha256` carries it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ResponseFrame {
    pub fn new(id: Option<u64>, body: Body) -> ResponseFrame {
        ResponseFrame {
            v: PROTOCOL_VERSION,
            id,
            body,
        }
    }

    pub fn error(id: Option<u64>, error: ControlError) -> ResponseFrame {
        ResponseFrame::new(id, Body::Error(error))
    }
}

/// A frame as one line: compact JSON and `\n`. Serializing these types cannot fail (string
/// keys, finite numbers); should a non-finite float ever reach one, serde_json writes
/// `null` for it rather than refusing.
pub fn encode<T: Serialize>(frame: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(frame).unwrap_or_else(|e| {
        let error = ControlError::new(
            super::ErrorKind::Internal,
            format!("the reply could not be written as JSON: {e}"),
        );
        // A frame of a string and an enum always serializes.
        serde_json::to_vec(&ResponseFrame::error(None, error)).unwrap_or_default()
    });
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests;
