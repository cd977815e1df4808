//! `mmcl dataset check DIR [--json]`: the `dataset::check` report as a short
//! table or as JSON; exit 2 when any list line or file is malformed.

use super::{print_json, CliError};
use crate::dataset::check::{check, CheckReport};
use crate::dataset::{DatasetError, Split};
use std::path::PathBuf;

/// How many problems the table prints before pointing to `--json`.
const SHOWN_ERRORS: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset root (holding train.txt, test.txt, optional val.txt, video/, sensor/).
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let report = check(&args.dir).map_err(|e| match e {
        DatasetError::MissingList { .. } => CliError::Input(e.into()),
        DatasetError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            CliError::Input(e.into())
        }
        other => CliError::Runtime(other.into()),
    })?;
    if args.json {
        print_json(&report)?;
    } else {
        print!("{}", render(&report));
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
