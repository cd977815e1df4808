//! `mmcl host serve | token add | token revoke | eval`: the host side of sync. The
//! arguments are always built; running them needs the `host` feature (`host_enabled`),
//! and a build without it says so (`host_disabled`), so `mmcl --help` reads the same on
//! every build.

use super::CliError;
use std::path::PathBuf;

#[cfg_attr(feature = "host", path = "host_enabled.rs")]
#[cfg_attr(not(feature = "host"), path = "host_disabled.rs")]
mod imp;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the sync API: devices upload bundles, researchers list them.
    Serve(ServeArgs),
    /// Device tokens: `add DEVICE_ID` prints a new token once; `revoke DEVICE_ID`.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Evaluate every stored snapshot of a device on a held-out test set: report.json and
    /// report.html (accuracy matrix, forgetting, BWT, per-class accuracy, fleet summary).
    Eval(EvalArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The device whose snapshots are evaluated.
    #[arg(long)]
    pub device: String,
    /// A dataset in the UESTC-MMEA-CL layout: its test split is the held-out set.
    #[arg(long)]
    pub testset: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// Where report.json and report.html go.
    #[arg(long)]
    pub out: PathBuf,
    /// Embedding cache directory (default: TESTSET/.mmcl-cache, the one bench cl uses).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub profile: super::profile_args::ProfileArgs,
    #[command(flatten)]
    pub encoder: super::profile_args::EncoderArgs,
    /// Print report.json on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8750 (port 0: any free port, printed).
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub db: DbArgs,
    /// Encoder sha256s whose snapshots are accepted, besides the built-in encoder's.
    #[arg(long = "known-encoder", value_name = "SHA256")]
    pub known_encoders: Vec<String>,
    /// The largest bundle accepted, bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BUNDLE_BYTES)]
    pub max_bundle_bytes: usize,
    /// Serve plain HTTP on a non-loopback address (tokens then cross the network in clear).
    #[arg(long)]
    pub allow_remote_plain: bool,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// The host's default (`host::server::DEFAULT_MAX_BUNDLE_BYTES`, which needs the feature).
const DEFAULT_MAX_BUNDLE_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The metadata database: `sqlite:PATH`, a path, or `postgres://USER[:PASSWORD]@HOST:PORT/DB`.
    #[arg(long)]
    pub db: String,
    #[command(flatten)]
    pub blobs: BlobArgs,
}

/// Where bundle bytes go: `--blobs` and the S3 flags. S3 credentials come from the
/// standard variables only (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, else web identity / ECS / EC2 instance credentials), never flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BlobArgs {
    /// Where bundle blobs go: a directory, or S3-compatible object storage
    /// `s3://BUCKET[/PREFIX]` [default: blobs/ next to an SQLite database; required with
    /// PostgreSQL].
    #[arg(long, value_name = "DIR|s3://BUCKET[/PREFIX]")]
    pub blobs: Option<String>,
    /// S3-compatible server to use instead of AWS (MinIO, Ceph, ...) [env: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// S3 region [env: AWS_REGION or AWS_DEFAULT_REGION; default us-east-1].
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// Allow a plain-HTTP --s3-endpoint (requests and bundles cross the network in clear).
    #[arg(long)]
    pub s3_allow_http: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Register DEVICE_ID if new and print a new token for it (shown only this once).
    Add(TokenArgs),
    /// Revoke every token of DEVICE_ID.
    Revoke(TokenArgs),
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    pub device_id: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: Command) -> Result<(), CliError> {
    imp::run(command)
}
