//! report.html renders in headless Chromium: a report with a known 3-task matrix, four
//! snapshots and four classes is written, `chromium --headless --screenshot` takes a
//! 1200x1600 picture of it, and the PNG is decoded: each plot's own ink (the heatmap's
//! cell colours, the snapshot line's colour, the bars' colour) is present in enough pixels,
//! top to bottom in page order. Skipped, saying why, where no chromium binary is found.
#![cfg(feature = "host")]

use mmcl::eval::plot::heat_colour;
use mmcl::host::eval::{ClassScore, DeviceEval, SnapshotScore};
use mmcl::host::report::svg::{BAR_COLOUR, LINE_COLOUR};
use mmcl::host::report::{self, HostReport, HOST_REPORT_FORMAT};
use std::path::Path;
use std::process::Command;

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_string)
}

fn sample_report() -> HostReport {
    let classes = ["walk", "sit", "drink", "brush"];
    let snapshots = [0.95, 0.8, 0.7, 0.6]
        .iter()
        .enumerate()
        .map(|(i, &a)| SnapshotScore {
            snapshot_seq: i as u64 + 1,
            created_at_ms: 1000 + i as u64,
            task: i.min(2),
            classes: 2 + i.min(2),
            seen_accuracy: a,
        })
        .collect();
    HostReport {
        format: HOST_REPORT_FORMAT,
        testset: "/data/test".into(),
        encoder_sha256: "ab".repeat(32),
        test_samples: 40,
        device: DeviceEval {
            device_id: "glasses-1".into(),
            tasks: vec![
                vec!["walk".into(), "sit".into()],
                vec!["drink".into()],
                vec!["brush".into()],
            ],
            accuracy_matrix: vec![vec![1.0], vec![0.5, 0.9], vec![0.25, 0.5, 1.0]],
            final_accuracy: 0.583,
            avg_incremental_accuracy: 0.7,
            forgetting: Some(0.6),
            bwt: Some(-0.6),
            per_class_accuracy: classes
                .iter()
                .enumerate()
                .map(|(i, c)| ClassScore {
                    name: (*c).into(),
                    accuracy: 0.3 + 0.2 * i as f64,
                    samples: 10,
                })
                .collect(),
            snapshots,
        },
        fleet: Vec::new(),
    }
}

fn rgb(hex: &str) -> [u8; 3] {
    let h = hex.trim_start_matches('#');
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap();
    [byte(0), byte(2), byte(4)]
}

/// The rows where `colour` occurs, and how many pixels have it.
fn ink(img: &image::RgbImage, colour: [u8; 3]) -> (usize, Option<(u32, u32)>) {
    let mut count = 0;
    let mut rows: Option<(u32, u32)> = None;
    for (_, y, p) in img.enumerate_pixels() {
        if p.0 == colour {
            count += 1;
            rows = Some(rows.map_or((y, y), |(a, b)| (a.min(y), b.max(y))));
        }
    }
    (count, rows)
}

#[test]
fn report_html_renders_its_three_plots_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium binary on PATH (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    report::write(&out, &sample_report()).unwrap();
    let shot = tmp.path().join("shot.png");
    let html = std::path::absolute(out.join("report.html")).unwrap();
    let status = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1200,1600"])
        .arg(format!("file://{}", html.display()))
        .env("HOME", tmp.path())
        .output()
        .expect("run chromium");
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let img = image::open(&shot).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (1200, 1600));
    keep(&shot);
    // Heatmap cells of 1.0 and 0.5 (each a 60x60 px cell less its white border).
    let (full, heat_rows) = ink(&img, rgb(&heat_colour(1.0)));
    let (half, _) = ink(&img, rgb(&heat_colour(0.5)));
    let (line, line_rows) = ink(&img, rgb(LINE_COLOUR));
    let (bars, bar_rows) = ink(&img, rgb(BAR_COLOUR));
    eprintln!("pixels: heatmap 1.0 {full}, 0.5 {half}; line {line}; bars {bars}; rows heat {heat_rows:?} line {line_rows:?} bars {bar_rows:?}");
    assert!(
        full > 2 * 2500 && half > 2 * 2500,
        "heatmap drawn: {full} {half}"
    );
    assert!(line > 100, "snapshot line drawn: {line}");
    assert!(bars > 4 * 3000, "bars drawn: {bars}");
    let (h, l, b) = (heat_rows.unwrap(), line_rows.unwrap(), bar_rows.unwrap());
    assert!(
        h.1 < l.0 && l.1 < b.0,
        "page order: heat {h:?} line {l:?} bars {b:?}"
    );
}

/// Keeps the screenshot where MMCL_KEEP_SCREENSHOT names a directory (for looking at it).
fn keep(shot: &Path) {
    if let Some(dir) = std::env::var_os("MMCL_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(shot, Path::new(&dir).join("host_report.png"));
    }
}
