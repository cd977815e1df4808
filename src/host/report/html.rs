//! `report.html`: one static page (inline CSS, inline SVG, no script, no external asset),
//! so it opens from a file in any browser and archives as one file. Plots sit in
//! `<figure id=...>` elements the screenshot test locates.

use super::HostReport;
use crate::eval::metrics::AccuracyMatrix;
use crate::eval::plot::{escape, heatmap_svg};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff}\
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f0f0f0}figure{margin:12px 0}code{font-size:90%}";

/// The whole page.
pub fn page(report: &HostReport) -> String {
    let d = &report.device;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mmcl host eval: {}</title><style>{STYLE}</style></head><body>\n",
        escape(&d.device_id)
    );
    let _ = writeln!(html, "<h1>Device {}</h1>", escape(&d.device_id));
    let _ = writeln!(
        html,
        "<p>{} snapshots evaluated on {} test samples of <code>{}</code>; encoder <code>{}</code>.</p>",
        d.snapshots.len(),
        report.test_samples,
        escape(&report.testset),
        escape(&report.encoder_sha256)
    );
    html.push_str(&summary_table(report));
    html.push_str(&figures(report));
    html.push_str(&snapshot_table(report));
    html.push_str(&fleet_table(report));
    html.push_str("</body></html>\n");
    html
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{:.1}", v * 100.0))
}

fn summary_table(report: &HostReport) -> String {
    let d = &report.device;
    format!(
        "<table id=\"summary\"><tr><th>final accuracy</th><th>average incremental</th><th>forgetting</th><th>BWT</th><th>tasks</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>\n<p>Accuracies in %.</p>\n",
        percent(Some(d.final_accuracy)),
        percent(Some(d.avg_incremental_accuracy)),
        percent(d.forgetting),
        percent(d.bwt),
        d.tasks.len()
    )
}

fn figures(report: &HostReport) -> String {
    let d = &report.device;
    let heatmap = AccuracyMatrix::new(d.accuracy_matrix.clone()).map_or_else(
        |e| format!("<p>{}</p>", escape(&e.to_string())),
        |m| heatmap_svg(&d.device_id, &m),
    );
    let mut html = String::new();
    let plots = [
        (
            "matrix",
            "Accuracy matrix: row i after task i, column j on task j.",
            heatmap,
        ),
        (
            "snapshots",
            "Accuracy on all seen classes after each snapshot.",
            super::svg::snapshots_svg(&d.snapshots),
        ),
        (
            "per-class",
            "Per-class accuracy after the newest snapshot.",
            super::svg::per_class_svg(&d.per_class_accuracy),
        ),
    ];
    for (id, caption, svg) in plots {
        let _ = writeln!(
            html,
            "<figure id=\"{id}\">\n{svg}<figcaption>{caption}</figcaption></figure>"
        );
    }
    let tasks: Vec<String> = d
        .tasks
        .iter()
        .enumerate()
        .map(|(t, names)| format!("<li>task {t}: {}</li>", escape(&names.join(", "))))
        .collect();
    let _ = writeln!(
        html,
        "<h2>Tasks</h2><ol start=\"0\">{}</ol>",
        tasks.concat()
    );
    html
}

fn snapshot_table(report: &HostReport) -> String {
    let mut html = String::from(
        "<h2>Snapshots</h2><table id=\"snapshot-list\"><tr><th>seq</th><th>made (Unix ms)</th><th>task</th><th>classes</th><th>seen accuracy (%)</th></tr>\n",
    );
    for s in &report.device.snapshots {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.snapshot_seq,
            s.created_at_ms,
            s.task,
            s.classes,
            percent(Some(s.seen_accuracy))
        );
    }
    html.push_str("</table>\n");
    html
}

fn fleet_table(report: &HostReport) -> String {
    let mut html = String::from(
        "<h2>Fleet</h2><table id=\"fleet\"><tr><th>device</th><th>bundles</th><th>last bundle (Unix ms)</th><th>classes</th><th>final (%)</th><th>avg incremental (%)</th><th>forgetting (%)</th><th>BWT (%)</th><th>not evaluated</th></tr>\n",
    );
    for f in &report.fleet {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.device_id),
            f.bundles,
            f.last_bundle_at_ms.map_or_else(String::new, |t| t.to_string()),
            f.classes.map_or_else(String::new, |c| c.to_string()),
            percent(f.final_accuracy),
            percent(f.avg_incremental_accuracy),
            percent(f.forgetting),
            percent(f.bwt),
            escape(f.skipped.as_deref().unwrap_or(""))
        );
    }
    html.push_str("</table>\n");
    html
}
