//! SVG plots written by hand: the accuracy-vs-classes curve of every strategy
//! and one accuracy-matrix heatmap per strategy; the canvas, text and colour helpers are
//! shared with the host's report (`host::report`).
//!
//! The output is plain text built from fixed-precision numbers, so the same
//! report always gives byte-identical files (diffable, testable).

use super::metrics::AccuracyMatrix;
use super::report::BenchReport;
use super::seeds::StrategyRun;
use super::EvalError;
use std::fmt::Write as _;

/// Line colours (Tableau 10); strategies past ten reuse them dashed.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];
pub const FONT: &str = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

/// The curve's canvas and plot area (pixels).
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 560.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 390.0;

/// `accuracy_curve.svg`: accuracy on all seen classes against classes learned.
pub fn accuracy_curve_svg(report: &BenchReport) -> String {
    let max_classes = report
        .strategies
        .iter()
        .flat_map(|s| s.accuracy_curve.iter().map(|p| p.classes))
        .chain([report.classes])
        .max()
        .unwrap_or(1)
        .max(1);
    let x = |classes: usize| LEFT + (RIGHT - LEFT) * classes as f64 / max_classes as f64;
    let y = |accuracy: f64| BOTTOM - (BOTTOM - TOP) * accuracy.clamp(0.0, 1.0);
    let mut svg = open_svg(WIDTH, HEIGHT);
    let title = format!(
        "Accuracy on all seen classes: {} ({})",
        report.dataset, report.scenario
    );
    svg.push_str(&text(
        (LEFT + RIGHT) / 2.0,
        28.0,
        "middle",
        16.0,
        "bold",
        &title,
    ));
    axes(&mut svg, max_classes, &x, &y);
    for (index, strategy) in report.strategies.iter().enumerate() {
        let points: Vec<(f64, f64)> = strategy
            .accuracy_curve
            .iter()
            .map(|p| (x(p.classes), y(p.accuracy)))
            .collect();
        series(&mut svg, index, &points);
        legend_entry(&mut svg, index, &strategy.name);
    }
    svg.push_str("</svg>\n");
    svg
}

fn axes(svg: &mut String, max_classes: usize, x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64) {
    for tenth in 0..=10 {
        let (yy, label) = (y(f64::from(tenth) / 10.0), format!("{}", tenth * 10));
        let _ = writeln!(svg, "<line x1=\"{LEFT:.1}\" y1=\"{yy:.1}\" x2=\"{RIGHT:.1}\" y2=\"{yy:.1}\" stroke=\"#e0e0e0\"/>");
        svg.push_str(&text(LEFT - 8.0, yy + 4.0, "end", 12.0, "normal", &label));
    }
    let step = tick_step(max_classes);
    for classes in (0..=max_classes).step_by(step) {
        let xx = x(classes);
        let _ = writeln!(
            svg,
            "<line x1=\"{xx:.1}\" y1=\"{BOTTOM:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>",
            BOTTOM + 5.0
        );
        svg.push_str(&text(
            xx,
            BOTTOM + 20.0,
            "middle",
            12.0,
            "normal",
            &classes.to_string(),
        ));
    }
    let _ = writeln!(
        svg,
        "<path d=\"M{LEFT:.1},{TOP:.1} V{BOTTOM:.1} H{RIGHT:.1}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\"/>"
    );
    svg.push_str(&text(
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 45.0,
        "middle",
        14.0,
        "normal",
        "classes learned",
    ));
    let (cx, cy) = (22.0, (TOP + BOTTOM) / 2.0);
    let _ = writeln!(
        svg,
        "<text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\" font-size=\"14\" {FONT} \
         transform=\"rotate(-90 {cx:.1} {cy:.1})\">accuracy (%)</text>"
    );
}

/// The smallest of 1, 2, 4, 5, 8, 10, 16, 20, 25, 50, ... giving at most 10 intervals.
fn tick_step(max: usize) -> usize {
    let mut scale = 1;
    loop {
        for step in [1, 2, 4, 5, 8].map(|s| s * scale) {
            if max.div_ceil(step) <= 10 {
                return step;
            }
        }
        scale *= 10;
    }
}

fn series(svg: &mut String, index: usize, points: &[(f64, f64)]) {
    let (colour, dash) = style(index);
    let coords: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
        coords.join(" ")
    );
    for (x, y) in points {
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{colour}\"/>"
        );
    }
}

fn legend_entry(svg: &mut String, index: usize, name: &str) {
    let (colour, dash) = style(index);
    let y = TOP + 10.0 + 22.0 * index as f64;
    let x = RIGHT + 25.0;
    let _ = writeln!(
        svg,
        "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"3\"{dash}/>",
        x + 28.0
    );
    svg.push_str(&text(x + 36.0, y + 4.5, "start", 13.0, "normal", name));
}

