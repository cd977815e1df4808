//! `mmcl config check`: the effective TOML or the error list, the `--json`
//! shape scripts rely on, and the exit codes (0 good, 2 refused).

mod config_support;

use config_support::{fixture, layout, layout_of, shipped_dir};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn check(path: &Path, json: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mmcl"));
    cmd.args(["config", "check"]).arg(path);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run mmcl")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn good_profile_prints_effective_toml_and_exits_0() {
    let (_root, path) = layout_of(&shipped_dir().join("smart-glasses.toml"));
    let out = check(&path, false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // Defaults the profile does not write are filled in.
    assert!(text.contains("min_coverage = 0.8"), "{text}");
    // What was printed is itself a valid profile (written next to the original).
    let again = path.with_file_name("effective.toml");
    std::fs::write(&again, &text).expect("write");
    assert_eq!(check(&again, false).status.code(), Some(0));
}

#[test]
fn json_of_a_good_profile() {
    let (_root, path) = layout_of(&fixture("minimal.toml"));
    let out = check(&path, true);
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    assert_eq!(v["path"], path.display().to_string());
    assert_eq!(v["ok"], true);
    assert_eq!(v["errors"], Value::Array(vec![]));
    assert_eq!(v["config"]["profile"], "minimal");
    // Resolved against the built-in encoder: its window shape, the default budget.
    assert_eq!(v["config"]["window"]["imu_rate_hz"], 25);
    assert_eq!(v["config"]["window"]["seconds"], 5.12);
    assert_eq!(v["config"]["learner"]["budget_bytes"], 160 * 2184 * 4);
    assert_eq!(v["config"]["sources"]["replay"]["loop"], false);
    // The fixture's dataset folder does not exist: listed as a warning.
    assert_eq!(v["warnings"][0]["key"], "sources.replay.dataset");
}

#[test]
fn json_of_an_invalid_profile_lists_every_error_and_exits_2() {
    let (_root, path) = layout_of(&fixture("many-errors.toml"));
    let out = check(&path, true);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["config"], Value::Null);
    let errors = v["errors"].as_array().expect("errors array");
    assert_eq!(errors.len(), 8);
    for e in errors {
        for field in ["key", "value", "message"] {
            assert!(e[field].is_string(), "{field} in {e}");
        }
    }
    assert_eq!(errors[2]["key"], "encoder.threads");
    assert_eq!(errors[2]["value"], "65");
}

#[test]
fn json_of_a_parse_error_carries_line_and_column() {
    let (_root, path) = layout("t.toml", "profile = \"t\"\n[window]\ncolour = 1\n");
    let out = check(&path, true);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let e = &v["errors"][0];
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(e["key"], Value::Null);
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("window.colour")),
        "{e}"
    );
}

#[test]
fn text_errors_go_to_stdout_with_a_summary_on_stderr() {
    let (_root, path) = layout_of(&fixture("many-errors.toml"));
    let out = check(&path, false);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("error: ")).count(),
        8,
        "{stdout}"
    );
    assert!(
        stdout.contains("error: encoder.threads = 65: must be in 1..=64"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("8 configuration errors"));
}

#[test]
fn missing_file_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = check(&dir.path().join("absent.toml"), true);
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("absent.toml")));
}
