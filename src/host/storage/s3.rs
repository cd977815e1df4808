//! `S3Blobs`: bundle bytes in S3-compatible object storage through `object_store` (its
//! S3 client on reqwest with rustls and the ring provider: no C library), one object per
//! content hash at `PREFIX/<2 hex>/<hash>.mmcl`.
//!
//! The `Storage` contract is blocking and `object_store` is async, so the store owns a
//! small tokio runtime of its own (two worker threads) and every call is spawned onto it
//! while the calling thread waits on a channel. That works from any thread — the
//! server's blocking pool, the CLI's main thread, a test's threads — and never nests one
//! runtime's `block_on` in another's. On drop the runtime is shut down in the background,
//! which is allowed inside async code (the server drops its storage there), where dropping
//! a runtime the usual way panics.
//!
//! Puts are plain overwriting PUTs of one request (no multipart: bundles are far below
//! S3's 5 GB single-PUT limit; no `If-None-Match`: rewriting an object with the bytes its
//! key names is harmless, and it needs no conditional-write support from the server).
//! Requests are signed with the payload's sha256, which S3 checks on receipt; reads are
//! checked against the content hash by `BlobStore::get_stored`.

use super::blob_url::{S3Config, S3Credentials};
use super::blobs::{blob_name, BlobStore, MAX_BLOB_BYTES};
use super::StorageError;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientConfigKey, GetOptions, ObjectStore, PutOptions, PutPayload, RetryConfig,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A failed request is retried this often within `RETRY_WINDOW`: an S3 outage answers
/// the device (which keeps its bundle queued) within seconds, not object_store's default
/// three minutes.
const RETRIES: usize = 3;
const RETRY_WINDOW: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: &str = "5s";
/// Per request: a 64 MiB bundle at a few MB/s fits.
const REQUEST_TIMEOUT: &str = "60s";

/// Blobs in one bucket under one prefix (see the module docs).
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    /// `Some` until drop.
    runtime: Option<tokio::runtime::Runtime>,
    bucket: String,
    prefix: String,
}

impl S3Blobs {
    /// A client for `config`. No request is made: a wrong bucket, endpoint or key shows on
    /// the first put or get, with the object's URL and the server's answer.
    pub fn open(config: &S3Config) -> Result<S3Blobs, StorageError> {
        let invalid = |e: object_store::Error| StorageError::BlobUrl {
            url: config.url(),
            why: message(&e),
        };
        // reqwest's rustls takes the process's provider: ring, as ureq and axum-server use.
        // Err means one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = builder(config).build().map_err(invalid)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mmcl-s3")
            .enable_all()
            .build()
            .map_err(|error| StorageError::ObjectStore {
                action: "start the S3 client's runtime for",
                location: config.url(),
                message: error.to_string(),
            })?;
        Ok(S3Blobs {
            store: Arc::new(store),
            runtime: Some(runtime),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
        })
    }

    fn key(&self, hash: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(blob_name(hash))
        } else {
            ObjectPath::from(format!("{}/{}", self.prefix, blob_name(hash)))
        }
    }

    /// Runs `request` on the store's runtime and waits for it on this thread.
    fn run<T: Send + 'static>(
        &self,
        location: String,
        request: impl Future<Output = Result<T, StorageError>> + Send + 'static,
    ) -> Result<T, StorageError> {
        let stopped = |location| StorageError::ObjectStore {
            action: "reach",
            location,
            message: "the S3 client's runtime has stopped".into(),
        };
        let Some(runtime) = &self.runtime else {
            return Err(stopped(location));
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(request.await);
        });
        // A request that panicked drops its sender: an error, not a hang.
        rx.recv().unwrap_or_else(|_| Err(stopped(location)))
    }
}

/// The S3 client `config` describes: its credentials, then bucket, endpoint, region and
/// plain-HTTP permission from the flags (each overriding its `AWS_*` variable).
fn builder(config: &S3Config) -> AmazonS3Builder {
    let mut b = match &config.credentials {
        S3Credentials::Environment => AmazonS3Builder::from_env(),
        S3Credentials::Static {
            access_key_id,
            secret_access_key,
        } => AmazonS3Builder::new()
            .with_access_key_id(access_key_id)
            .with_secret_access_key(secret_access_key),
    };
    b = b
        .with_bucket_name(&config.bucket)
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: RETRIES,
            retry_timeout: RETRY_WINDOW,
        })
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            CONNECT_TIMEOUT,
        )
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
            REQUEST_TIMEOUT,
        );
    let options = &config.options;
    if let Some(endpoint) = &options.endpoint {
        b = b.with_endpoint(endpoint);
    }
    if let Some(region) = &options.region {
        b = b.with_region(region);
    }
    if options.allow_http {
        b = b.with_allow_http(true);
    }
    b
}

/// An object_store error and its causes, each said once (its `Display` often repeats
/// the cause that `source()` gives again).
fn message(e: &object_store::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

impl BlobStore for S3Blobs {
    fn put(&self, hash: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let (store, key, location) = (self.store.clone(), self.key(hash), self.location(hash));
        let payload = PutPayload::from(bytes.to_vec());
        self.run(location.clone(), async move {
            store
                .put_opts(&key, payload, PutOptions::default())
                .await
                .map(|_| ())
                .map_err(|e| StorageError::ObjectStore {
                    action: "put blob",
                    location,
                    message: message(&e),
                })
        })
    }

    fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let (store, key, location) = (self.store.clone(), self.key(hash), self.location(hash));
        self.run(location.clone(), async move {
            let failed = |location, e: &object_store::Error| StorageError::ObjectStore {
                action: "get blob",
                location,
                message: message(e),
            };
            let got = match store.get_opts(&key, GetOptions::default()).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(failed(location, &e)),
            };
            if got.meta.size > MAX_BLOB_BYTES {
                return Err(StorageError::BlobTooLarge {
                    location,
                    bytes: got.meta.size,
                    limit: MAX_BLOB_BYTES,
                });
            }
            match got.bytes().await {
                Ok(bytes) => Ok(Some(bytes.to_vec())),
                Err(e) => Err(failed(location, &e)),
            }
        })
    }

    fn location(&self, hash: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(hash))
    }
}

impl Drop for S3Blobs {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
