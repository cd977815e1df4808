//! Contract violations: each is reported, naming the input, output or
//! metadata key with what was expected and what the file has.

mod encode_support;

use encode_support::*;
use mmcl::encode::onnx_proto::{parse_model, Dim, OnnxSummary};
use mmcl::encode::{self, ContractProblem, EncodeError, EncoderOptions, ModelContract};

fn summary() -> OnnxSummary {
    parse_model(&std::fs::read(tiny()).unwrap()).unwrap()
}

fn problems(s: &OnnxSummary) -> Vec<ContractProblem> {
    ModelContract::check(s, &"ab".repeat(32)).unwrap_err()
}

fn one_problem(s: &OnnxSummary) -> ContractProblem {
    let mut p = problems(s);
    assert_eq!(p.len(), 1, "{p:#?}");
    p.remove(0)
}

#[test]
fn the_fixture_itself_satisfies_the_contract() {
    assert!(ModelContract::check(&summary(), &"ab".repeat(32)).is_ok());
}

#[test]
fn a_missing_input_is_named() {
    let mut s = summary();
    s.inputs.retain(|i| i.name != "imu");
    let p = one_problem(&s);
    assert_eq!((p.kind, p.name.as_str()), ("input", "imu"));
    assert!(
        p.got.contains("no such input") && p.got.contains("video, present"),
        "{p}"
    );
}

#[test]
fn a_wrong_dimension_is_named_with_expected_and_got() {
    let mut s = summary();
    s.inputs[0].shape.as_mut().unwrap()[3] = Dim::Fixed(112);
    let p = one_problem(&s);
    assert_eq!((p.kind, p.name.as_str()), ("input", "video"));
    assert_eq!(p.expected, "shape [N, 4, 3, 24, 32]");
    assert_eq!(p.got, "shape [N, 4, 3, 112, 32]");
}

#[test]
fn an_embedding_dim_that_disagrees_with_the_metadata_is_named() {
    let mut s = summary();
    s.outputs[0].shape.as_mut().unwrap()[1] = Dim::Fixed(12);
    let p = one_problem(&s);
    assert_eq!(
        (p.kind, p.name.as_str(), p.expected.as_str()),
        ("output", "embedding", "shape [N, 11]")
    );
}

#[test]
fn a_missing_metadata_key_is_named() {
    let mut s = summary();
    s.metadata.remove("mmcl.window_seconds");
    let p = one_problem(&s);
    assert_eq!(
        (p.kind, p.name.as_str(), p.got.as_str()),
        ("metadata", "mmcl.window_seconds", "no such key")
    );
}

#[test]
fn non_numeric_metadata_is_named_with_its_value() {
    let mut s = summary();
    s.metadata.insert("mmcl.imu_rate_hz".into(), "fast".into());
    s.metadata
        .insert("mmcl.video_std".into(), "0.2,0,0.2".into());
    let p = problems(&s);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!(
        (p[0].name.as_str(), p[0].got.as_str()),
        ("mmcl.imu_rate_hz", "\"fast\"")
    );
    assert_eq!(p[0].expected, "a positive number");
    assert_eq!(p[1].name, "mmcl.video_std");
}

#[test]
fn wrong_dtype_extra_input_and_wrong_version_are_each_named() {
    let mut s = summary();
    s.inputs[1].elem_type = 10;
    let mut extra = s.inputs[2].clone();
    extra.name = "audio".into();
    s.inputs.push(extra);
    s.metadata.insert("mmcl.contract".into(), "2".into());
    let p = problems(&s);
    let named: Vec<_> = p.iter().map(|p| (p.kind, p.name.as_str())).collect();
    assert_eq!(
        named,
        [
            ("metadata", "mmcl.contract"),
            ("input", "imu"),
            ("input", "audio")
        ],
        "{p:#?}"
    );
    assert_eq!(p[1].got, "dtype float16");
}

#[test]
fn batch_dimensions_must_agree() {
    let mut s = summary();
    s.outputs[1].shape.as_mut().unwrap()[0] = Dim::Fixed(1);
    let p = one_problem(&s);
    assert_eq!(
        (p.kind, p.name.as_str(), p.got.as_str()),
        ("output", "video_embedding", "1")
    );
}

#[test]
fn open_refuses_a_broken_file_listing_every_problem() {
    let err = match encode::open(&data("tiny_broken.onnx"), &EncoderOptions::default()) {
        Err(e) => e,
        Ok(_) => panic!("a broken model was accepted"),
    };
    let EncodeError::Contract { problems, path } = &err else {
        panic!("{err}")
    };
    assert!(path.ends_with("tiny_broken.onnx"));
    let named: Vec<_> = problems.iter().map(|p| (p.kind, p.name.as_str())).collect();
    for want in [
        ("metadata", "mmcl.frames"),
        ("metadata", "mmcl.imu_len"),
        ("input", "present"),
        ("input", "presence"),
        ("output", "embedding"),
    ] {
        assert!(named.contains(&want), "{want:?} not in {named:?}");
    }
    let text = err.to_string();
    assert!(
        text.contains("\"eight\"") && text.contains("shape [N, 11]"),
        "{text}"
    );
}

#[test]
fn the_frame_stage_keys_are_optional_and_come_in_pairs() {
    let plain = ModelContract::check(&summary(), &"ab".repeat(32)).unwrap();
    assert_eq!(
        plain.frame_stage, None,
        "a model without the keys keeps the whole-window path"
    );
    let mut s = summary();
    s.metadata
        .insert("mmcl.frame_stage.input".into(), "frames".into());
    s.metadata
        .insert("mmcl.frame_stage.output".into(), " v3 ".into());
    let staged = ModelContract::check(&s, &"ab".repeat(32)).unwrap();
    let at = staged.frame_stage.unwrap();
    assert_eq!((at.input.as_str(), at.output.as_str()), ("frames", "v3"));
    s.metadata.remove("mmcl.frame_stage.input");
    let p = one_problem(&s);
    assert_eq!(
        (p.kind, p.name.as_str(), p.got.as_str()),
        ("metadata", "mmcl.frame_stage.input", "no value")
    );
    s.metadata
        .insert("mmcl.frame_stage.input".into(), "v3".into());
    let p = one_problem(&s);
    assert_eq!(
        (p.name.as_str(), p.got.as_str()),
        ("mmcl.frame_stage.output", "both \"v3\"")
    );
}
