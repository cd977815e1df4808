//! The tract backend on the tiny contract fixture: agreement with the
//! onnxruntime reference, batching, threads, presence handling and errors.
#![cfg(feature = "tract")]

mod encode_support;

use encode_support::*;
use mmcl::encode::{self, flops_per_window, EncodeError, EncoderOptions, ModelFile};

fn open(batch_size: usize, threads: usize) -> Box<dyn encode::Encoder> {
    let options = EncoderOptions {
        batch_size,
        threads,
        ..EncoderOptions::default()
    };
    encode::open(&tiny(), &options).unwrap()
}

#[test]
fn tiny_contract_is_read_from_the_metadata_and_shapes() {
    let enc = open(4, 1);
    let c = enc.contract();
    assert_eq!((c.frames, c.height, c.width, c.imu_len), (4, 24, 32, 40));
    assert_eq!((c.dim, c.video_dim, c.imu_dim), (11, 6, 5));
    assert_eq!((c.imu_rate_hz, c.window_seconds), (20.0, 2.0));
    assert_eq!(c.video_std, [0.229, 0.224, 0.225]);
    assert_eq!(c.fixed_batch, None);
    assert_eq!(c.name, "tiny-test-encoder");
    assert_eq!(
        c.sha256,
        encode::sha256_hex(&std::fs::read(tiny()).unwrap())
    );
    let info = enc.backend();
    assert_eq!(
        (info.name, info.execution_provider.as_str(), info.threads),
        ("tract", "cpu", 1)
    );
}

#[test]
fn tiny_matches_the_onnxruntime_reference_for_all_presence_patterns() {
    let mut enc = open(8, 1);
    let windows = reference_windows(enc.contract());
    let encoded = enc.encode(&windows).unwrap();
    assert_matches_reference(&encoded, &tiny_reference(), 1e-4);
}

#[test]
fn batch_size_and_threads_do_not_change_embeddings() {
    let mut one = open(1, 1);
    let windows: Vec<_> = (0..5).map(|n| formula_window(n, one.contract())).collect();
    let base = one.encode(&windows).unwrap();
    for (batch, threads) in [(2, 1), (3, 2), (8, 2)] {
        let other = open(batch, threads).encode(&windows).unwrap();
        let d = max_diff_encoded(&base, &other);
        assert!(d < 1e-5, "batch {batch}, threads {threads}: differs by {d}");
    }
}

#[test]
fn an_absent_modality_does_not_change_the_other_modality_embedding() {
    let mut enc = open(4, 1);
    let both = formula_window(3, enc.contract());
    let mut video_only = both.clone();
    video_only.imu = None;
    let out = enc.encode(&[both, video_only]).unwrap();
    let d = max_abs_diff(
        out[0].video.as_ref().unwrap().as_slice(),
        out[1].video.as_ref().unwrap().as_slice(),
    );
    assert!(d < 1e-6, "video embedding depends on the IMU input: {d}");
    assert!(out[1].imu.is_none());
    assert!(
        max_abs_diff(out[0].embedding.as_slice(), out[1].embedding.as_slice()) > 1e-3,
        "fusion ignores presence"
    );
}

#[test]
fn a_window_of_the_wrong_shape_is_refused_naming_it() {
    let mut enc = open(2, 1);
    let c = enc.contract().clone();
    let mut short = formula_window(0, &c);
    if let Some(v) = short.video.as_mut() {
        v.frames.pop();
    }
    let windows = [formula_window(1, &c), formula_window(2, &c), short];
    let err = enc.encode(&windows).unwrap_err();
    assert!(matches!(err, EncodeError::Preprocess(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "window 2: 3 video frames, the model takes 4"
    );
}

#[test]
fn frames_of_another_size_are_resized() {
    let mut enc = open(2, 1);
    let c = enc.contract().clone();
    let mut big = formula_window(0, &c);
    if let Some(v) = big.video.as_mut() {
        for f in &mut v.frames {
            *f = mmcl::sample::Frame::new(f.t, 64, 48, vec![128; 64 * 48 * 3]).unwrap();
        }
    }
    let out = enc.encode(&[big]).unwrap();
    assert_eq!(out[0].video.as_ref().map(|e| e.dim()), Some(6));
}

#[test]
fn flops_counted_by_tract_match_the_declared_count() {
    let model = ModelFile::read(&tiny()).unwrap();
    let contract = encode::check_contract(&model).unwrap();
    let declared = contract
        .flops_per_window
        .expect("the fixture declares its FLOPs");
    let counted = flops_per_window(&model, &contract).unwrap();
    let ratio = counted / declared;
    assert!(
        (0.95..=1.05).contains(&ratio),
        "tract counts {counted}, the script {declared}"
    );
}
