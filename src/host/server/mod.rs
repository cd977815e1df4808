//! `mmcl host serve`: the HTTP API devices upload bundles to and researchers list them
//! from (axum on tokio; the storage calls, which block, run on tokio's blocking pool).
//!
//! ```text
//! PUT  /v1/devices/{device}/bundles/{content hash}   bearer token of {device}; body: the bundle
//!      201 stored | 200 already stored | 400 malformed | 401 token | 413 too large
//!      | 422 refused (unknown encoder, another device's bundle, unloadable snapshot)
//! GET  /v1/devices                                   registered devices (JSON)
//! GET  /v1/devices/{device}/bundles                  a device's bundles in time order (JSON)
//! GET  /healthz
//! ```
//! Every error answers `{"error": {"kind", "message"}}` like the CLI's `--json`.
//! `serve` speaks plain HTTP (loopback, or forced); `serve_tls` HTTPS through rustls with
//! the ring provider (axum-server), the same TLS stack the device's ureq client uses.

mod query;
mod upload;

use super::storage::Storage;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The largest bundle accepted by default: a learner under a few MiB of budget, its class
/// book and counters fit many times over.
pub const DEFAULT_MAX_BUNDLE_BYTES: usize = 64 << 20;

/// What the server checks uploads against.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Bodies longer than this are refused with 413 while they are read.
    pub max_bundle_bytes: usize,
    /// Encoder sha256s (lowercase hex) whose snapshots the host accepts.
    pub known_encoders: BTreeSet<String>,
}

/// The server's shared state.
pub struct Host {
    pub storage: Arc<dyn Storage>,
    pub policy: Policy,
}

/// The API's routes on `host`.
pub fn router(host: Arc<Host>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/v1/devices", get(query::devices))
        .route("/v1/devices/{device}/bundles", get(query::history))
        .route(
            "/v1/devices/{device}/bundles/{hash}",
            put(upload::upload).post(upload::upload),
        )
        .with_state(host)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The certificate chain and private key `serve_tls` presents, read from PEM files.
pub async fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<axum_server::tls_rustls::RustlsConfig> {
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await
}

/// Serves `router` over TLS on `listener` until `shutdown` completes; connections still
/// open then get `DRAIN` to finish.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    router: Router,
    tls: axum_server::tls_rustls::RustlsConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(DRAIN));
    });
    axum_server::from_tcp_rustls(listener, tls)?
        .handle(handle)
        .serve(router.into_make_service())
        .await
}

/// An API error: a status and the JSON body the CLI's errors also use.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"kind": self.kind, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// Runs a blocking storage call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, super::storage::StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ApiError::internal(error_chain(&e))),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// `e` and its causes, each said once.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
