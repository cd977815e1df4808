//! `mmcl model inspect`: JSON fields, human summary, exit codes.

mod encode_support;

use encode_support::data;
use std::process::Command;

fn inspect(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .arg("model")
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

#[cfg(feature = "tract")]
#[test]
fn inspect_json_reports_the_tiny_model() {
    let path = data("tiny_encoder.onnx");
    let (code, stdout, stderr) = inspect(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(v["inputs"][0]["name"], "video");
    assert_eq!(
        v["inputs"][0]["shape"],
        serde_json::json!(["N", 4, 3, 24, 32])
    );
    assert_eq!(v["inputs"][0]["dtype"], "float32");
    assert_eq!(v["outputs"][0]["name"], "embedding");
    assert_eq!(v["embedding_dim"], 11);
    assert_eq!(v["modalities"], serde_json::json!(["video", "imu"]));
    assert_eq!(
        (v["backend"].as_str(), v["execution_provider"].as_str()),
        (Some("tract"), Some("cpu"))
    );
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["metadata"]["mmcl.name"], "tiny-test-encoder");
    assert_eq!(
        v["frame_cache"], false,
        "the tiny fixture declares no frame stage"
    );
}

#[cfg(feature = "tract")]
#[test]
fn inspect_says_the_default_encoder_supports_frame_caching() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    let (code, stdout, stderr) = inspect(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["frame_cache"], true);
    assert_eq!(
        v["contract"]["frame_stage"],
        serde_json::json!({"input": "video/frames", "output": "video/frame_features"})
    );
    let (_, text, _) = inspect(&[path.to_str().unwrap()]);
    assert!(
        text.contains("runs whole windows and cached frames"),
        "{text}"
    );
}

#[test]
fn inspect_exits_2_and_lists_problems_of_a_broken_model() {
    let path = data("tiny_broken.onnx");
    let (code, stdout, stderr) = inspect(&[path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.contains("problems: 5"), "{stdout}");
    assert!(
        stdout.contains("metadata `mmcl.frames`: expected a positive integer, got \"eight\""),
        "{stdout}"
    );
    assert!(
        stderr.contains("tiny_broken.onnx: 5 problem(s)"),
        "{stderr}"
    );
    let (code, stdout, _) = inspect(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["execution_provider"], serde_json::Value::Null);
}

#[test]
fn inspect_of_a_file_that_is_not_onnx_exits_2() {
    let (code, _, stderr) = inspect(&[data("make_tiny_encoder.py").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a readable ONNX model"), "{stderr}");
    let (code, _, stderr) = inspect(&["/nonexistent/model.onnx"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/model.onnx"), "{stderr}");
}
