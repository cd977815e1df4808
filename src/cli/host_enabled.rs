//! `mmcl host` with the `host` feature: the server on a tokio runtime (plain HTTP, or
//! HTTPS with `--tls-cert`/`--tls-key`), token management;
//! `host eval` is `cli::host_eval`.

use super::{BlobArgs, CliError, Command, DbArgs, ServeArgs, TokenArgs, TokenCommand};
use crate::cli::{diag, print_json, print_line};
use crate::encode::builtin::DEFAULT_MODEL;
use crate::encode::sha256_hex;
use crate::host::server::{self, Host, Policy};
use crate::host::storage::{self, BlobLocation, S3Options, Storage};
use crate::host::{auth, unix_ms};
use crate::uplink::check_device_id;
use anyhow::anyhow;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

pub fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve(args),
        Command::Token(TokenCommand::Add(args)) => token_add(args),
        Command::Token(TokenCommand::Revoke(args)) => token_revoke(args),
        Command::Eval(args) => super::super::host_eval::run(args),
    }
}

impl DbArgs {
    /// The storage `--db` and `--blobs` (with the S3 flags) name, opened.
    pub fn open(&self) -> Result<Box<dyn Storage>, CliError> {
        let blobs = self.blobs.location()?;
        storage::open(&self.db, blobs.as_ref()).map_err(|e| CliError::Runtime(e.into()))
    }
}

impl BlobArgs {
    /// `--blobs` and the S3 flags, checked (exit 2 when they do not make sense).
    pub fn location(&self) -> Result<Option<BlobLocation>, CliError> {
        let options = S3Options {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            allow_http: self.s3_allow_http,
        };
        BlobLocation::from_flags(self.blobs.as_deref(), options)
            .map_err(|e| CliError::Input(e.into()))
    }
}

fn known_encoders(extra: &[String]) -> Result<BTreeSet<String>, CliError> {
    let mut known = BTreeSet::from([sha256_hex(DEFAULT_MODEL)]);
    for sha in extra {
        let sha = sha.to_ascii_lowercase();
        if !crate::uplink::bundle::is_content_hash(&sha) {
            return Err(CliError::Input(anyhow!(
                "--known-encoder {sha:?}: not a sha256 (64 hex digits)"
            )));
        }
        known.insert(sha);
    }
    Ok(known)
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    let tls = args.tls_cert.clone().zip(args.tls_key.clone());
    if tls.is_none() && !args.listen.ip().is_loopback() && !args.allow_remote_plain {
        return Err(CliError::Input(anyhow!(
            "--listen {}: plain HTTP is served only on loopback; give --tls-cert and --tls-key, or pass --allow-remote-plain to serve it on {} anyway (tokens cross the network in clear)",
            args.listen,
            args.listen.ip()
        )));
    }
    let host = Arc::new(Host {
        storage: Arc::from(args.db.open()?),
        policy: Policy {
            max_bundle_bytes: args.max_bundle_bytes,
            known_encoders: known_encoders(&args.known_encoders)?,
        },
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(anyhow!("start the async runtime: {e}")))?;
    let router = server::router(host);
    runtime.block_on(async move {
        match tls {
            None => serve_plain(args.listen, router).await,
            Some((cert, key)) => serve_https(args.listen, router, &cert, &key).await,
        }
    })
}

async fn serve_plain(listen: SocketAddr, router: axum::Router) -> Result<(), CliError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::Runtime(anyhow!("listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Runtime(e.into()))?;
    // Tests and scripts read the address (port 0 picks one) from this line.
    println!("listening on http://{addr}");
    server::serve(listener, router, stop_signal())
        .await
        .map_err(|e| CliError::Runtime(anyhow!("serve: {e}")))
}

async fn serve_https(
    listen: SocketAddr,
    router: axum::Router,
    cert: &Path,
    key: &Path,
) -> Result<(), CliError> {
    let tls = server::tls_config(cert, key).await.map_err(|e| {
        CliError::Input(anyhow!(
            "--tls-cert {} / --tls-key {}: {e}",
            cert.display(),
            key.display()
        ))
    })?;
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| CliError::Runtime(anyhow!("listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Runtime(e.into()))?;
    println!("listening on https://{addr}");
    server::serve_tls(listener, router, tls, stop_signal())
        .await
        .map_err(|e| CliError::Runtime(anyhow!("serve: {e}")))
}

/// Completes on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn token_add(args: TokenArgs) -> Result<(), CliError> {
    check_device_id(&args.device_id).map_err(|e| CliError::Input(e.into()))?;
    let storage = args.db.open()?;
    let token = auth::new_token();
    storage
        .add_token(&args.device_id, &auth::token_hash(&token), unix_ms())
        .map_err(|e| CliError::Runtime(e.into()))?;
    if args.json {
        return print_json(&serde_json::json!({"device_id": args.device_id, "token": token}));
    }
    diag(&format!(
        "token for device {} (shown only now; the host keeps its sha256):",
        args.device_id
    ));
    print_line(&token)
}

fn token_revoke(args: TokenArgs) -> Result<(), CliError> {
    check_device_id(&args.device_id).map_err(|e| CliError::Input(e.into()))?;
    let storage = args.db.open()?;
    let revoked = storage
        .revoke_tokens(&args.device_id, unix_ms())
        .map_err(|e| CliError::Runtime(e.into()))?;
    if args.json {
        return print_json(&serde_json::json!({"device_id": args.device_id, "revoked": revoked}));
    }
    print_line(&format!(
        "revoked {revoked} token(s) of device {}",
        args.device_id
    ))
}
