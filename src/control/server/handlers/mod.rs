//! One handler per request, one flat `match` to dispatch. A handler calls its
//! `ControlTarget` method and shapes the result as the protocol sends it: a JSON report, a
//! snapshot's bytes with their header, or a subscription's channel. Requests reach here
//! decoded and checked (`protocol::decode_request`), so handlers hold no parsing.

mod checkpoint;
mod classes;
mod enroll_cancel;
mod enroll_progress;
mod enroll_start;
mod enroll_stop;
mod export_snapshot;
mod forget;
mod rename;
mod status;
mod subscribe;

use crate::control::api::{ControlError, ControlTarget, ErrorKind, Subscription};
use crate::control::protocol::{Request, SnapshotHeader};
use serde::Serialize;

/// What a handler answers with.
pub(super) enum Reply {
    /// The `ok` of a response frame.
    Json(serde_json::Value),
    /// The header frame's `ok`, then the raw bytes.
    Snapshot {
        header: SnapshotHeader,
        bytes: Vec<u8>,
    },
    /// Acknowledged, then streamed until the client goes.
    /// Dropping the subscription (when the stream ends) tells the daemon to stop feeding it.
    Events(Subscription),
}

pub(super) fn dispatch(
    target: &dyn ControlTarget,
    request: Request,
) -> Result<Reply, ControlError> {
    match request {
        Request::Status => status::handle(target),
        Request::Classes => classes::handle(target),
        Request::EnrollStart(args) => enroll_start::handle(target, &args),
        Request::EnrollProgress(args) => enroll_progress::handle(target, args),
        Request::EnrollStop(args) => enroll_stop::handle(target, args),
        Request::EnrollCancel(args) => enroll_cancel::handle(target, args),
        Request::Subscribe => subscribe::handle(target),
        Request::Forget(args) => forget::handle(target, &args),
        Request::Rename(args) => rename::handle(target, &args),
        Request::Checkpoint => checkpoint::handle(target),
        Request::ExportSnapshot => export_snapshot::handle(target),
    }
}

/// A report as the `ok` of a response.
fn json<T: Serialize>(report: &T) -> Result<Reply, ControlError> {
    serde_json::to_value(report).map(Reply::Json).map_err(|e| {
        ControlError::new(
            ErrorKind::Internal,
            format!("the reply could not be written as JSON: {e}"),
        )
    })
}
