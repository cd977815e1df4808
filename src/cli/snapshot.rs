//! `mmcl snapshot export --out FILE [--json]`: a copy of the running daemon's newest
//! snapshot file (written first if its journal holds changes), checked against the
//! SHA-256 the daemon sent and written to FILE atomically. `--json`: `{"path", "bytes",
//! "sha256"}`.

use super::control_client::{ClientArgs, Failure};
use super::CliError;
use crate::envelope::write_atomic;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Where to write the snapshot file (its directory must exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn export(args: ExportArgs) -> Result<(), CliError> {
    let outcome = fetch(&args).map(|(bytes, sha256)| {
        serde_json::json!({"path": args.out.display().to_string(), "bytes": bytes, "sha256": sha256})
    });
    args.client.show(outcome, |v| {
        Ok(format!(
            "wrote the snapshot ({} bytes, sha256 {}) to {}",
            v["bytes"],
            v["sha256"].as_str().unwrap_or_default(),
            args.out.display()
        ))
    })
}

/// Fetches and writes the snapshot: its size and hash.
fn fetch(args: &ExportArgs) -> Result<(u64, String), Failure> {
    let mut client = args.client.connect()?;
    let (header, bytes) = client.export_snapshot()?;
    write_atomic(&args.out, &bytes).map_err(|source| Failure::Write {
        path: args.out.clone(),
        source,
    })?;
    Ok((header.bytes, header.sha256))
}
