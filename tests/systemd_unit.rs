//! `systemd/mmcl.service` passes `systemd-analyze verify` (with its ExecStart pointed at
//! the binary under test) and its offline `systemd-analyze security` exposure stays at or
//! below 3.0. Where systemd-analyze is not installed the checks cannot run and say so
//! (Debian's `systemd` package provides it; `.ci/run` machines have it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn unit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/mmcl.service")
}

fn analyze() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/systemd-analyze");
    path.is_file().then_some(path)
}

/// The unit with its binary paths pointed at the binary under test.
fn local_copy(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(unit()).expect("read unit");
    let local = text.replace("/usr/bin/mmcl", env!("CARGO_BIN_EXE_mmcl"));
    let path = dir.join("mmcl.service");
    std::fs::write(&path, local).expect("write unit");
    path
}

#[test]
fn the_unit_verifies() {
    let Some(analyze) = analyze() else {
        eprintln!("systemd-analyze not installed: unit not verified");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(analyze)
        .arg("verify")
        .arg(local_copy(dir.path()))
        .output()
        .expect("run systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    // Verify warns on stderr without failing: any line about our unit is a finding.
    let findings: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("mmcl.service"))
        .collect();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn the_exposure_score_is_at_most_3() {
    let Some(analyze) = analyze() else {
        eprintln!("systemd-analyze not installed: exposure not measured");
        return;
    };
    let out = Command::new(analyze)
        .args(["security", "--offline=yes"])
        .arg(unit())
        .output()
        .expect("run systemd-analyze");
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for mmcl.service:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure score in:\n{text}"));
    println!("systemd-analyze security --offline: exposure {score}");
    assert!(score <= 3.0, "exposure {score}\n{text}");
}
