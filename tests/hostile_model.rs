//! Fault campaign case 3 and half of case 10: model files whose metadata states
//! sizes the runtime would allocate (60000x60000 frames, a fixed batch of 2e9) are
//! refused as contract problems, and `/dev/zero` as a model is refused unread.

mod hostile_support;

use hostile_support::onnx::{contract_model, Dim, Sizes};
use hostile_support::run;
use mmcl::encode::{onnx_proto::parse_model, ModelContract};

fn write_model(bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

fn contract(bytes: &[u8]) -> Result<ModelContract, Vec<String>> {
    let summary = parse_model(bytes).expect("parses");
    ModelContract::check(&summary, &"0".repeat(64))
        .map_err(|p| p.iter().map(|p| p.to_string()).collect())
}

#[test]
fn the_builder_writes_models_that_pass_the_contract() {
    assert!(contract(&contract_model(Sizes::default())).is_ok());
}

#[test]
fn graph_outputs_that_nothing_produces_are_a_contract_problem() {
    // tract 0.23 panicked on such a model (`no entry found for key`) in `model
    // inspect` and `embed`; the contract now refuses it first.
    let sizes = Sizes {
        orphans: true,
        ..Sizes::default()
    };
    let bytes = contract_model(sizes);
    let problems = contract(&bytes).unwrap_err();
    let want = "output `embedding`: expected an output a node, input or initializer produces, got nothing in the graph produces it";
    assert!(problems.iter().any(|p| p == want), "{problems:#?}");
    let (_d, path) = write_model(&bytes);
    run(["model", "inspect", &path]).assert_refused("nothing in the graph produces it");
    // A wired model passes the contract; the backend then refuses it, no panic.
    let (_d2, wired) = write_model(&contract_model(Sizes::default()));
    let out = run(["model", "inspect", &wired]);
    out.assert_sane();
    assert_ne!(out.code, Some(0), "{out:#?}");
}

#[test]
fn model_metadata_claiming_60000x60000_frames_is_a_contract_problem() {
    let sizes = Sizes {
        height: 60_000,
        width: 60_000,
        ..Sizes::default()
    };
    let bytes = contract_model(sizes);
    assert!(bytes.len() < 4096, "{} bytes", bytes.len());
    let problems = contract(&bytes).unwrap_err();
    let want = "metadata `mmcl.height`: expected at most 4096, got 60000";
    assert!(problems.iter().any(|p| p == want), "{problems:#?}");
    let (_d, path) = write_model(&bytes);
    run(["model", "inspect", &path, "--json"]).assert_refused("at most 4096");
    let dir = tempfile::tempdir().unwrap();
    let d = hostile_support::synth(dir.path());
    let embed = ["embed", "--dataset", d.to_str().unwrap(), "--model", &path];
    run(embed).assert_refused("breaks the encoder contract");
}

#[test]
fn a_window_of_too_many_values_within_each_bound_is_refused() {
    // 256 frames of 4096x4096 pass every per-key bound but not the per-window one.
    let sizes = Sizes {
        frames: 256,
        height: 4096,
        width: 4096,
        ..Sizes::default()
    };
    let problems = contract(&contract_model(sizes)).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("input values per window")),
        "{problems:#?}"
    );
}

#[test]
fn fixed_batch_of_two_billion_is_a_contract_problem() {
    let sizes = Sizes {
        batch: Dim::Fixed(2_000_000_000),
        ..Sizes::default()
    };
    let bytes = contract_model(sizes);
    let problems = contract(&bytes).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("a fixed batch of at most 1024")),
        "{problems:#?}"
    );
    let (_d, path) = write_model(&bytes);
    run(["model", "inspect", &path]).assert_refused("a fixed batch of 2000000000");
}

#[test]
fn output_of_a_huge_free_dimension_is_a_contract_problem() {
    let sizes = Sizes {
        video_dim: 1 << 40,
        ..Sizes::default()
    };
    let problems = contract(&contract_model(sizes)).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("output `video_embedding`")),
        "{problems:#?}"
    );
}

#[test]
fn model_inspect_of_dev_zero_is_refused_unread() {
    run(["model", "inspect", "/dev/zero"]).assert_refused("is a character device");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.onnx");
    hostile_support::mkfifo(&fifo);
    run(["model", "inspect", fifo.to_str().unwrap()]).assert_refused("is a FIFO");
}
