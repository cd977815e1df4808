//! A device's stored snapshots, read back for evaluation: every bundle of its history in
//! time order, decoded, each checked to be of the encoder the test set is embedded with
//! (a snapshot learned on another encoder's embeddings cannot be scored on these).

use super::storage::{Storage, StorageError};
use crate::uplink::Bundle;

/// Why a device's history could not be read for evaluation.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("device {device:?}: reading its history")]
    Storage {
        device: String,
        #[source]
        source: Box<StorageError>,
    },
    #[error(
        "device {device:?} snapshot {seq}: bundle {hash} is listed but its bytes are not stored"
    )]
    Missing {
        device: String,
        seq: u64,
        hash: String,
    },
    #[error("device {device:?} snapshot {seq}: bundle {hash} does not decode")]
    Decode {
        device: String,
        seq: u64,
        hash: String,
        #[source]
        source: Box<crate::envelope::EnvelopeError>,
    },
    #[error("device {device:?} snapshot {seq} was learned with encoder {snapshot}, the test set is embedded with encoder {testset}: pass the snapshot's encoder (--model or --config)")]
    EncoderMismatch {
        device: String,
        seq: u64,
        snapshot: String,
        testset: String,
    },
}

/// Every stored bundle of `device` in time order, all of encoder `encoder_sha256`.
pub fn load(
    storage: &dyn Storage,
    device: &str,
    encoder_sha256: &str,
) -> Result<Vec<Bundle>, HistoryError> {
    let storage_error = |source| HistoryError::Storage {
        device: device.to_string(),
        source: Box::new(source),
    };
    let metas = storage.history(device).map_err(storage_error)?;
    let mut bundles = Vec::with_capacity(metas.len());
    for meta in metas {
        let (seq, hash) = (meta.snapshot_seq, meta.content_hash.clone());
        if !meta.encoder_sha256.eq_ignore_ascii_case(encoder_sha256) {
            return Err(HistoryError::EncoderMismatch {
                device: device.to_string(),
                seq,
                snapshot: meta.encoder_sha256,
                testset: encoder_sha256.to_string(),
            });
        }
        let bytes = storage
            .bundle_bytes(&hash)
            .map_err(storage_error)?
            .ok_or_else(|| HistoryError::Missing {
                device: device.to_string(),
                seq,
                hash: hash.clone(),
            })?;
        let bundle = Bundle::decode(&bytes).map_err(|source| HistoryError::Decode {
            device: device.to_string(),
            seq,
            hash,
            source: Box::new(source),
        })?;
        bundles.push(bundle);
    }
    Ok(bundles)
}