fn style(index: usize) -> (&'static str, &'static str) {
    let colour = PALETTE[index % PALETTE.len()];
    let dash = if index >= PALETTE.len() {
        " stroke-dasharray=\"6 3\""
    } else {
        ""
    };
    (colour, dash)
}

/// `matrix_<name>.svg`: A[i][j] as a heatmap with each cell's value in percent.
pub fn matrix_svg(strategy: &StrategyRun) -> String {
    heatmap_svg(&strategy.name, &strategy.accuracy_matrix)
}

/// An accuracy matrix as a heatmap titled `<name>: accuracy matrix (%)` (bench cl's
/// per-strategy plot; the host report's per-device one).
pub fn heatmap_svg(name: &str, matrix: &AccuracyMatrix) -> String {
    let tasks = matrix.tasks();
    let cell = (480.0 / tasks as f64).clamp(18.0, 60.0);
    let (left, top) = (100.0, 90.0);
    let side = cell * tasks as f64;
    let mut svg = open_svg(left + side + 30.0, top + side + 30.0);
    let title = format!("{name}: accuracy matrix (%)");
    svg.push_str(&text(
        left + side / 2.0,
        26.0,
        "middle",
        16.0,
        "bold",
        &title,
    ));
    svg.push_str(&text(
        left + side / 2.0,
        52.0,
        "middle",
        13.0,
        "normal",
        "accuracy on task j",
    ));
    let (cx, cy) = (28.0, top + side / 2.0);
    let _ = writeln!(
        svg,
        "<text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\" font-size=\"13\" {FONT} \
         transform=\"rotate(-90 {cx:.1} {cy:.1})\">after learning task i</text>"
    );
    let label_size = (cell * 0.3).clamp(8.0, 13.0);
    for k in 0..tasks {
        let centre = k as f64 * cell + cell / 2.0;
        svg.push_str(&text(
            left + centre,
            top - 8.0,
            "middle",
            label_size,
            "normal",
            &k.to_string(),
        ));
        svg.push_str(&text(
            left - 8.0,
            top + centre + 4.0,
            "end",
            label_size,
            "normal",
            &k.to_string(),
        ));
    }
    for (i, row) in matrix.rows().iter().enumerate() {
        for (j, &value) in row.iter().enumerate() {
            heat_cell(
                &mut svg,
                left + j as f64 * cell,
                top + i as f64 * cell,
                cell,
                value,
            );
        }
    }
    let _ = writeln!(svg, "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{side:.1}\" height=\"{side:.1}\" fill=\"none\" stroke=\"#333\"/>");
    svg.push_str("</svg>\n");
    svg
}

fn heat_cell(svg: &mut String, x: f64, y: f64, cell: f64, value: f64) {
    let _ = writeln!(
        svg,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{}\" stroke=\"#ffffff\"/>",
        heat_colour(value)
    );
    let ink = if value > 0.55 { "#ffffff" } else { "#000000" };
    let size = (cell * 0.28).clamp(6.0, 13.0);
    let label = format!("{:.1}", value * 100.0);
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{size:.1}\" {FONT} fill=\"{ink}\">{label}</text>",
        x + cell / 2.0,
        y + cell / 2.0 + size * 0.35
    );
}

/// White (0) to dark blue (1), linear in RGB.
pub fn heat_colour(value: f64) -> String {
    let (low, high) = ([247.0, 251.0, 255.0], [8.0, 48.0, 107.0]);
    let t = value.clamp(0.0, 1.0);
    let channel = |k: usize| (low[k] + (high[k] - low[k]) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", channel(0), channel(1), channel(2))
}

pub fn open_svg(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    )
}

pub fn text(x: f64, y: f64, anchor: &str, size: f64, weight: &str, content: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size:.1}\" font-weight=\"{weight}\" \
         {FONT}>{}</text>\n",
        escape(content)
    )
}

/// XML text and attribute escaping.
pub fn escape(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// `matrix_<name>` per strategy, the name reduced to `[A-Za-z0-9._-]`; two
/// strategies mapping to the same stem are refused rather than overwritten.
pub fn matrix_file_stems(strategies: &[StrategyRun]) -> Result<Vec<String>, EvalError> {
    let mut stems: Vec<String> = Vec::with_capacity(strategies.len());
    for (index, strategy) in strategies.iter().enumerate() {
        let stem = format!("matrix_{}", file_safe(&strategy.name));
        if let Some(earlier) = stems.iter().position(|s| *s == stem) {
            let first = strategies
                .get(earlier)
                .map_or(String::new(), |s| s.name.clone());
            let second = strategies
                .get(index)
                .map_or(String::new(), |s| s.name.clone());
            return Err(EvalError::FileNameClash {
                first,
                second,
                file: format!("{stem}.svg"),
            });
        }
        stems.push(stem);
    }
    Ok(stems)
}

fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "strategy".to_string()
    } else {
        safe
    }
}
