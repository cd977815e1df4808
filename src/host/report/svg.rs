//! The host report's own plots, drawn with `eval::plot`'s canvas and text helpers: the
//! accuracy on all seen classes after each stored snapshot, and the newest snapshot's
//! per-class accuracy as bars. Fixed-precision text, so the same report gives the same bytes.

use crate::eval::plot::{escape, open_svg, text, PALETTE};
use crate::host::eval::{ClassScore, SnapshotScore};
use std::fmt::Write as _;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 730.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 340.0;

fn y_of(accuracy: f64) -> f64 {
    BOTTOM - (BOTTOM - TOP) * accuracy.clamp(0.0, 1.0)
}

/// Percent grid lines, the axes and the y label.
fn frame(svg: &mut String, title: &str, x_label: &str) {
    svg.push_str(&text(WIDTH / 2.0, 28.0, "middle", 16.0, "bold", title));
    for tenth in 0..=10 {
        let yy = y_of(f64::from(tenth) / 10.0);
        let _ = writeln!(svg, "<line x1=\"{LEFT:.1}\" y1=\"{yy:.1}\" x2=\"{RIGHT:.1}\" y2=\"{yy:.1}\" stroke=\"#e0e0e0\"/>");
        let label = (tenth * 10).to_string();
        svg.push_str(&text(LEFT - 8.0, yy + 4.0, "end", 12.0, "normal", &label));
    }
    let _ = writeln!(
        svg,
        "<path d=\"M{LEFT:.1},{TOP:.1} V{BOTTOM:.1} H{RIGHT:.1}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\"/>"
    );
    svg.push_str(&text(
        (LEFT + RIGHT) / 2.0,
        HEIGHT - 12.0,
        "middle",
        14.0,
        "normal",
        x_label,
    ));
    svg.push_str(&text(
        LEFT - 40.0,
        TOP - 14.0,
        "start",
        12.0,
        "normal",
        "accuracy (%)",
    ));
}

/// Accuracy on all seen classes after each snapshot, in time order (x: snapshot seq).
pub fn snapshots_svg(snapshots: &[SnapshotScore]) -> String {
    let mut svg = open_svg(WIDTH, HEIGHT);
    frame(
        &mut svg,
        "Accuracy on all seen classes, per snapshot",
        "snapshot (seq)",
    );
    let n = snapshots.len().max(1) as f64;
    let x = |i: usize| LEFT + (RIGHT - LEFT) * (i as f64 + 0.5) / n;
    let points: Vec<String> = snapshots
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:.1},{:.1}", x(i), y_of(s.seen_accuracy)))
        .collect();
    let colour = LINE_COLOUR;
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\"/>",
        points.join(" ")
    );
    let label_every = snapshots.len().div_ceil(12).max(1);
    for (i, s) in snapshots.iter().enumerate() {
        let (xx, yy) = (x(i), y_of(s.seen_accuracy));
        let _ = writeln!(
            svg,
            "<circle cx=\"{xx:.1}\" cy=\"{yy:.1}\" r=\"5\" fill=\"{colour}\"/>"
        );
        if i % label_every == 0 {
            let seq = s.snapshot_seq.to_string();
            svg.push_str(&text(xx, BOTTOM + 20.0, "middle", 12.0, "normal", &seq));
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// The bars' colour: one for every class (the bars are labelled), apart from the
/// snapshot line's, so each plot's ink is told apart (tests/host_report_render.rs).
pub const BAR_COLOUR: &str = PALETTE[2];
/// The snapshot line's colour.
pub const LINE_COLOUR: &str = PALETTE[0];

/// The newest snapshot's accuracy per class, one bar each, in the order classes arrived.
pub fn per_class_svg(classes: &[ClassScore]) -> String {
    let mut svg = open_svg(WIDTH, HEIGHT);
    frame(&mut svg, "Per-class accuracy, newest snapshot", "class");
    let n = classes.len().max(1) as f64;
    let slot = (RIGHT - LEFT) / n;
    let bar = (slot * 0.7).max(1.0);
    for (i, c) in classes.iter().enumerate() {
        let colour = BAR_COLOUR;
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let top = y_of(c.accuracy);
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{} {:.1}% of {}</title></rect>",
            (BOTTOM - top).max(0.0),
            escape(&c.name),
            c.accuracy * 100.0,
            c.samples
        );
        let label: String = c.name.chars().take(14).collect();
        svg.push_str(&text(
            x + bar / 2.0,
            BOTTOM + 18.0,
            "middle",
            11.0,
            "normal",
            &label,
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(seq: u64, accuracy: f64) -> SnapshotScore {
        SnapshotScore {
            snapshot_seq: seq,
            created_at_ms: seq,
            task: 0,
            classes: 1,
            seen_accuracy: accuracy,
        }
    }

    #[test]
    fn a_snapshot_at_full_accuracy_is_drawn_at_the_top_of_the_plot() {
        let svg = snapshots_svg(&[score(1, 0.0), score(2, 1.0)]);
        assert!(svg.contains(&format!("cy=\"{BOTTOM:.1}\"")), "{svg}");
        assert!(svg.contains(&format!("cy=\"{TOP:.1}\"")), "{svg}");
    }

    #[test]
    fn bars_are_as_tall_as_their_accuracy_and_names_are_escaped() {
        let svg = per_class_svg(&[ClassScore {
            name: "a<b".into(),
            accuracy: 0.5,
            samples: 4,
        }]);
        let half = (BOTTOM - TOP) / 2.0;
        assert!(svg.contains(&format!("height=\"{half:.1}\"")), "{svg}");
        assert!(svg.contains("a&lt;b") && !svg.contains("a<b"), "{svg}");
    }
}
