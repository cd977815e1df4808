//! A tiny UESTC-MMEA-CL root in a temp dir (real JPEGs, hand-written CSVs):
//! the `Clip` API's units and timing, `mmcl dataset check` counts, and each
//! malformed input reported with its file and line, exit 2, no panic. Every clip
//! lasts over 5.12 s, the default encoder's window, so the good root is one that
//! `embed` can read whole (which `dataset check` also verifies).

use mmcl::dataset::{Dataset, Split};
use mmcl::time::Timestamp;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// train: A (img_ frames 3, rows 150), B (bare frames 2, rows 160), C (IMU-only,
/// rows 130), D (video-only, frames 130); test: E (frames 2, rows 140); no val.txt.
fn good_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(r, "train.txt", "yourdataset_path/data/1_upstairs/A 3 150 0\n/elsewhere/3_drinking/B 2 160 2\n\nC:\\d\\20_walking\\C 0 130 19  \nd/1_upstairs/D 130 0 0");
    write(r, "test.txt", "x/5_reading/E 2 140 4\n");
    frames(r, "1_upstairs/A", "img_", 3, (32, 24));
    frames(r, "3_drinking/B", "", 2, (20, 16));
    frames(r, "1_upstairs/D", "img_", 130, (8, 8));
    frames(r, "5_reading/E", "", 2, (8, 8));
    let a = "8192,0,-8192,16.4,0,-164\n".repeat(149) + "8192, 0, -8192, 16.4, 0, -164\n";
    write(r, "sensor/1_upstairs/A.csv", &a);
    write(
        r,
        "sensor/3_drinking/B.csv",
        &"0,0,8192,0,0,0\n".repeat(160),
    );
    write(r, "sensor/20_walking/C.csv", &"1,2,3,4,5,6\n".repeat(130));
    let e = "1.5,2,3,4,5,6\n".to_string() + &"1,2,3,4,5,6\n".repeat(139);
    write(r, "sensor/5_reading/E.csv", &e);
    root
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn frames(root: &Path, clip: &str, prefix: &str, n: usize, (w, h): (u32, u32)) {
    let dir = root.join("video").join(clip);
    std::fs::create_dir_all(&dir).unwrap();
    for i in 1..=n {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 9) as u8, (y * 9) as u8, (i * 40) as u8])
        });
        img.save(dir.join(format!("{prefix}{i:06}.jpg"))).unwrap();
    }
}

/// Runs `mmcl dataset check ROOT --json`: (exit code, report).
fn check_json(root: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["dataset", "check"])
        .arg(root)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap(), report)
}

#[test]
fn clip_api_reads_units_and_applies_the_timing_rule() {
    let root = good_root();
    let dataset = Dataset::open(root.path()).unwrap();
    assert!(dataset.list_errors().is_empty());
    assert!(!dataset.has_split(Split::Val));
    let ids: Vec<&str> = dataset.clips().iter().map(|c| c.id()).collect();
    assert_eq!(
        ids,
        [
            "1_upstairs/A",
            "3_drinking/B",
            "20_walking/C",
            "1_upstairs/D",
            "5_reading/E"
        ]
    );
    let [a, b, c, d, _] = dataset.clips() else {
        panic!("five clips")
    };

    let imu = a.load_imu().unwrap().unwrap();
    assert_eq!(imu.len(), 150);
    assert_eq!(
        imu.iter().take(3).map(|s| s.t).collect::<Vec<_>>(),
        [Timestamp(0), Timestamp(40_000_000), Timestamp(80_000_000)]
    );
    assert_eq!(
        (imu[1].acc, imu[1].gyro),
        ([1.0, 0.0, -1.0], [1.0, 0.0, -10.0])
    );

    // B: 160 sensor rows -> 6.4 s; its 2 frames are spread over it: 0 and 3.2 s.
    let video = b.video().unwrap().unwrap();
    assert_eq!(
        video.frame_times(),
        [Timestamp(0), Timestamp(3_200_000_000)]
    );
    let frame = video.decode(1).unwrap();
    assert_eq!(
        (frame.width, frame.height, frame.t),
        (20, 16, Timestamp(3_200_000_000))
    );

    assert!(c.video().unwrap().is_none(), "C is IMU-only");
    assert!(d.load_imu().unwrap().is_none(), "D is video-only");
    // D lists 0 sensor rows (and has no file): 130 frames / 25 Hz = 5.2 s, frames 40 ms apart.
    assert_eq!(
        d.video().unwrap().unwrap().frame_times()[3],
        Timestamp(120_000_000)
    );
}

