//! Bad invocations a new user makes, each refused before any work starts: exit 2, a
//! message that names the flag (or the path) and says each cause once, nothing written,
//! and with `--json` exactly one parseable error document on stdout.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn mmcl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(args)
        .output()
        .expect("run mmcl")
}

/// Asserts exit 2, `needle` in stderr, and no sentence of stderr said twice.
fn refused(out: &Output, needle: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    said_once(&stderr);
    stderr
}

/// No cause appears twice in the `: `-separated chain of the error line.
fn said_once(stderr: &str) {
    for line in stderr.lines().filter(|l| l.starts_with("error:")) {
        let parts: Vec<&str> = line.split(": ").map(str::trim).collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(
                p.len() < 8 || !parts[..i].contains(p),
                "`{p}` said twice in: {line}"
            );
        }
    }
}

/// With `--json`: stdout is one JSON document with the error's kind and exit code.
fn json_error(out: &Output) -> Value {
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let error = &doc["error"];
    assert!(error["kind"].is_string(), "{doc}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        error["exit_code"].as_i64(),
        out.status.code().map(i64::from)
    );
    doc
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

#[test]
fn bench_cl_refuses_a_strategy_named_twice_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("report");
    let dataset = tmp.path().join("data");
    std::fs::create_dir(&dataset).unwrap();
    let args = [
        "bench",
        "cl",
        "--dataset",
        dataset.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--strategies",
        "er,er",
    ];
    refused(&mmcl(&args), "--strategies names er twice");
    assert!(!out_dir.exists(), "nothing written");
    assert!(empty(&dataset), "no cache written");
    let mut json = args.to_vec();
    json.push("--json");
    let out = mmcl(&json);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_error(&out)["error"]["kind"], "input");
}

#[test]
fn bench_cl_refuses_an_out_that_is_a_file_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("report.txt");
    std::fs::write(&file, "keep me").unwrap();
    let out = mmcl(&[
        "bench",
        "cl",
        "--dataset",
        tmp.path().to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    refused(&out, "is not a directory");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn numeric_flags_out_of_range_are_usage_errors_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["bench", "cl", "--dataset", d, "--out", d, "--seeds", "0"],
            "--seeds",
        ),
        (&["demo", "--out", d, "--increment", "0"], "--increment"),
        (&["demo", "--out", d, "--classes", "1"], "--classes"),
        (&["embed", "--dataset", d, "--threads", "1000"], "--threads"),
        (&["demo", "--out", d, "--strategy", "nope"], "--strategy"),
        (&["demo", "--out", d, "--speed", "0"], "--speed"),
    ];
    for (args, flag) in cases {
        refused(&mmcl(args), flag);
        let mut json = args.to_vec();
        json.push("--json");
        let out = mmcl(&json);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(json_error(&out)["error"]["kind"], "usage", "{args:?}");
    }
    assert!(empty(tmp.path()), "nothing written by refused commands");
}

#[test]
fn demo_refuses_a_task_larger_than_the_dataset_before_writing_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("demo");
    let out = mmcl(&[
        "demo",
        "--out",
        out_dir.to_str().unwrap(),
        "--classes",
        "4",
        "--increment",
        "5",
    ]);
    refused(&out, "--increment 5 is more than --classes 4");
    assert!(!out_dir.exists());
}

#[test]
fn a_missing_dataset_says_its_cause_once_and_a_file_as_root_is_input_too() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = mmcl(&["dataset", "check", missing.to_str().unwrap()]);
    let stderr = refused(&out, "nope");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    refused(&mmcl(&["dataset", "check", file.to_str().unwrap()]), "file");
    let json = mmcl(&["dataset", "check", missing.to_str().unwrap(), "--json"]);
    assert_eq!(json_error(&json)["error"]["kind"], "input");
}

#[test]
fn a_daemon_client_without_a_daemon_prints_one_json_error() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("none.sock");
    let out = mmcl(&["status", "--socket", socket.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim().lines().count(), 1, "one document: {text}");
    let doc: Value = serde_json::from_str(text.trim()).unwrap();
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no mmcl daemon"));
}
