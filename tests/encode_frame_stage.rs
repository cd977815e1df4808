//! The frame stage (`mmcl.frame_stage.*`): frames encoded once and fused into
//! windows give what the whole-window path gives, on the tiny fixture cut at
//! its frames -> pooled features (property test) and on the default encoder;
//! a declaration tract cannot cut is refused naming it; threads split the
//! work within float rounding.
#![cfg(feature = "tract")]

mod encode_support;

use encode_support::*;
use mmcl::encode::{self, EncodeError, Encoded, Encoder, EncoderOptions, FrameFeatures};
use mmcl::sample::{Frame, Modality};
use mmcl::time::Timestamp;
use mmcl::window::{VideoBlock, Window};
use proptest::prelude::*;
use std::path::Path;

fn open(path: &Path, batch_size: usize, threads: usize) -> Box<dyn Encoder> {
    let options = EncoderOptions {
        batch_size,
        threads,
        ..EncoderOptions::default()
    };
    encode::open(path, &options).unwrap()
}

/// The window's `Encoded` through the frame stage: each frame encoded on its
/// own (as a cache would), then fused.
fn through_frames(enc: &mut dyn Encoder, w: &Window) -> Encoded {
    let stage = enc.frame_stage().expect("a frame stage");
    let features: Option<Vec<FrameFeatures>> = w.video.as_ref().map(|v| {
        let per_frame = v
            .frames
            .iter()
            .map(|f| stage.encode_frames(std::slice::from_ref(f)));
        per_frame.map(|r| r.unwrap().remove(0)).collect()
    });
    stage.fuse(features.as_deref(), w.imu.as_ref()).unwrap()
}

#[test]
fn the_tiny_fixture_cut_at_its_pooled_features_declares_a_frame_stage() {
    let (_dir, path) = tiny_with_frame_stage("frames", "v3");
    let mut enc = open(&path, 2, 1);
    let at = enc.contract().frame_stage.clone().unwrap();
    assert_eq!((at.input.as_str(), at.output.as_str()), ("frames", "v3"));
    let stage = enc.frame_stage().unwrap();
    assert_eq!(stage.feature_len(), 8, "GlobalAveragePool of 8 channels");
    let mut plain = open(&tiny(), 2, 1);
    assert!(plain.frame_stage().is_none());
}

