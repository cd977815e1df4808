//! The default encoder, models/encoder.onnx, against its onnxruntime reference
//! (tests/data/encoder/reference.json, written by models/verify_encoder.py)
//! and, with `--features ort`, tract against ONNX Runtime. Heavy: run with
//! `--release`. Both files come from the encoder model's branch; without them
//! these tests fail saying so.
#![cfg(feature = "tract")]

mod encode_support;

use encode_support::*;
use mmcl::encode::{self, Batch, EncoderOptions, ModelContract};
use std::path::PathBuf;

fn model() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    assert!(
        path.is_file(),
        "{} is missing: it is built by models/build_encoder.py",
        path.display()
    );
    path
}

fn reference() -> serde_json::Value {
    let path = data("reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The formulas `video_value` and `imu_formula` implement, as reference.json states
/// them: a rebuilt reference with other inputs fails here by name, not by a number.
const VIDEO_FORMULA: &str = "video[n,t,c,y,x] = 1.5 * sin(0.11*x + 0.07*y + 1.3*c + 0.4*t + 0.9*n) * cos(0.05*y - 0.03*x + 0.5*t)";
const IMU_FORMULA: &str = "imu[n,c,i] = if c < 3 { 0.3*sin(0.2*i + c + n) + 0.1*sin(0.9*i + 2*c) + (if c == 2 { 1 } else { 0 }) } else { 40*cos(0.15*i + c + n) + 15*sin(0.6*i + c) }";

#[test]
fn the_reference_inputs_are_the_formulas_this_test_computes() {
    let r = reference();
    assert_eq!(r["video_formula"].as_str(), Some(VIDEO_FORMULA));
    assert_eq!(r["imu_formula"].as_str(), Some(IMU_FORMULA));
}

/// `video_formula` of reference.json.
fn video_value(n: usize, t: usize, c: usize, y: usize, x: usize) -> f32 {
    let (n, t, c, y, x) = (n as f64, t as f64, c as f64, y as f64, x as f64);
    (1.5 * (0.11 * x + 0.07 * y + 1.3 * c + 0.4 * t + 0.9 * n).sin()
        * (0.05 * y - 0.03 * x + 0.5 * t).cos()) as f32
}

/// `imu_formula` of reference.json.
fn imu_formula(n: usize, c: usize, i: usize) -> f32 {
    let (nf, cf, i) = (n as f64, c as f64, i as f64);
    let v = if c < 3 {
        0.3 * (0.2 * i + cf + nf).sin()
            + 0.1 * (0.9 * i + 2.0 * cf).sin()
            + if c == 2 { 1.0 } else { 0.0 }
    } else {
        40.0 * (0.15 * i + cf + nf).cos() + 15.0 * (0.6 * i + cf).sin()
    };
    v as f32
}

/// The reference batch: window 0 both modalities, 1 video only, 2 IMU only.
fn reference_batch(c: &ModelContract) -> Batch {
    let mut video = Vec::new();
    let mut imu = Vec::new();
    for n in 0..3 {
        for t in 0..c.frames {
            for ch in 0..3 {
                for y in 0..c.height {
                    video.extend((0..c.width).map(|x| {
                        if n == 2 {
                            0.0
                        } else {
                            video_value(n, t, ch, y, x)
                        }
                    }));
                }
            }
        }
        for ch in 0..6 {
            imu.extend((0..c.imu_len).map(|i| if n == 1 { 0.0 } else { imu_formula(n, ch, i) }));
        }
    }
    Batch {
        n: 3,
        video,
        imu,
        present: vec![1.0, 1.0, 1.0, 0.0, 0.0, 1.0],
    }
}

fn check_against_reference(backend: &str, options: &EncoderOptions) {
    let reference = reference();
    let tolerance = reference["suggested_tolerance_abs"]
        .as_f64()
        .unwrap_or(1e-4) as f32;
    let mut enc = encode::open(&model(), options).unwrap();
    let c = enc.contract().clone();
    assert_eq!(
        c.sha256,
        reference["model_sha256"].as_str().unwrap(),
        "reference.json is for another model file"
    );
    let out = enc.run(&reference_batch(&c)).unwrap();
    for (n, w) in reference["windows"].as_array().unwrap().iter().enumerate() {
        let vec = |key: &str| -> Vec<f32> {
            w[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        };
        let emb = vec("embedding");
        let d = max_abs_diff(&out.embedding[n * c.dim..(n + 1) * c.dim], &emb);
        assert!(
            d <= tolerance,
            "{backend}: window {n} embedding differs by {d}"
        );
        for (head, values, dim) in [
            ("video_embedding_head", &out.video, c.video_dim),
            ("imu_embedding_head", &out.imu, c.imu_dim),
        ] {
            let want = vec(head);
            let d = max_abs_diff(&values[n * dim..n * dim + want.len()], &want);
            assert!(
                d <= tolerance,
                "{backend}: window {n} {head} differs by {d}"
            );
        }
    }
}

#[test]
fn the_default_encoder_follows_the_contract() {
    let model = encode::ModelFile::read(&model()).unwrap();
    let c = encode::check_contract(&model).unwrap();
    assert_eq!((c.frames, c.height, c.width, c.imu_len), (8, 112, 112, 128));
    let reference = reference();
    let dims = [
        &reference["embedding_dim"],
        &reference["video_dim"],
        &reference["imu_dim"],
    ]
    .map(|v| v.as_u64().unwrap() as usize);
    assert_eq!([c.dim, c.video_dim, c.imu_dim], dims);
}

#[test]
fn tract_matches_the_onnxruntime_reference() {
    check_against_reference(
        "tract",
        &EncoderOptions {
            batch_size: 3,
            ..EncoderOptions::default()
        },
    );
}

#[cfg(feature = "ort")]
mod with_ort {
    use super::*;
    use mmcl::encode::{Backend, ExecutionProvider};
    use mmcl::sample::Modality;

    fn ort_options(batch_size: usize) -> EncoderOptions {
        let library = mmcl::encode::ort_locate::locate(None)
            .expect("no ONNX Runtime library: `pip install onnxruntime==1.32.0`, or set ORT_DYLIB_PATH to libonnxruntime.so.1.32.0 of the PyPI wheel")
            .path()
            .to_path_buf();
        EncoderOptions {
            backend: Backend::Ort,
            threads: 2,
            execution_providers: vec![ExecutionProvider::Cpu],
            ort_library: Some(library),
            batch_size,
        }
    }

    #[test]
    fn ort_matches_the_reference() {
        check_against_reference("ort", &ort_options(3));
    }

    #[test]
    fn tract_and_ort_agree_on_windows_with_every_presence_pattern() {
        let mut ort = encode::open(&model(), &ort_options(4)).unwrap();
        let mut tract = encode::open(
            &model(),
            &EncoderOptions {
                batch_size: 4,
                ..EncoderOptions::default()
            },
        )
        .unwrap();
        let c = ort.contract().clone();
        let w = formula_window(5, &c);
        let windows = [
            w.clone(),
            w.clone().without(Modality::Imu),
            w.without(Modality::Video),
        ];
        let d = max_diff_encoded(
            &ort.encode(&windows).unwrap(),
            &tract.encode(&windows).unwrap(),
        );
        assert!(
            d <= 1e-4,
            "tract and ort differ by {d} on the default encoder"
        );
    }
}
