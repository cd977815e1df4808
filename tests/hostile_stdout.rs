//! Fault campaign case 2: a stdout whose reader has gone (`mmcl ... | true`) ends
//! every command quietly with exit 0, for the human and the `--json` forms alike.

mod hostile_support;

use hostile_support::{mmcl, run_command, tiny_model, Outcome};
use std::path::Path;

/// Runs `mmcl args` with the read end of its stdout closed before it writes.
fn closed_stdout(args: &[&str]) -> Outcome {
    let mut command = mmcl();
    command.args(args);
    run_command(command, false)
}

#[track_caller]
fn assert_quiet(args: &[&str]) {
    let out = closed_stdout(args);
    out.assert_sane();
    assert_eq!(out.code, Some(0), "{args:?}: {out:#?}");
    // Warnings and progress notes may go to stderr; no error may.
    for word in ["error", "Broken pipe", "stdout"] {
        assert!(!out.stderr.contains(word), "{args:?}: {out:#?}");
    }
}

fn profile() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/config/minimal.toml")
        .display()
        .to_string()
}

#[test]
fn closed_stdout_pipe_ends_dataset_check_and_synth_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("S");
    let s = out.to_str().unwrap();
    assert_quiet(&[
        "synth",
        "--out",
        s,
        "--classes",
        "2",
        "--clips-per-class",
        "3",
        "--json",
    ]);
    assert_quiet(&[
        "synth",
        "--out",
        s,
        "--classes",
        "2",
        "--clips-per-class",
        "3",
        "--force",
    ]);
    assert_quiet(&["dataset", "check", s, "--json"]);
    assert_quiet(&["dataset", "check", s]);
}

#[test]
fn closed_stdout_pipe_ends_config_check_and_model_inspect_quietly() {
    let p = profile();
    assert_quiet(&["config", "check", &p]);
    assert_quiet(&["config", "check", &p, "--json"]);
    let m = tiny_model();
    let m = m.to_str().unwrap();
    assert_quiet(&["model", "inspect", m]);
    assert_quiet(&["model", "inspect", m, "--json"]);
}

#[test]
fn closed_stdout_pipe_ends_embed_and_bench_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = hostile_support::synth(dir.path());
    let (d, m) = (d.to_str().unwrap(), tiny_model());
    let m = m.to_str().unwrap();
    assert_quiet(&["embed", "--dataset", d, "--model", m, "--json"]);
    assert_quiet(&["embed", "--dataset", d, "--model", m]);
    let report = dir.path().join("R");
    let r = report.to_str().unwrap();
    let bench = ["bench", "cl", "--dataset", d, "--out", r, "--model", m];
    let quick = ["--strategies", "ncm,er", "--seeds", "1"];
    assert_quiet(&[&bench[..], &quick, &["--json"]].concat());
    assert_quiet(&[&bench[..], &quick].concat());
}

#[test]
fn a_closed_stdout_does_not_hide_an_error_exit() {
    // The error goes to stderr, which is open: exit 2 and the message still come.
    let out = closed_stdout(&["dataset", "check", "/nonexistent-root"]);
    out.assert_refused("cannot open dataset root");
}