/// A pool of frames of random pixels and sizes.
fn frames_strategy() -> impl Strategy<Value = Vec<Frame>> {
    let frame = (1u32..40, 1u32..30, any::<u64>()).prop_map(|(w, h, seed)| {
        let rgb = (0..w * h * 3)
            .map(|i| {
                (seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(i as u64 * 1442695040888963407)
                    >> 56) as u8
            })
            .collect();
        Frame::new(Timestamp(seed), w, h, rgb).unwrap()
    });
    prop::collection::vec(frame, 4..9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Windows built from any 4 frames of a pool, with any presence: frame
    /// stage + fuse equals `encode` of the window.
    #[test]
    fn frame_stage_equals_the_whole_window(
        pool in frames_strategy(),
        picks in prop::collection::vec(prop::collection::vec(0usize..64, 4), 1..4),
        presence in prop::collection::vec(0u8..3, 1..4),
        imu_seed in 0usize..100,
    ) {
        let (_dir, path) = tiny_with_frame_stage("frames", "v3");
        let mut enc = open(&path, 4, 1);
        let c = enc.contract().clone();
        let windows: Vec<Window> = picks.iter().zip(presence.iter().cycle()).enumerate().map(|(i, (p, m))| {
            let mut w = formula_window(imu_seed + i, &c);
            let frames = p.iter().map(|k| pool[k % pool.len()].clone()).collect();
            w.video = Some(VideoBlock::new(frames).unwrap_or_else(|_| w.video.clone().unwrap()));
            match m { 1 => w.without(Modality::Imu), 2 => w.without(Modality::Video), _ => w }
        }).collect();
        let whole = enc.encode(&windows).unwrap();
        let staged: Vec<Encoded> = windows.iter().map(|w| through_frames(enc.as_mut(), w)).collect();
        let d = max_diff_encoded(&whole, &staged);
        prop_assert!(d <= 1e-4, "frame stage differs from the whole window by {d}");
    }
}

#[test]
fn fuse_refuses_a_wrong_frame_count_or_feature_length() {
    let (_dir, path) = tiny_with_frame_stage("frames", "v3");
    let mut enc = open(&path, 1, 1);
    let c = enc.contract().clone();
    let w = formula_window(0, &c);
    let stage = enc.frame_stage().unwrap();
    let frames = &w.video.as_ref().unwrap().frames;
    let features = stage.encode_frames(frames).unwrap();
    let err = stage.fuse(Some(&features[..3]), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "window 0: 3 video frames, the model takes 4"
    );
    let mut short = features.clone();
    short[2] = FrameFeatures::new(vec![0.0; 7]);
    let err = stage.fuse(Some(&short), None).unwrap_err();
    assert!(
        matches!(
            err,
            EncodeError::FrameFeatures {
                frame: 2,
                expected: 8,
                got: 7
            }
        ),
        "{err}"
    );
    assert!(matches!(
        stage.fuse(None, None),
        Err(EncodeError::Preprocess(_))
    ));
}

#[test]
fn a_frame_stage_tract_cannot_cut_is_refused_naming_it() {
    for (input, output, says) in [
        ("frames", "no_such_tensor", "no tensor `no_such_tensor`"),
        ("frames", "i1", "still read input `imu`"),
    ] {
        let (_dir, path) = tiny_with_frame_stage(input, output);
        let err = match encode::open(&path, &EncoderOptions::default()) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{input} -> {output} was accepted"),
        };
        assert!(
            err.contains("mmcl.frame_stage.input/output") && err.contains(output),
            "{err}"
        );
        assert!(err.contains(says), "{err}");
    }
}

/// Not bit for bit: tract picks its matrix kernels by row count, so a batch
/// of 5 and 5 batches of 1 already differ by ~1e-6 on one thread; threads add
/// nothing to that (each chunk is a plan of its own row count).
#[test]
fn threads_split_windows_and_frames_within_float_rounding() {
    let (_dir, path) = tiny_with_frame_stage("frames", "v3");
    for model in [tiny(), path.clone()] {
        let mut one = open(&model, 5, 1);
        let c = one.contract().clone();
        let mut windows: Vec<Window> = (0..5).map(|n| formula_window(n, &c)).collect();
        windows[3] = windows[3].clone().without(Modality::Video);
        let base = one.encode(&windows).unwrap();
        for (batch, threads) in [(1, 2), (2, 2), (5, 2), (5, 3)] {
            let other = open(&model, batch, threads).encode(&windows).unwrap();
            let d = max_diff_encoded(&base, &other);
            assert!(
                d <= 1e-5,
                "batch {batch}, threads {threads} on {}: {d}",
                model.display()
            );
        }
    }
}

/// The default encoder: its frame stage against its whole-window path and
/// the committed reference, with one and two threads.
#[test]
fn the_default_encoder_frame_stage_equals_its_whole_windows() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    let mut enc = open(&model, 3, 1);
    let windows = reference_windows(enc.contract());
    let whole = enc.encode(&windows).unwrap();
    let staged: Vec<Encoded> = windows
        .iter()
        .map(|w| through_frames(enc.as_mut(), w))
        .collect();
    let d = max_diff_encoded(&whole, &staged);
    assert!(
        d <= 1e-6,
        "frame stage differs from the whole window by {d}"
    );
    let mut two = open(&model, 1, 2);
    let split: Vec<Encoded> = (windows.iter())
        .map(|w| two.encode(std::slice::from_ref(w)).unwrap().remove(0))
        .collect();
    let d = max_diff_encoded(&whole, &split);
    assert!(
        d <= 1e-6,
        "2 threads (frames split) changed the embeddings by {d}"
    );
}
