//! `export_snapshot`: the newest snapshot file, sent as a header frame (`bytes`, `sha256`)
//! followed by the raw bytes, so a multi-megabyte snapshot costs no base64 and no frame
//! limit.

use super::Reply;
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::{sha256_hex, SnapshotHeader};

pub(super) fn handle(target: &dyn ControlTarget) -> Result<Reply, ControlError> {
    let bytes = target.export_snapshot()?;
    let header = SnapshotHeader {
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    };
    Ok(Reply::Snapshot { header, bytes })
}
