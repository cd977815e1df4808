//! `mmcl sync [--now] [--json] --config F [--state-dir D]`: queues the state directory's
//! snapshots the uplink queue has not seen, and with `--now` pushes the queue to the host
//! of the profile's `[uplink]` once, in this process (a running daemon's sync thread may
//! push at the same time: the queue is locked per step and the host is idempotent, so
//! that is harmless). Reports queued / sent / dropped.

use super::{print_json, print_line, CliError};
use crate::config::{Config, DaemonConfig};
use crate::store::SnapshotStore;
use crate::uplink::sync::{client_for, REQUEST_TIMEOUT};
use crate::uplink::{drain, Queue};
use anyhow::anyhow;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device profile; its `[uplink]` names the host.
    #[arg(long = "config", value_name = "FILE")]
    pub config: PathBuf,
    /// The state directory (overrides `state_dir`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Push the queue to the host now (else only queue and report).
    #[arg(long)]
    pub now: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let state_dir = args
        .state_dir
        .as_ref()
        .map(|d| std::path::absolute(d).unwrap_or(d.clone()));
    let config = Config::load_with(Some(&args.config), |raw| {
        if let Some(d) = &state_dir {
            raw.state_dir = Some(d.clone());
        }
    })
    .map_err(|e| CliError::Input(e.into()))?;
    let uplink = config.uplink().ok_or_else(|| {
        CliError::Input(anyhow!("{}: no [uplink] section", args.config.display()))
    })?;
    let runtime = |e: crate::uplink::QueueError| CliError::Runtime(e.into());
    let queue = Queue::open(config.state_dir(), uplink.queue_bytes()).map_err(runtime)?;
    let keep = DaemonConfig::default().snapshots_kept();
    let store =
        SnapshotStore::open(config.state_dir(), keep).map_err(|e| CliError::Runtime(e.into()))?;
    let enqueued = queue
        .enqueue_new_snapshots(&store, uplink.device_id(), crate::uplink::sync::unix_ms())
        .map_err(runtime)?;
    let pass = if args.now {
        let client = client_for(uplink, REQUEST_TIMEOUT).map_err(|e| CliError::Input(e.into()))?;
        Some(drain(&queue, &client, uplink.device_id()).map_err(runtime)?)
    } else {
        None
    };
    let status = queue.status().map_err(runtime)?;
    let report = serde_json::json!({
        "device_id": uplink.device_id(),
        "host": uplink.url(),
        "enqueued": enqueued,
        "queue": status,
        "push": pass,
    });
    if args.json {
        print_json(&report)?;
    } else {
        print_human(&report)?;
    }
    match pass.and_then(|p| p.stopped) {
        Some(why) => {
            let e = CliError::Runtime(anyhow!(
                "the push stopped: {why} ({} still queued)",
                status.queued
            ));
            // With --json the report above is the one document; it holds `push.stopped`.
            Err(if args.json { e.reported() } else { e })
        }
        None => Ok(()),
    }
}

fn print_human(report: &serde_json::Value) -> Result<(), CliError> {
    let q = &report["queue"];
    print_line(&format!(
        "queued {} bundle(s), {} bytes; sent {} in all, dropped {}, rejected {}",
        q["queued"], q["queued_bytes"], q["sent"], q["dropped"], q["rejected"]
    ))?;
    if let Some(p) = report["push"].as_object() {
        print_line(&format!(
            "this push: {} sent, {} already on the host, {} refused",
            p["sent"], p["duplicates"], p["rejected"]
        ))?;
    }
    Ok(())
}
