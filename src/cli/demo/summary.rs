//! The end of a demo run: demo-report.json and the printed summary, every number named
//! as docs/metrics.md (held-out accuracies) and docs/daemon.md (online accuracy) define it.

use super::heldout;
use super::session::{ActivityRun, Restart, Session, TaskStatus};
use super::Args;
use crate::cli::{print_json, CliError};
use crate::config::Settings;
use crate::eval::metrics::{backward_transfer, final_average_accuracy, forgetting, AccuracyMatrix};
use anyhow::anyhow;
use std::path::PathBuf;

/// What `demo --json` prints and demo-report.json holds.
#[derive(serde::Serialize)]
pub struct Summary {
    strategy: String,
    classes: usize,
    tasks: usize,
    speed: f64,
    accuracy_matrix: Vec<Vec<f64>>,
    final_accuracy: f64,
    final_accuracy_weighted: f64,
    forgetting: Option<f64>,
    bwt: Option<f64>,
    /// The daemon's prequential accuracy at the end of the enrollment run.
    online_accuracy: Option<f64>,
    windows_scored: u64,
    learner_bytes: u64,
    budget_bytes: Option<u64>,
    windows_enrolled: usize,
    windows_evaluated: usize,
    per_task: Vec<TaskStatus>,
    activities: Vec<ActivityRun>,
    restart: Restart,
    /// Peak resident memory of this process (the demo's own encoder and the clients).
    demo_peak_rss_bytes: u64,
    /// The final snapshot the daemon wrote on SIGTERM.
    state: PathBuf,
    daemon_log: PathBuf,
    report: PathBuf,
}

/// Writes demo-report.json and prints the summary.
pub fn finish(
    args: &Args,
    settings: &Settings,
    s: Session<'_>,
    restart: Restart,
) -> Result<(), CliError> {
    let matrix = AccuracyMatrix::new(s.rows.clone()).map_err(|e| CliError::Runtime(e.into()))?;
    let last = s.tasks.last();
    let summary = Summary {
        strategy: settings.learner().strategy.name().to_string(),
        classes: usize::from(args.classes),
        tasks: s.task_count(),
        speed: args.speed,
        accuracy_matrix: s.rows.clone(),
        final_accuracy: final_average_accuracy(&matrix),
        final_accuracy_weighted: last.map_or(0.0, |t| t.seen_accuracy),
        forgetting: forgetting(&matrix),
        bwt: backward_transfer(&matrix),
        online_accuracy: last.and_then(|t| t.online_accuracy),
        windows_scored: last.map_or(0, |t| t.windows_scored),
        learner_bytes: last.map_or(0, |t| t.learner_bytes),
        budget_bytes: last.and_then(|t| t.budget_bytes),
        windows_enrolled: s.activities.iter().map(|a| a.windows_enrolled).sum(),
        windows_evaluated: heldout::windows(&s.heldout),
        per_task: s.tasks.clone(),
        activities: s.activities.clone(),
        demo_peak_rss_bytes: crate::daemon::peak_rss_bytes(),
        state: restart.snapshot.clone(),
        restart,
        daemon_log: args.out.join("daemon.log"),
        report: args.out.join("demo-report.json"),
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| CliError::Runtime(e.into()))?;
    std::fs::write(&summary.report, json + "\n")
        .map_err(|e| CliError::Runtime(anyhow!("write {}: {e}", summary.report.display())))?;
    if args.json {
        return print_json(&summary);
    }
    say_summary(&summary, s.say);
    Ok(())
}

fn say_summary(summary: &Summary, say: &dyn Fn(String)) {
    say(format!(
        "\naccuracy matrix, % of held-out windows right (row i: after task i; column j: task j)\n{}",
        matrix_text(&summary.accuracy_matrix)
    ));
    say(format!(
        "final_accuracy {:.1} % (mean over tasks of the last row); final_accuracy_weighted \
         {:.1} % (all held-out windows of every class); forgetting {}, BWT {}",
        100.0 * summary.final_accuracy,
        100.0 * summary.final_accuracy_weighted,
        points(summary.forgetting),
        points(summary.bwt),
    ));
    say(format!(
        "online_accuracy {} of {} windows scored (the daemon's prequential accuracy while \
         enrolling); learner memory {} bytes of {}; {} windows enrolled",
        percent(summary.online_accuracy),
        summary.windows_scored,
        summary.learner_bytes,
        budget_text(summary.budget_bytes),
        summary.windows_enrolled
    ));
    say(format!(
        "peak resident memory: daemon {}, restarted daemon {}, this demo process {}",
        mib(summary.restart.daemon_peak_rss_bytes),
        mib(summary.restart.restarted_peak_rss_bytes),
        mib(summary.demo_peak_rss_bytes)
    ));
    say(format!(
        "state: {}\ndaemon log: {}\nreport: {}",
        summary.state.display(),
        summary.daemon_log.display(),
        summary.report.display()
    ));
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

/// A budget in words: "1397760 bytes", or "no budget" for an unbounded learner.
pub(super) fn budget_text(budget: Option<u64>) -> String {
    budget.map_or("no budget (unbounded)".into(), |b| format!("{b} bytes"))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.1} points", 100.0 * x))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.1} %", 100.0 * x))
}
