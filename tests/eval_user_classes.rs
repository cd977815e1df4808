//! A user's own recordings in the UESTC-MMEA-CL layout: class folders with the user's own
//! activity names and only some of the classes (6 of 8, labels not contiguous) go through
//! `dataset check`, `embed` and `bench cl` (class-IL and the modality-dynamic scenario) on
//! the tiny encoder; a line whose label contradicts its folder is refused naming it.
#![cfg(feature = "tract")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The classes kept (label, the user's folder name); labels 1 and 4 are left out.
const KEPT: [(u32, &str); 6] = [
    (0, "1_standing"),
    (2, "3_juggling"),
    (3, "4_tying_shoes"),
    (5, "6_stirring"),
    (6, "7_typing"),
    (7, "8_folding"),
];

fn mmcl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(args)
        .output()
        .expect("run mmcl")
}

fn json(args: &[&str]) -> (bool, Value) {
    let out = mmcl(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("mmcl {args:?}: not JSON ({e}): {stderr}"));
    (out.status.success(), value)
}

fn tiny() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/encoder/tiny_encoder.onnx")
        .display()
        .to_string()
}

/// `mmcl synth` of 8 classes, then the user's layout: kept classes renamed (folders and list
/// lines), the others' lines dropped.
fn user_dataset(dir: &Path) -> PathBuf {
    let root = dir.join("data");
    let r = root.display().to_string();
    let (ok, _) = json(&[
        "synth",
        "--out",
        &r,
        "--classes",
        "8",
        "--clips-per-class",
        "4",
        "--size",
        "24",
        "--seed",
        "5",
        "--json",
    ]);
    assert!(ok);
    let synth_names: Vec<String> = (0..8).map(|l| folder_of_label(&root, l)).collect();
    for (label, name) in KEPT {
        let old = &synth_names[label as usize];
        for part in ["video", "sensor"] {
            std::fs::rename(root.join(part).join(old), root.join(part).join(name)).unwrap();
        }
    }
    for list in ["train.txt", "val.txt", "test.txt"] {
        let text = std::fs::read_to_string(root.join(list)).unwrap();
        let kept: Vec<String> = text
            .lines()
            .filter_map(|line| rename_line(line, &synth_names))
            .collect();
        std::fs::write(root.join(list), kept.join("\n") + "\n").unwrap();
    }
    root
}

/// The synth folder of `label` (`<label + 1>_<name>`).
fn folder_of_label(root: &Path, label: u32) -> String {
    let prefix = format!("{}_", label + 1);
    std::fs::read_dir(root.join("video"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(&prefix))
        .unwrap()
}

/// A list line moved to its class's user folder; `None` for a class not kept.
fn rename_line(line: &str, synth_names: &[String]) -> Option<String> {
    let label: u32 = line.split_whitespace().last()?.parse().ok()?;
    let (_, name) = KEPT.iter().find(|(l, _)| *l == label)?;
    let old = format!("/{}/", synth_names[label as usize]);
    Some(line.replace(&old, &format!("/{name}/")))
}

fn bench(root: &str, out: &Path, scenario: &str) -> Value {
    let o = out.display().to_string();
    let (ok, report) = json(&[
        "bench",
        "cl",
        "--dataset",
        root,
        "--model",
        &tiny(),
        "--strategies",
        "ncm,analytic,er",
        "--seeds",
        "2",
        "--increment",
        "2",
        "--scenario",
        scenario,
        "--out",
        &o,
        "--json",
    ]);
    assert!(ok, "bench cl {scenario}: {report}");
    report
}

#[test]
fn a_users_six_named_classes_run_through_check_embed_and_bench() {
    let tmp = tempfile::tempdir().unwrap();
    let root = user_dataset(tmp.path());
    let r = root.display().to_string();

    let (ok, check) = json(&["dataset", "check", &r, "--json"]);
    assert!(ok, "{check}");
    assert_eq!(check["errors"].as_array().unwrap().len(), 0, "{check}");
    for (label, name) in KEPT {
        let class = &check["classes"][label as usize];
        assert_eq!(class["name"].as_str(), Some(name), "{class}");
        assert!(class["clips"].as_u64().unwrap() > 0, "{class}");
    }
    assert_eq!(check["classes"][1]["clips"].as_u64(), Some(0));

    let (ok, embedded) = json(&["embed", "--dataset", &r, "--model", &tiny(), "--json"]);
    assert!(ok, "{embedded}");
    assert_eq!(embedded["failed"].as_array().unwrap().len(), 0);

    for scenario in ["class-il", "modality-dynamic"] {
        let report = bench(&r, &tmp.path().join(scenario), scenario);
        assert_eq!(report["tasks"].as_u64(), Some(3), "{report}");
        for s in report["strategies"].as_array().unwrap() {
            assert_eq!(s["accuracy_matrix"].as_array().unwrap().len(), 3);
            let acc = s["final_accuracy"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&acc), "{s}");
        }
    }
}

#[test]
fn a_label_that_contradicts_its_folder_is_refused_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let root = user_dataset(tmp.path());
    let train = root.join("train.txt");
    let text = std::fs::read_to_string(&train).unwrap();
    let first = text.lines().next().unwrap().to_string();
    let wrong = first.rsplit_once(' ').unwrap().0.to_string() + " 5";
    std::fs::write(&train, text.replacen(&first, &wrong, 1)).unwrap();

    let (_, check) = json(&["dataset", "check", &root.display().to_string(), "--json"]);
    let errors = check["errors"].as_array().unwrap();
    let refused = errors
        .iter()
        .find(|e| e["line"].as_u64() == Some(1))
        .unwrap_or_else(|| panic!("line 1 not refused: {check}"));
    assert!(refused["path"].as_str().unwrap().ends_with("train.txt"));
    assert!(
        refused["message"].as_str().unwrap().contains("1_standing"),
        "{refused}"
    );
}
