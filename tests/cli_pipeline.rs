//! The vertical slice from the command line, on the tiny contract-conforming encoder
//! (tests/data/encoder/tiny_encoder.onnx) so it runs in seconds: `synth` -> `embed`
//! (cache reuse) -> `bench cl` (report files), `demo` end to end (snapshot that loads
//! back), and bad input to each with exit code 2.
#![cfg(feature = "tract")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mmcl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(args)
        .output()
        .expect("run mmcl")
}

fn ok_json(args: &[&str]) -> Value {
    let out = mmcl(args);
    assert!(
        out.status.success(),
        "mmcl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn tiny() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/encoder/tiny_encoder.onnx")
        .display()
        .to_string()
}

fn synth(dir: &Path, classes: usize, clips: usize) -> PathBuf {
    let root = dir.join("data");
    let (c, n) = (classes.to_string(), clips.to_string());
    let r = root.display().to_string();
    ok_json(&[
        "synth",
        "--out",
        &r,
        "--classes",
        &c,
        "--clips-per-class",
        &n,
        "--size",
        "24",
        "--seed",
        "3",
        "--json",
    ]);
    root
}

#[test]
fn embed_caches_every_clip_once_and_bench_cl_writes_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let root = synth(tmp.path(), 4, 6);
    let r = root.display().to_string();
    let first = ok_json(&["embed", "--dataset", &r, "--model", &tiny(), "--json"]);
    let clips = first["clips"].as_u64().unwrap();
    assert_eq!(clips, 24);
    let failed = first["failed"].as_array().unwrap().len() as u64;
    assert_eq!(
        first["encoded"].as_u64().unwrap() + failed,
        clips,
        "{first}"
    );
    let second = ok_json(&["embed", "--dataset", &r, "--model", &tiny(), "--json"]);
    assert_eq!(second["encoded"].as_u64(), Some(0), "{second}");
    assert_eq!(second["reused"].as_u64(), Some(clips - failed));

    let out = tmp.path().join("report");
    let o = out.display().to_string();
    let report = ok_json(&[
        "bench",
        "cl",
        "--dataset",
        &r,
        "--model",
        &tiny(),
        "--strategies",
        "ncm,analytic,finetune",
        "--seeds",
        "2",
        "--increment",
        "2",
        "--out",
        &o,
        "--json",
    ]);
    assert_eq!(report["tasks"].as_u64(), Some(2));
    // Every clip came from the cache `embed` wrote; the report says so and names the backend.
    let encoder = &report["encoder"];
    assert_eq!(encoder["backend"].as_str(), Some("tract"), "{encoder}");
    assert_eq!(encoder["clips_encoded"].as_u64(), Some(0), "{encoder}");
    assert_eq!(encoder["clips_from_cache"].as_u64(), Some(clips - failed));
    assert_eq!(encoder["sha256"].as_str().map(str::len), Some(64));
    let names: Vec<&str> = report["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ncm", "analytic", "finetune"]);
    for s in report["strategies"].as_array().unwrap() {
        let m = s["accuracy_matrix"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        let acc = s["final_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{s}");
        assert!(s["memory_bytes"].as_f64().unwrap() > 0.0);
    }
    for file in ["report.json", "report.md", "accuracy_curve.svg"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
}

#[test]
fn demo_runs_end_to_end_and_its_snapshot_loads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().display().to_string();
    let model = tiny();
    let demo = |extra: &'static str| {
        let mut args = vec![
            "demo",
            "--model",
            &model,
            "--classes",
            "4",
            "--clips-per-class",
            "4",
        ];
        args.extend([
            "--increment",
            "2",
            "--stride-seconds",
            "1",
            "--speed",
            "16",
            "--out",
            &o,
            extra,
        ]);
        mmcl(&args)
    };
    let first = demo("--json");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let summary: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(summary["tasks"].as_u64(), Some(2));
    assert_eq!(summary["accuracy_matrix"].as_array().unwrap().len(), 2);
    assert!(summary["windows_enrolled"].as_u64().unwrap() > 0);
    assert!(summary["learner_bytes"].as_u64() <= summary["budget_bytes"].as_u64());
    // Every activity was enrolled through the socket and then predicted live.
    let activities = summary["activities"].as_array().unwrap();
    assert_eq!(activities.len(), 4);
    for a in activities {
        assert!(a["windows_enrolled"].as_u64().unwrap() > 0, "{a}");
    }
    let scored = summary["windows_scored"].as_u64().unwrap();
    assert!(scored > 0, "no window scored online: {summary}");
    let online = summary["online_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&online));
    // The daemon stopped on SIGTERM with exit 0 and, restarted on the same state,
    // listed every class by name and predicted one held-out clip of each.
    let restart = &summary["restart"];
    assert_eq!(restart["stop_exit_code"].as_i64(), Some(0));
    let mut known: Vec<&str> = (restart["classes"].as_array().unwrap().iter())
        .map(|c| c.as_str().unwrap())
        .collect();
    known.sort();
    assert_eq!(known, ["downstairs", "drinking", "fall", "upstairs"]);
    assert_eq!(restart["live"].as_array().unwrap().len(), 4);
    assert!(restart["windows_scored"].as_u64().unwrap() > 0);
    let state = PathBuf::from(summary["state"].as_str().unwrap());
    let bytes = std::fs::read(&state).unwrap();
    let (_, snapshot) = mmcl::store::decode(&bytes).unwrap();
    // The daemon's final snapshot holds the learner and its class book: the classes come
    // back by name.
    let model = mmcl::classes::ClassModel::restore(&snapshot.sections).unwrap();
    let current = model.current();
    assert_eq!(current.learner().classes().len(), 4);
    let mut names: Vec<String> = (current.book().entries().iter())
        .map(|e| e.name.to_string())
        .collect();
    names.sort();
    assert_eq!(names, known);
    let log = std::fs::read_to_string(tmp.path().join("daemon.log")).unwrap();
    assert!(log.contains("control socket"), "{log}");
    // A second run reuses the dataset it wrote.
    let again = demo("--strategy=proto");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("reusing the synthetic dataset"));
}

#[test]
fn bad_input_is_refused_with_exit_2_and_a_message_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = synth(tmp.path(), 2, 3);
    let r = root.display().to_string();
    let o = tmp.path().join("r").display().to_string();
    let model = tiny();
    let bench = |dataset: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "bench",
            "cl",
            "--dataset",
            dataset,
            "--out",
            &o,
            "--model",
            &model,
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect()
    };
    let owned = |args: &[&str]| -> Vec<String> { args.iter().map(|a| a.to_string()).collect() };
    let cases = [
        (bench(&r, &["--strategies", "magic"]), "magic"),
        (bench(&r, &["--budget", "0"]), "budget"),
        (bench("/nonexistent/d", &[]), "/nonexistent/d"),
        (
            owned(&["embed", "--dataset", &r, "--model", "/nonexistent/m.onnx"]),
            "/nonexistent/m.onnx",
        ),
        (
            owned(&["demo", "--model", &model, "--strategy", "nope", "--out", &o]),
            "nope",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = mmcl(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
