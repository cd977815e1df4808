//! `mmcl dataset check DIR [--json] [--model F]`: the `dataset::check` report as a
//! short table or as JSON; exit 2 when any list line or file is malformed. Clips
//! are checked against the windows of the encoder `embed` would use (`--model`, or
//! the embedded default), so exit 0 means `embed` reads every clip.

use super::profile_args::{absolute, offline_dataset, settings_error};
use super::{print_json, print_out, CliError};
use crate::config::{Config, Settings};
use crate::dataset::check::{check_with, CheckOptions, CheckReport};
use crate::dataset::windows::ReadSpec;
use crate::dataset::{DatasetError, Split};
use std::path::{Path, PathBuf};

/// How many problems the table prints before pointing to `--json`.
const SHOWN_ERRORS: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset root (holding train.txt, test.txt, optional val.txt, video/, sensor/).
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The ONNX encoder whose windows and frame size clips are checked against
    /// (default: the embedded models/encoder.onnx, as `embed` uses).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let read = read_spec(&args.dir, args.model.as_deref())?;
    let options = CheckOptions {
        workers: 0,
        read: Some(read),
    };
    let report = check_with(&args.dir, &options).map_err(|e| match e {
        DatasetError::MissingList { .. } | DatasetError::Io { .. } => CliError::Input(e.into()),
        other => CliError::Runtime(other.into()),
    })?;
    if args.json {
        print_json(&report)?;
    } else {
        print_out(&render(&report))?;
    }
    match report.errors.len() {
        0 => Ok(()),
        n => {
            let e = CliError::Input(anyhow::anyhow!(
                "dataset {}: {n} problem(s) found",
                report.root
            ));
            Err(if args.json { e.reported() } else { e })
        }
    }
}

/// What `embed --model` (without `--config`) reads clips with: the built-in
/// profile resolved against the model, as `embed` resolves it, so the windows
/// and frame size checked are the ones `embed` will read.
fn read_spec(dir: &Path, model: Option<&Path>) -> Result<ReadSpec, CliError> {
    let config = Config::load_with(None, |raw| {
        offline_dataset(raw, dir);
        if let Some(model) = model {
            raw.encoder.model = Some(absolute(model));
        }
    })
    .map_err(|e| CliError::Input(e.into()))?;
    let settings = Settings::resolve(config).map_err(settings_error)?;
    crate::encode::dataset::read_spec(settings.window(), settings.contract())
        .map_err(|e| CliError::Input(e.into()))
}

/// The human-readable report: splits table, class summary, first problems.
fn render(report: &CheckReport) -> String {
    let mut out = format!("dataset {}\n", report.root);
    out += &format!(
        "{:<6} {:>6} {:>14} {:>15} {:>10} {:>12}\n",
        "split", "clips", "missing_video", "missing_sensor", "frames", "sensor_rows"
    );
    for split in Split::ALL {
        let s = report.splits.get(split);
        if !s.list_found {
            out += &format!("{:<6} (no {}.txt)\n", split.name(), split.name());
            continue;
        }
        out += &format!(
            "{:<6} {:>6} {:>14} {:>15} {:>10} {:>12}\n",
            split.name(),
            s.clips,
            s.missing_video,
            s.missing_sensor,
            s.frames,
            s.sensor_rows
        );
    }
    out += &class_summary(report);
    out += &error_lines(report);
    out
}

fn class_summary(report: &CheckReport) -> String {
    let used: Vec<_> = report.classes.iter().filter(|c| c.clips > 0).collect();
    let fewest = used.iter().min_by_key(|c| c.clips);
    let most = used.iter().max_by_key(|c| c.clips);
    match (fewest, most) {
        (Some(f), Some(m)) => format!(
            "classes: {} of {} have clips (fewest: {} with {}, most: {} with {})\n",
            used.len(),
            report.classes.len(),
            f.name,
            f.clips,
            m.name,
            m.clips
        ),
        _ => format!("classes: none of {} has clips\n", report.classes.len()),
    }
}

fn error_lines(report: &CheckReport) -> String {
    if report.errors.is_empty() {
        return "errors: none\n".to_string();
    }
    let mut out = format!("errors: {}\n", report.errors.len());
    for e in report.errors.iter().take(SHOWN_ERRORS) {
        out += &format!("  {}\n", e.message);
    }
    if report.errors.len() > SHOWN_ERRORS {
        out += &format!(
            "  ... and {} more (--json lists them all)\n",
            report.errors.len() - SHOWN_ERRORS
        );
    }
    out
}
