//! `mmcl bench host` with the `host` feature: opens the storage (`--db`, `--blobs`),
//! runs `host::load`, prints the figures.

use super::{Args, CliError};
use crate::cli::{print_json, print_out};
use crate::encode::builtin::DEFAULT_MODEL;
use crate::encode::sha256_hex;
use crate::host::load::{self, LoadPlan, LoadReport};
use crate::host::storage::{self, BlobLocation};
use anyhow::anyhow;
use std::path::PathBuf;
use std::sync::Arc;

pub fn run(args: Args) -> Result<(), CliError> {
    let temp = match &args.db {
        Some(_) => None,
        None => Some(TempDir::new()?),
    };
    let db = match (&args.db, &temp) {
        (Some(db), _) => db.clone(),
        (None, Some(t)) => format!("sqlite:{}", t.0.join("host.db").display()),
        (None, None) => return Err(CliError::Runtime(anyhow!("no database"))),
    };
    let blobs = args.blobs.location()?;
    let storage = storage::open(&db, blobs.as_ref()).map_err(|e| CliError::Runtime(e.into()))?;
    let plan = LoadPlan {
        devices: args.devices as usize,
        bundles_per_device: args.bundles as usize,
        classes: args.classes as usize,
        dim: args.dim as usize,
        encoder_sha256: sha256_hex(DEFAULT_MODEL),
    };
    let report = load::run(&plan, Arc::from(storage)).map_err(|e| CliError::Runtime(e.into()))?;
    let backend = db.split(':').next().unwrap_or("sqlite").to_string();
    let blob_kind = match blobs {
        Some(BlobLocation::S3(_)) => "s3",
        _ => "files",
    };
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| CliError::Runtime(e.into()))?;
        v["db"] = serde_json::Value::String(backend);
        v["blobs"] = serde_json::Value::String(blob_kind.into());
        return print_json(&v);
    }
    print_out(&table(&report, &format!("{backend}, blobs in {blob_kind}")))
}

fn table(r: &LoadReport, backend: &str) -> String {
    let mut text = format!(
        "host on loopback ({backend}): {} devices x {} bundles of {} bytes\n",
        r.devices,
        r.bundles / r.devices.max(1),
        r.bytes_per_bundle
    );
    text += &format!(
        "{:.1} bundles/s ({} stored in {:.2} s); upload latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
        r.bundles_per_s, r.stored, r.seconds, r.latency_ms.p50, r.latency_ms.p99, r.latency_ms.max
    );
    if let Some(why) = &r.first_failure {
        text += &format!("{} uploads failed; the first: {why}\n", r.failed);
    }
    text
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, CliError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("mmcl-bench-host-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::Runtime(anyhow!("create {}: {e}", dir.display())))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
