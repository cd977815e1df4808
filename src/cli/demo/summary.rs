//! The end of a demo run: the snapshot, demo-report.json and the printed summary.

use super::session::Session;
use super::Args;
use crate::classes::Model;
use crate::cli::{print_json, CliError};
use crate::config::Settings;
use crate::encode::Encoder;
use crate::eval::metrics::{backward_transfer, final_average_accuracy, forgetting, AccuracyMatrix};
use crate::store::{Snapshot, SnapshotStore};
use anyhow::anyhow;
use std::path::{Path, PathBuf};

/// What `demo --json` prints and demo-report.json holds.
#[derive(serde::Serialize)]
pub struct Summary {
    strategy: String,
    classes: usize,
    tasks: usize,
    accuracy_matrix: Vec<Vec<f64>>,
    final_accuracy: f64,
    forgetting: Option<f64>,
    bwt: Option<f64>,
    learner_bytes: usize,
    budget_bytes: usize,
    windows_enrolled: usize,
    windows_evaluated: usize,
    state: PathBuf,
    report: PathBuf,
}

/// Saves the learner as a snapshot, writes demo-report.json and prints the summary.
pub fn finish(args: &Args, settings: &Settings, s: Session<'_>) -> Result<(), CliError> {
    let matrix = AccuracyMatrix::new(s.rows.clone()).map_err(|e| CliError::Runtime(e.into()))?;
    let model = s.model.current();
    let learner = model.learner();
    let state = save_state(settings.config().state_dir(), s.encoder.as_ref(), &model)?;
    let summary = Summary {
        strategy: learner.name().to_string(),
        classes: usize::from(args.classes),
        tasks: s.tasks(),
        accuracy_matrix: s.rows.clone(),
        final_accuracy: final_average_accuracy(&matrix),
        forgetting: forgetting(&matrix),
        bwt: backward_transfer(&matrix),
        learner_bytes: learner.memory_bytes(),
        budget_bytes: learner.budget_bytes(),
        windows_enrolled: s.enrolled,
        windows_evaluated: s.eval_clips.iter().map(|c| c.embeddings.len()).sum(),
        state,
        report: args.out.join("demo-report.json"),
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| CliError::Runtime(e.into()))?;
    std::fs::write(&summary.report, json + "\n")
        .map_err(|e| CliError::Runtime(anyhow!("write {}: {e}", summary.report.display())))?;
    if args.json {
        return print_json(&summary);
    }
    (s.say)(format!(
        "\naccuracy matrix, % of windows right (row i: after task i; column j: task j)\n{}",
        matrix_text(&summary.accuracy_matrix)
    ));
    (s.say)(format!(
        "final_accuracy (mean over tasks of the last row) {:.1} %, forgetting {}, BWT {}; \
         learner memory {} of {} bytes",
        100.0 * summary.final_accuracy,
        percent(summary.forgetting),
        percent(summary.bwt),
        summary.learner_bytes,
        summary.budget_bytes
    ));
    (s.say)(format!(
        "state: {}\nreport: {}",
        summary.state.display(),
        summary.report.display()
    ));
    Ok(())
}

/// Commits the learner and its class book as one snapshot, as the daemon's checkpoint does.
fn save_state(dir: &Path, encoder: &dyn Encoder, model: &Model) -> Result<PathBuf, CliError> {
    let store = SnapshotStore::open(dir, 3).map_err(|e| CliError::Runtime(e.into()))?;
    let snapshot = Snapshot {
        encoder_sha256: encoder.contract().sha256.clone(),
        journal_seq: 0,
        sections: model.sections(),
    };
    let commit = store
        .commit(&snapshot)
        .map_err(|e| CliError::Runtime(e.into()))?;
    Ok(commit.path)
}

fn matrix_text(rows: &[Vec<f64>]) -> String {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|a| format!("{:>6.1}", 100.0 * a))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.1} points", 100.0 * x))
}
