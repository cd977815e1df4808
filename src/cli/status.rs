//! `mmcl status [--json]`: the running daemon's state (DESIGN.md's `status --json` fields,
//! printed as the daemon sent them), or a summary of it.

use super::control_client::ClientArgs;
use super::CliError;
use crate::control::api::{EnrollProgress, StatusReport};
use crate::control::protocol::Request;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    args.client
        .ask(Request::Status, |s: StatusReport| render(&s))
}

fn render(s: &StatusReport) -> String {
    let mut rows = vec![
        ("state", format!("{} (profile {})", s.state, s.profile)),
        ("classes", s.classes.to_string()),
        (
            "memory",
            format!(
                "learner {} of {}; {} resident",
                bytes(s.learner_bytes),
                s.budget_bytes
                    .map_or("no budget (unbounded)".into(), |b| format!(
                        "{} budget",
                        bytes(b)
                    )),
                bytes(s.rss_bytes)
            ),
        ),
        (
            "windows",
            format!("{:.2} per s; latency {}", s.windows_per_s, latency(s)),
        ),
        ("sources", sources(s)),
        ("dropped", dropped(s)),
        (
            "encoder",
            format!("{} on {}", s.backend, s.execution_provider),
        ),
        (
            "snapshot",
            s.snapshot_seq
                .map_or("none yet".to_string(), |q| q.to_string()),
        ),
    ];
    if let Some(p) = &s.prediction {
        let class = p.class.as_deref().unwrap_or("(none)");
        rows.push(("prediction", format!("{class} ({:.2})", p.confidence)));
    }
    if let Some(e) = &s.enrollment {
        rows.push(("enrollment", enrollment(e)));
    }
    if let Some(r) = &s.replay {
        let clip = r.clip.as_deref().unwrap_or("(none)");
        let truth = r.true_class.as_deref().unwrap_or("unknown");
        let accuracy = r
            .online_accuracy
            .map_or("-".to_string(), |a| format!("{a:.3}"));
        let text = format!(
            "{clip} (true class {truth}); online accuracy {accuracy} over {} windows",
            r.windows_scored
        );
        rows.push(("replay", text));
    }
    let lines: Vec<String> = rows.iter().map(|(k, v)| format!("{k:<11} {v}")).collect();
    lines.join("\n")
}

fn latency(s: &StatusReport) -> String {
    match (s.latency_ms.p50, s.latency_ms.p99) {
        (Some(p50), Some(p99)) => format!("p50 {p50:.1} ms, p99 {p99:.1} ms"),
        _ => "not measured yet".to_string(),
    }
}

fn sources(s: &StatusReport) -> String {
    let each: Vec<String> = s
        .sources
        .iter()
        .map(|x| {
            format!(
                "{} {} {} {:.1} Hz",
                x.modality, x.source, x.state, x.rate_hz
            )
        })
        .collect();
    if each.is_empty() {
        "none".to_string()
    } else {
        each.join("; ")
    }
}

fn dropped(s: &StatusReport) -> String {
    let each: Vec<String> = s
        .dropped
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(modality, n)| format!("{modality} {n}"))
        .collect();
    if each.is_empty() {
        "none".to_string()
    } else {
        each.join(", ")
    }
}

fn enrollment(e: &EnrollProgress) -> String {
    let of = e
        .target_seconds
        .map_or(String::new(), |t| format!(" of {t:.1}"));
    format!(
        "#{} {}: {}, {} windows, {:.1}{of} s",
        e.id, e.label, e.state, e.windows, e.seconds
    )
}

/// A byte count with a binary unit, as budgets are written (`8.0 MiB`).
fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ => format!("{value:.1} {}", units[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_take_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(8 * 1024 * 1024), "8.0 MiB");
    }
}
