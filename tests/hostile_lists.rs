//! Fault campaign cases 6 and 8: list lines naming clips with no files, clip
//! names that are not UTF-8, and sensor values beyond f32 (1e300) passed `dataset
//! check` with exit 0 while `embed` failed (without naming file or line). Each is
//! now an error with file and line from `dataset check`, and `embed` either
//! refuses the clip with the same message or skips the bad list line saying so.

mod hostile_support;

use hostile_support::{run, sensor_files, synth, tiny_model};
use std::io::Write;
use std::path::Path;

fn embed(d: &Path) -> hostile_support::Outcome {
    let m = tiny_model();
    run([
        "embed",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        m.to_str().unwrap(),
    ])
}

fn append(path: &Path, bytes: &[u8]) -> usize {
    let lines = std::fs::read_to_string(path).unwrap().lines().count();
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
    lines + 1
}

#[test]
fn list_line_with_no_files_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let list = d.join("train.txt");
    let line = append(&list, b"data/1_upstairs/ghost 30 200 0\n");
    let said = format!(
        "{}:{line}: clip 1_upstairs/ghost has no files",
        list.display()
    );
    run(["dataset", "check", d.to_str().unwrap()]).assert_refused(&said);
    embed(&d).assert_refused(&said);
}

#[test]
fn non_utf8_clip_name_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let list = d.join("test.txt");
    let line = append(&list, b"data/1_upstairs/clip_\xff\xfe 30 200 0\n");
    let said = format!(
        "{}:{line}: line is not UTF-8 text (invalid byte at column 22)",
        list.display()
    );
    run(["dataset", "check", d.to_str().unwrap()]).assert_refused(&said);
    // `embed` skips a refused list line, saying so; the good clips are encoded.
    let out = embed(&d);
    out.assert_sane();
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(
        out.stderr
            .contains(&format!("skipping a bad list line: {said}")),
        "{out:#?}"
    );
}

#[test]
fn sensor_value_overflowing_f32_is_an_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let file = sensor_files(&d)[3].clone();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
    rows[4] = "1e300,0,0,0,0,0".into();
    rows[7] = "0,0,0,0,0,-3e38".into();
    std::fs::write(&file, rows.join("\n")).unwrap();
    let said = format!(
        "{}:5: column 1: `1e300` is outside ±1048576",
        file.display()
    );
    let out = run(["dataset", "check", d.to_str().unwrap()]);
    out.assert_refused(&said);
    assert!(
        out.stdout
            .contains(&format!("{}:8: column 6: `-3e38`", file.display())),
        "{out:#?}"
    );
    embed(&d).assert_refused(&said);
}

#[test]
fn every_bad_row_of_a_sensor_file_is_reported_up_to_ten() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let file = sensor_files(&d)[0].clone();
    let rows = "1,2,x,4,5,6\n".repeat(25);
    std::fs::write(&file, rows).unwrap();
    let out = run(["dataset", "check", d.to_str().unwrap(), "--json"]);
    out.assert_refused("is not a number");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let path = file.display().to_string();
    let about: Vec<&serde_json::Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == path.as_str())
        .collect();
    let lines: Vec<u64> = about.iter().filter_map(|e| e["line"].as_u64()).collect();
    assert_eq!(lines, (1..=10).collect::<Vec<u64>>());
    assert_eq!(about.len(), 11, "{about:#?}");
    assert_eq!(
        about[10]["message"],
        format!("{path}: and 15 more bad rows")
    );
}

#[test]
fn a_flood_of_list_lines_with_no_files_makes_a_short_report_in_bounded_memory() {
    // Three lists at the 2 MiB cap of lines naming clips that do not exist:
    // ~218k clips. The report lists 1000 problems and counts the rest; `embed`
    // fails each clip without rewriting its cache per clip.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("ghost");
    std::fs::create_dir_all(&d).unwrap();
    for split in ["train", "val", "test"] {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < (2 << 20) - 40 {
            text += &format!("d/1_upstairs/{split}{i} 1 1 0\n");
            i += 1;
        }
        std::fs::write(d.join(format!("{split}.txt")), text).unwrap();
    }
    let out = run(["dataset", "check", d.to_str().unwrap(), "--json"]);
    out.assert_refused("has no files");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let errors = report["errors"].as_array().unwrap();
    // First the verdict (no listed clip has any data), then 1000 problems and the count.
    assert_eq!(errors.len(), 1002);
    let first = errors[0]["message"].as_str().unwrap();
    assert!(first.contains("has video frames or sensor data"), "{first}");
    let last = errors[1001]["message"].as_str().unwrap();
    assert!(
        last.contains("more problems (the first 1000 are listed)"),
        "{last}"
    );
    let started = std::time::Instant::now();
    embed(&d).assert_refused("could not be encoded");
    assert!(
        hostile_support::since(started) < 30.0,
        "embed took {:.1} s",
        hostile_support::since(started)
    );
}

#[test]
fn a_list_over_the_size_cap_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let list = d.join("train.txt");
    std::fs::File::create(&list)
        .unwrap()
        .set_len(3 << 20)
        .unwrap();
    let said = format!(
        "{}: cannot read list file: is 3145728 bytes, over the 2097152-byte limit of a list file",
        list.display()
    );
    run(["dataset", "check", d.to_str().unwrap()]).assert_refused(&said);
    embed(&d).assert_refused(&said);
}
