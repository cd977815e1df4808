//! `PUT /v1/devices/{device}/bundles/{hash}`: authenticate, read the body under the size
//! limit, validate, store once.
//!
//! Checks run cheapest and earliest first: the path, the token, the declared length
//! (a 1 GB `Content-Length` gets 413 before one body byte is read), then the body is read
//! with the limit enforced frame by frame (a chunked stream gets 413 as soon as it passes
//! the limit), then the checksum (the path's hash must be the sha256 of the body), the
//! bundle's frame, its device, its encoder, and that its class model restores: a bundle
//! `host eval` could not use is refused now, with its reason, not stored.

use super::{blocking, error_chain, ApiError, Host};
use crate::classes::ClassModel;
use crate::host::auth;
use crate::host::storage::{BundleMeta, Put};
use crate::uplink::bundle::{check_device_id, content_hash, is_content_hash, Bundle};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use std::sync::Arc;

pub async fn upload(
    State(host): State<Arc<Host>>,
    Path((device, hash)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bad = |kind, message: String| ApiError::new(StatusCode::BAD_REQUEST, kind, message);
    check_device_id(&device).map_err(|e| bad("invalid", e.to_string()))?;
    if !is_content_hash(&hash) {
        return Err(bad(
            "invalid",
            format!("{hash:?} is not a content hash (64 lowercase hex digits)"),
        ));
    }
    authenticate(&host, &device, &headers).await?;
    check_declared_length(&headers, host.policy.max_bundle_bytes)?;
    let bytes = read_limited(body, host.policy.max_bundle_bytes).await?;
    let computed = content_hash(&bytes);
    if computed != hash {
        return Err(bad(
            "checksum",
            format!("body of {} bytes has sha256 {computed}, the path says {hash} (truncated or altered in transit)", bytes.len()),
        ));
    }
    let meta = validate(&host, &device, &hash, &bytes)?;
    let storage = host.storage.clone();
    let stored = meta.clone();
    let put = blocking(move || storage.put_bundle(&stored, &bytes)).await?;
    let status = match put {
        Put::Stored => StatusCode::CREATED,
        Put::Duplicate => StatusCode::OK,
    };
    let body = serde_json::json!({
        "stored": put == Put::Stored,
        "content_hash": meta.content_hash,
        "device_id": meta.device_id,
        "snapshot_seq": meta.snapshot_seq,
    });
    Ok((status, Json(body)).into_response())
}

async fn authenticate(host: &Host, device: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("no bearer token (Authorization: Bearer TOKEN)"))?
        .trim()
        .to_string();
    let storage = host.storage.clone();
    let id = device.to_string();
    let valid = blocking(move || auth::is_valid(storage.as_ref(), &id, &token)).await?;
    if !valid {
        return Err(unauthorized(&format!(
            "the token is not an active token of device {device:?} (wrong, or revoked)"
        )));
    }
    Ok(())
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
}

/// 413 from the header alone, before any body byte is read.
fn check_declared_length(headers: &HeaderMap, max: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => Err(too_large(format!(
            "Content-Length {n} bytes exceeds the host's bundle limit of {max} bytes"
        ))),
        _ => Ok(()),
    }
}

/// The body, refused with 413 as soon as more than `max` bytes arrived.
async fn read_limited(mut body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "truncated",
                format!("reading the body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > max {
            return Err(too_large(format!(
                "the body passed the host's bundle limit of {max} bytes while it was read"
            )));
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// The bundle's frame, device, encoder and class model; its metadata when all hold.
fn validate(host: &Host, device: &str, hash: &str, bytes: &[u8]) -> Result<BundleMeta, ApiError> {
    let refused = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m);
    let bundle = Bundle::decode(bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()))?;
    if bundle.device_id != device {
        return Err(refused(format!(
            "the bundle is device {:?}'s, uploaded as device {device:?}",
            bundle.device_id
        )));
    }
    let encoder = bundle.snapshot.encoder_sha256.to_ascii_lowercase();
    if !host.policy.known_encoders.contains(&encoder) {
        return Err(refused(format!(
            "encoder {encoder} is not one this host knows (mmcl host serve --known-encoder)"
        )));
    }
    let model = ClassModel::restore(&bundle.snapshot.sections)
        .map_err(|e| refused(format!("the snapshot does not load: {}", error_chain(&e))))?;
    let classes = model.current().book().len();
    Ok(BundleMeta {
        content_hash: hash.to_string(),
        device_id: bundle.device_id,
        snapshot_seq: bundle.snapshot_seq,
        journal_seq: bundle.snapshot.journal_seq,
        encoder_sha256: encoder,
        created_at_ms: bundle.created_at_ms,
        received_at_ms: crate::host::unix_ms(),
        bytes: bytes.len() as u64,
        classes: u32::try_from(classes).unwrap_or(u32::MAX),
    })
}
