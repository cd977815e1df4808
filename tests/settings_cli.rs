//! One source of truth for settings: `demo`, `embed` and `bench cl` build theirs
//! from the same profile as `config check` resolves it (`--print-config` shows
//! the effective settings and exits), flags override the profile, and a window
//! the encoder does not take fails at start naming both values.

use std::path::Path;
use std::process::{Command, Output};

const PROFILE: &str = r#"
profile = "custom"
state_dir = "state"

[encoder]
backend = "tract"
threads = 2

[window]
stride_seconds = 2.0
min_coverage = 0.7
max_gap_seconds = 0.4

[learner]
strategy = "analytic"
budget_bytes = "2MiB"
seed = 42

[sources.replay]
dataset = "somewhere"
"#;

fn mmcl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(args)
        .output()
        .expect("run mmcl")
}

fn toml_of(out: &Output) -> toml::Table {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("not TOML ({e}):\n{text}"))
}

/// The sections every command takes from the profile unchanged.
fn shared(t: &toml::Table) -> Vec<(&str, &toml::Value)> {
    ["profile", "encoder", "window", "learner", "channels"]
        .into_iter()
        .map(|k| (k, &t[k]))
        .collect()
}

fn write_profile(dir: &Path, text: &str) -> String {
    let path = dir.join("custom.toml");
    std::fs::write(&path, text).expect("write profile");
    path.display().to_string()
}

#[test]
fn every_command_runs_with_the_profiles_settings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = write_profile(dir.path(), PROFILE);
    let data = dir.path().join("data").display().to_string();
    let checked = toml_of(&mmcl(&["config", "check", &profile]));
    assert_eq!(checked["window"]["seconds"].as_float(), Some(5.12));
    assert_eq!(
        checked["learner"]["budget_bytes"].as_integer(),
        Some(2 << 20)
    );
    let commands: [Vec<&str>; 3] = [
        vec!["embed", "--dataset", &data],
        vec!["bench", "cl", "--dataset", &data, "--out", &data],
        vec!["demo", "--out", &data],
    ];
    for command in commands {
        let mut args = command.clone();
        args.extend(["--config", &profile, "--print-config"]);
        let effective = toml_of(&mmcl(&args));
        assert_eq!(shared(&effective), shared(&checked), "{command:?}");
        // Offline commands replay their dataset instead of the profile's sources.
        let replay = effective["sources"]["replay"]["dataset"].as_str();
        assert!(
            replay.is_some_and(|d| d.ends_with("data") || d.ends_with("data/dataset")),
            "{command:?}: {replay:?}"
        );
    }
    assert!(
        !dir.path().join("data").exists(),
        "--print-config writes nothing"
    );
}

#[test]
fn flags_override_the_profile_and_defaults_come_from_one_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = write_profile(dir.path(), PROFILE);
    let args = [
        "embed",
        "--dataset",
        "d",
        "--config",
        &profile,
        "--threads",
        "3",
        "--print-config",
    ];
    let effective = toml_of(&mmcl(&args));
    assert_eq!(effective["encoder"]["threads"].as_integer(), Some(3));
    assert_eq!(effective["learner"]["strategy"].as_str(), Some("analytic"));
    // No profile: the built-in one, whose defaults are the learner's and the encoder's own.
    let builtin = toml_of(&mmcl(&["embed", "--dataset", "d", "--print-config"]));
    let demo = toml_of(&mmcl(&["demo", "--print-config"]));
    for t in [&builtin, &demo] {
        let default = mmcl::learn::LearnerConfig::default().strategy;
        assert_eq!(t["learner"]["strategy"].as_str(), Some(default.name()));
        assert_eq!(
            t["learner"]["budget_bytes"].as_integer(),
            Some(160 * 2184 * 4)
        );
        assert_eq!(t["encoder"]["threads"].as_integer(), Some(1));
        assert_eq!(t["window"]["frames"].as_integer(), Some(8));
    }
    assert_eq!(builtin["window"]["stride_seconds"].as_float(), Some(1.0));
    assert_eq!(demo["window"]["stride_seconds"].as_float(), Some(2.5));
}

#[test]
fn a_window_the_encoder_does_not_take_fails_at_start_naming_both_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = PROFILE.replace("[window]\n", "[window]\nseconds = 4.0\n");
    let profile = write_profile(dir.path(), &text);
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let data = data.display().to_string();
    for command in [
        vec!["embed", "--dataset", &data],
        vec!["bench", "cl", "--dataset", &data, "--out", &data],
        vec!["config", "check"],
    ] {
        let mut args = command.clone();
        args.extend(["--config", &profile]);
        if command[0] == "config" {
            args = vec!["config", "check", &profile];
        }
        let out = mmcl(&args);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("window.seconds = 4"), "{command:?}: {all}");
        assert!(all.contains("takes 5.12 s windows"), "{command:?}: {all}");
    }
}
