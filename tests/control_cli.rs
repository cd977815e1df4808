//! The control CLI commands that answer at once (`mmcl status`, `classes`, `forget`,
//! `rename`, `checkpoint`, `snapshot export`) run as processes against the fake target
//! over a real socket in a temp dir: `--json` output parsed, human output read, exit codes
//! (0 ok, 1 runtime failure, 2 the user's to fix), the socket taken from a profile, and the
//! messages for no daemon and for a refused permission (`control_cli_live.rs` has `enroll`
//! and `watch`).

mod control_support;

use control_support::cli::{current_uid, run};
use control_support::{snapshot_bytes, Fake, Running};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

#[test]
fn status_prints_the_report_or_a_summary() {
    let running = Running::start();
    let ran = run(&running.path, &["status", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let status = ran.json();
    assert_eq!(
        (status["state"].as_str(), status["classes"].as_u64()),
        (Some("running"), Some(2))
    );
    assert_eq!(status["latency_ms"]["p99"], 30.0);
    let ran = run(&running.path, &["status"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout
            .starts_with("state       running (profile fake)\n"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("memory      learner 51.2 KiB of 8.0 MiB budget; 84.0 MiB resident"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("latency p50 12.5 ms, p99 30.0 ms"),
        "{}",
        ran.stdout
    );
}

#[test]
fn classes_lists_every_class() {
    let running = Running::start();
    let ran = run(&running.path, &["classes", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report = ran.json();
    let names: Vec<&str> = report["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["walking", "cycling"]);
    let ran = run(&running.path, &["classes"]);
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines[0], "label  name      windows  enrolled");
    assert_eq!(
        lines[1],
        "    0  walking        10  2025-12-31 23:59:59 UTC"
    );
}

#[test]
fn forget_and_rename_change_the_class_book() {
    let running = Running::start();
    let ran = run(&running.path, &["forget", "walking", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        (ran.json()["name"].as_str(), ran.json()["classes"].as_u64()),
        (Some("walking"), Some(1))
    );
    let ran = run(&running.path, &["forget", "walking", "--json"]);
    assert_eq!(
        ran.code, 2,
        "no such class is the user's to fix: {}",
        ran.stderr
    );
    assert_eq!(ran.json()["error"]["kind"], "not_found");
    assert_eq!(ran.json()["error"]["message"], "no class named \"walking\"");
    let ran = run(&running.path, &["rename", "cycling", "biking"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "renamed cycling to biking (class 1)\n");
    let ran = run(&running.path, &["forget", "biking"]);
    assert_eq!(ran.stdout, "forgot biking (class 1); now knows 0 classes\n");
}

#[test]
fn checkpoint_and_snapshot_export() {
    let running = Running::start();
    let ran = run(&running.path, &["checkpoint", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.json()["snapshot_seq"], 1);
    let out = running.dir.path().join("copy.mmcl");
    let out_text = out.to_str().unwrap();
    let ran = run(
        &running.path,
        &["snapshot", "export", "--out", out_text, "--json"],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report = ran.json();
    assert_eq!(report["bytes"], snapshot_bytes().len());
    assert_eq!(report["path"], out_text);
    assert_eq!(std::fs::read(&out).unwrap(), snapshot_bytes());
    let ran = run(
        &running.path,
        &[
            "snapshot",
            "export",
            "--out",
            "/nonexistent-mmcl-dir/x.mmcl",
        ],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr
            .starts_with("error: write the snapshot to /nonexistent-mmcl-dir/x.mmcl: "),
        "{}",
        ran.stderr
    );
}

#[test]
fn no_daemon_is_said_with_the_socket_and_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    for args in [
        &["status"][..],
        &["classes"],
        &["enroll", "x"],
        &["watch"],
        &["forget", "x"],
        &["rename", "x", "y"],
        &["checkpoint"],
    ] {
        let ran = run(&path, args);
        assert_eq!(ran.code, 1, "{args:?}: {}", ran.stderr);
        let expected = format!(
            "error: no mmcl daemon at {} (is `mmcl run` / mmcl.service running?)\n",
            path.display()
        );
        assert_eq!(ran.stderr, expected, "{args:?}");
        assert!(ran.stdout.is_empty(), "{args:?}: {}", ran.stdout);
    }
    let ran = run(&path, &["status", "--json"]);
    assert_eq!(ran.json()["error"]["kind"], "not_running");
}

#[test]
fn the_profile_names_the_socket() {
    let running = Running::start();
    let profile = running.dir.path().join("p.toml");
    let text = format!(
        "profile = \"p\"\nstate_dir = \"state\"\n[sources.replay]\ndataset = \"d\"\n[control]\nsocket = \"{}\"\n",
        running.path.display()
    );
    std::fs::write(&profile, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["status", "--json", "--config"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["profile"], "fake");
    std::fs::write(&profile, "profile = \"p\"\ncolour = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["status", "--config"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad profile is the user's to fix"
    );
}

#[test]
fn a_peer_the_daemon_does_not_allow_is_told_who_may() {
    let own = current_uid();
    let running = Running::with(Fake::with_classes(&[]), |c| c.allow_uids = vec![own + 1]);
    let ran = run(&running.path, &["status", "--json"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let message = ran.json()["error"]["message"].as_str().unwrap().to_string();
    assert_eq!(ran.json()["error"]["kind"], "permission_denied");
    assert!(
        message.starts_with(&format!(
            "permission denied on {} (owner ",
            running.path.display()
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("mode 0660; you are uid {own})")),
        "{message}"
    );
    assert!(message.ends_with(&format!("the daemon says uid {own} is not allowed to use this mmcl daemon ([control] allow_uids)")), "{message}");
}

#[test]
fn a_socket_the_user_cannot_open_is_named_with_its_owner_group_and_mode() {
    let root = current_uid() == 0;
    // Root opens any file: then the client runs as `nobody` from a copy it can execute.
    let running = Running::with(Fake::with_classes(&[]), |c| {
        c.mode = if root { 0o660 } else { 0 }
    });
    let mut perms = std::fs::metadata(running.dir.path()).unwrap().permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(running.dir.path(), perms).unwrap();
    let bin_dir = tempfile::tempdir().unwrap();
    let bin = bin_dir.path().join("mmcl");
    std::fs::copy(env!("CARGO_BIN_EXE_mmcl"), &bin).unwrap();
    std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(&bin);
    cmd.args(["status", "--socket"]).arg(&running.path);
    if root {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let uid = if root { 65534 } else { current_uid() };
    let mode = if root { "0660" } else { "0000" };
    assert!(
        stderr.starts_with(&format!(
            "error: permission denied on {} (owner ",
            running.path.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(", mode {mode}; you are uid {uid})")),
        "{stderr}"
    );
    assert_eq!(running.counters().accepted, 0);
}
