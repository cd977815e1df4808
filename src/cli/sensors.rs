//! `mmcl sensors [--config F] [--iio-root DIR] [--json]`: every source the
//! profile configures, opened for a moment (state, negotiated rate and format,
//! or why it failed), then every other sensor the machine offers (video
//! nodes, IIO devices, sound inputs). `--json` prints `{"sources": [{"modality",
//! "device", "state", "rate_hz", "format", "error", "source", "optional"}]}`.
//! Exit 1 when a required configured source is missing or broken, 2 when the
//! profile is invalid, else 0.

use super::{print_json, CliError};
use crate::config::{CameraInput, Config};
use crate::sensor::camera::SYS_VIDEO4LINUX;
use crate::sensor::imu::iio::DEFAULT_ROOT;
use crate::sensor::live::{self, Inventory, LiveContext, SensorRow, SensorState, PROBE_TIME};
use crate::time::MonotonicClock;
use anyhow::anyhow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A device profile whose live sources are probed (default: list the machine only).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where IIO devices are searched, for the profile's IMU and the machine's list
    /// [default: the profile's iio_root, else /sys/bus/iio/devices].
    #[arg(long, value_name = "DIR")]
    pub iio_root: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let config = match &args.config {
        Some(path) => match load(path, args.iio_root.as_deref()) {
            Ok(config) => Some(config),
            Err(e) => return Err(fail(&args, e)),
        },
        None => None,
    };
    let inventory = inventory(config.as_ref(), args.iio_root.as_deref());
    match args.json {
        true => print_json(&inventory)?,
        false => print!("{}", render(&inventory)),
    }
    let broken = inventory
        .sources
        .iter()
        .filter(|r| {
            r.optional == Some(false) && !matches!(r.state, SensorState::Ok | SensorState::Silent)
        })
        .count();
    let e = match broken {
        0 => return Ok(()),
        n => CliError::Runtime(anyhow!("{n} required live source(s) unavailable")),
    };
    // With --json the inventory printed above is the one document; it lists them.
    Err(if args.json { e.reported() } else { e })
}

/// The profile with `--iio-root` applied to an IIO IMU.
fn load(path: &Path, iio_root: Option<&Path>) -> Result<Config, crate::config::ConfigError> {
    let root = iio_root.map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    Config::load_with(Some(path), |raw| {
        let imu = raw
            .sources
            .imu
            .as_mut()
            .filter(|i| i.kind.as_deref() == Some("iio"));
        if let (Some(imu), Some(root)) = (imu, root) {
            imu.iio_root = Some(root);
        }
    })
}

/// With `--json`, the one document is the error.
fn fail(args: &Args, e: crate::config::ConfigError) -> CliError {
    if args.json {
        let doc = serde_json::json!({"error": {"kind": "input", "message": e.to_string()}});
        let _ = super::print_line(&format!("{doc:#}"));
        return CliError::Input(e.into()).reported();
    }
    CliError::Input(e.into())
}

fn inventory(config: Option<&Config>, iio_root: Option<&Path>) -> Inventory {
    let mut rows = match config {
        Some(config) => {
            let sources = config.sources();
            let ctx = LiveContext {
                clock: Arc::new(MonotonicClock::new()),
                frame_size: probe_frame_size(config),
            };
            live::configured(sources, &ctx, PROBE_TIME)
        }
        None => Vec::new(),
    };
    let configured_root = config.and_then(|c| c.sources().imu()?.iio().map(|s| s.root.clone()));
    let root = iio_root
        .map(Path::to_path_buf)
        .or(configured_root)
        .unwrap_or_else(|| DEFAULT_ROOT.into());
    let others: Vec<SensorRow> = live::machine(&root, Path::new(SYS_VIDEO4LINUX))
        .into_iter()
        .filter(|m| {
            !rows
                .iter()
                .any(|r| m.device.contains(&r.device) || r.device.contains(&m.device))
        })
        .collect();
    rows.extend(others);
    Inventory { sources: rows }
}

/// Probed frames are kept at the capture size (nothing is encoded).
fn probe_frame_size(config: &Config) -> (u32, u32) {
    match config.sources().camera() {
        Some(c) if matches!(c.input(), CameraInput::Device(_)) => (c.width(), c.height()),
        _ => (112, 112),
    }
}

fn render(inventory: &Inventory) -> String {
    if inventory.sources.is_empty() {
        return "no sensors found (no video nodes, IIO devices or sound inputs)\n".into();
    }
    let mut out = format!(
        "{:<8} {:<9} {:<10} {:>9}  {}\n",
        "source", "modality", "state", "rate_hz", "device: format / error"
    );
    for r in &inventory.sources {
        let source = r.source.clone().unwrap_or_else(|| "-".into());
        let state = serde_json::to_value(r.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let rate = r.rate_hz.map_or("-".into(), |h| format!("{h:.1}"));
        let detail = r.error.clone().or(r.format.clone()).unwrap_or_default();
        out += &format!(
            "{source:<8} {:<9} {state:<10} {rate:>9}  {}: {detail}\n",
            r.modality.name(),
            r.device
        );
    }
    out
}