#[test]
fn good_root_counts_and_exit_zero() {
    let root = good_root();
    let (code, report) = check_json(root.path());
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(code, 0);
    assert_eq!(report["root"], root.path().display().to_string());
    let train = &report["splits"]["train"];
    let expected = serde_json::json!({"list_found": true, "clips": 4, "missing_video": 1, "missing_sensor": 1, "frames": 135, "sensor_rows": 440});
    assert_eq!(train, &expected);
    assert_eq!(report["splits"]["val"]["list_found"], false);
    assert_eq!(report["splits"]["test"]["clips"], 1);
    let classes = report["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 32);
    assert_eq!(
        classes[0],
        serde_json::json!({"label": 0, "name": "1_upstairs", "clips": 2})
    );
    assert_eq!(classes[19]["clips"], 1);
    assert_eq!(classes[1]["clips"], 0);
}

#[test]
fn human_report_is_a_table() {
    let root = good_root();
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["dataset", "check"])
        .arg(root.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let train: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("train"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(train, ["train", "4", "1", "1", "135", "440"]);
    assert!(text.contains("val    (no val.txt)"), "{text}");
    assert!(text.contains("classes: 4 of 32 have clips"), "{text}");
    assert!(text.contains("errors: none"), "{text}");
}

/// Breaks the good root with `edit`; the report must name `file` (relative to the
/// root) at `line` with `message`, keep the other clips, and exit 2.
fn assert_reported(edit: impl FnOnce(&Path), file: &str, line: Option<u64>, message: &str) {
    let root = good_root();
    edit(root.path());
    let (code, report) = check_json(root.path());
    assert_eq!(code, 2, "{report:#}");
    let errors = report["errors"].as_array().unwrap();
    let path = root.path().join(file).display().to_string();
    let hit = errors
        .iter()
        .find(|e| e["path"] == path.as_str() && e["line"] == serde_json::json!(line));
    let hit = hit.unwrap_or_else(|| panic!("no error at {path}:{line:?} in {errors:#?}"));
    let text = hit["message"].as_str().unwrap();
    assert!(text.contains(message) && text.contains(&path), "{text}");
    let clips: u64 = ["train", "test"]
        .iter()
        .map(|s| report["splits"][s]["clips"].as_u64().unwrap())
        .sum();
    assert!(clips >= 4, "good clips must be kept: {report:#}");
}

#[test]
fn csv_row_with_five_columns() {
    let edit = |r: &Path| {
        write(
            r,
            "sensor/3_drinking/B.csv",
            "0,0,8192,0,0,0\n0,0,8192,0,0\n0,0,8192,0,0,0\n0,0,1,0,0,0\n",
        )
    };
    assert_reported(
        edit,
        "sensor/3_drinking/B.csv",
        Some(2),
        "expected 6 comma-separated columns (acc x y z, gyro x y z), got 5",
    );
}

#[test]
fn csv_non_numeric_cell() {
    let edit = |r: &Path| {
        write(
            r,
            "sensor/20_walking/C.csv",
            "1,2,3,4,5,6\n1,2,3,4,5,6\n1,2,3,abc,5,6\n1,2,3,4,5,6\n1,2,3,4,5,6\n",
        )
    };
    assert_reported(
        edit,
        "sensor/20_walking/C.csv",
        Some(3),
        "column 4: `abc` is not a number",
    );
}

#[test]
fn csv_nan() {
    let edit = |r: &Path| write(r, "sensor/5_reading/E.csv", "nan,2,3,4,5,6\n1,2,3,4,5,6\n");
    assert_reported(
        edit,
        "sensor/5_reading/E.csv",
        Some(1),
        "column 1: `nan` is not finite",
    );
}

#[test]
fn csv_empty_file() {
    let edit = |r: &Path| write(r, "sensor/1_upstairs/A.csv", "");
    assert_reported(
        edit,
        "sensor/1_upstairs/A.csv",
        None,
        "sensor file has no rows",
    );
}

#[test]
fn list_line_with_a_missing_field() {
    let edit = |r: &Path| write(r, "test.txt", "x/5_reading/E 2 140 4\nx/5_reading/F 2 4\n");
    assert_reported(edit, "test.txt", Some(2), "expected 4 fields");
}

#[test]
fn list_label_out_of_range() {
    // Any user's classes are allowed (folders `<n>_<name>`), up to 65536 of them.
    let edit = |r: &Path| {
        write(
            r,
            "test.txt",
            "x/5_reading/E 2 140 4\nx/5_reading/F 2 2 65536\n",
        )
    };
    assert_reported(
        edit,
        "test.txt",
        Some(2),
        "label 65536 is out of range 0..65536",
    );
}

#[test]
fn list_path_outside_the_root() {
    let edit = |r: &Path| {
        write(
            r,
            "test.txt",
            "x/5_reading/E 2 140 4\n\n5_reading/../../../etc 2 2 4\n",
        )
    };
    assert_reported(edit, "test.txt", Some(3), "`..` component");
}

#[test]
fn frame_gap() {
    let edit =
        |r: &Path| std::fs::remove_file(r.join("video/1_upstairs/D/img_000002.jpg")).unwrap();
    assert_reported(
        edit,
        "video/1_upstairs/D",
        None,
        "frame file img_000002.jpg is missing",
    );
}

#[test]
fn frame_count_differs_from_the_list() {
    let edit =
        |r: &Path| std::fs::remove_file(r.join("video/1_upstairs/D/img_000130.jpg")).unwrap();
    assert_reported(edit, "video/1_upstairs/D", None, "has 129 frames, but");
}

#[test]
fn sensor_rows_differ_from_the_list() {
    let edit = |r: &Path| write(r, "sensor/5_reading/E.csv", "1,2,3,4,5,6\n");
    assert_reported(
        edit,
        "sensor/5_reading/E.csv",
        None,
        "lists num_sensor_rows = 140",
    );
}

#[test]
fn unreadable_jpeg_header() {
    let edit = |r: &Path| write(r, "video/3_drinking/B/000002.jpg", "not a jpeg");
    assert_reported(
        edit,
        "video/3_drinking/B/000002.jpg",
        None,
        "unreadable JPEG header: not a JPEG (no SOI marker)",
    );
}

#[test]
fn missing_required_list_is_an_input_error() {
    let root = good_root();
    std::fs::remove_file(root.path().join("train.txt")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["dataset", "check"])
        .arg(root.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("train.txt: required train list is missing"),
        "{stderr}"
    );
}

#[test]
fn report_does_not_depend_on_the_thread_count() {
    let root = good_root();
    write(root.path(), "sensor/5_reading/E.csv", "1,2,3,4,5,6\n");
    std::fs::remove_file(root.path().join("video/1_upstairs/D/img_000002.jpg")).unwrap();
    let one = mmcl::dataset::check::check_with_workers(root.path(), 1).unwrap();
    for workers in [2, 3, 8] {
        assert_eq!(
            mmcl::dataset::check::check_with_workers(root.path(), workers).unwrap(),
            one
        );
    }
    assert_eq!(one.errors.len(), 2);
}

#[test]
fn missing_root_is_an_input_error() {
    let root = good_root();
    let gone = root.path().join("nope");
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["dataset", "check"])
        .arg(&gone)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot open dataset root"), "{stderr}");
}

#[test]
fn a_missing_sensor_file_keeps_the_listed_duration_for_the_frames() {
    // Listed with 50 sensor rows (2 s) but only 4 frames and no CSV, as the generator
    // writes a clip whose sensor went missing: the frames spread over the 2 s.
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "train.txt", "x/1_upstairs/V 4 50 0\n");
    write(r, "test.txt", "");
    frames(r, "1_upstairs/V", "img_", 4, (8, 8));
    let ds = mmcl::dataset::Dataset::open(r).unwrap();
    let v = &ds.clips()[0];
    assert!(v.load_imu().unwrap().is_none());
    assert_eq!(v.duration_secs(), 2.0);
    assert_eq!(
        v.video().unwrap().unwrap().frame_times()[1],
        Timestamp(500_000_000)
    );
}

#[test]
fn a_dataset_with_no_clip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.txt", "");
    write(dir.path(), "test.txt", "");
    let (code, report) = check_json(dir.path());
    assert_eq!(code, 2, "{report:#}");
    let text = report["errors"][0]["message"].as_str().unwrap();
    assert!(text.contains("no clip is listed"), "{text}");
}

#[test]
fn a_dataset_whose_clips_have_neither_video_nor_sensor_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "train.txt",
        "x/1_upstairs/A 4 50 0\nx/2_downstairs/B 4 50 1\n",
    );
    write(r, "test.txt", "");
    let (code, report) = check_json(r);
    assert_eq!(code, 2, "{report:#}");
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["message"].as_str().is_some_and(
            |m| m.contains("none of the 2 listed clips has video frames or sensor data")
        )),
        "{errors:#?}"
    );
}
