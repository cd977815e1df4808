//! The read-only routes: registered devices and a device's bundle history.

use super::{blocking, ApiError, Host};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;

pub async fn devices(State(host): State<Arc<Host>>) -> Result<Json<serde_json::Value>, ApiError> {
    let storage = host.storage.clone();
    let devices = blocking(move || storage.devices()).await?;
    Ok(Json(serde_json::json!({ "devices": devices })))
}

pub async fn history(
    State(host): State<Arc<Host>>,
    Path(device): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    crate::uplink::check_device_id(&device)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.to_string()))?;
    let storage = host.storage.clone();
    let id = device.clone();
    let bundles = blocking(move || storage.history(&id)).await?;
    Ok(Json(
        serde_json::json!({ "device_id": device, "bundles": bundles }),
    ))
}
