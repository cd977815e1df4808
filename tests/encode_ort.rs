//! The ONNX Runtime backend (feature `ort`) on the tiny fixture: agreement with
//! tract and with the reference, execution-provider fallback and reporting.
//! Needs ONNX Runtime (ORT_DYLIB_PATH or python3's onnxruntime); without it every
//! test fails saying how to get it.
#![cfg(all(feature = "ort", feature = "tract"))]

mod encode_support;

use encode_support::*;
use mmcl::encode::{self, Backend, EncodeError, EncoderOptions, ExecutionProvider};
use std::path::PathBuf;

fn library() -> PathBuf {
    match mmcl::encode::ort_locate::locate(None) {
        Some(found) => found.path().to_path_buf(),
        None => panic!(
            "no ONNX Runtime library: the ort tests need ONNX Runtime >= 1.30, e.g. \
             `pip install onnxruntime==1.32.0` (found through python3), or \
             export ORT_DYLIB_PATH=<site-packages>/onnxruntime/capi/libonnxruntime.so.1.32.0"
        ),
    }
}

fn ort_options(eps: Vec<ExecutionProvider>, threads: usize, batch_size: usize) -> EncoderOptions {
    EncoderOptions {
        backend: Backend::Ort,
        threads,
        execution_providers: eps,
        ort_library: Some(library()),
        batch_size,
    }
}

fn open_ort(threads: usize, batch_size: usize) -> Box<dyn encode::Encoder> {
    encode::open(
        &tiny(),
        &ort_options(vec![ExecutionProvider::Cpu], threads, batch_size),
    )
    .unwrap()
}

#[test]
fn ort_matches_the_reference() {
    let mut enc = open_ort(1, 4);
    let info = enc.backend();
    assert_eq!(
        (info.name, info.execution_provider.as_str(), info.threads),
        ("ort", "cpu", 1)
    );
    let windows = reference_windows(enc.contract());
    assert_matches_reference(&enc.encode(&windows).unwrap(), &tiny_reference(), 1e-4);
}

#[test]
fn tract_and_ort_agree_for_all_presence_patterns() {
    let mut ort = open_ort(2, 3);
    let mut tract = encode::open(&tiny(), &EncoderOptions::default()).unwrap();
    let c = ort.contract().clone();
    let mut windows = Vec::new();
    for n in 0..4 {
        let w = formula_window(n, &c);
        windows.push(w.clone());
        windows.push(w.clone().without(mmcl::sample::Modality::Imu));
        windows.push(w.without(mmcl::sample::Modality::Video));
    }
    let d = max_diff_encoded(
        &ort.encode(&windows).unwrap(),
        &tract.encode(&windows).unwrap(),
    );
    assert!(d <= 1e-4, "tract and ort differ by {d}");
}

#[test]
fn an_execution_provider_that_cannot_register_is_reported_and_the_next_tried() {
    // The PyPI onnxruntime wheel is CPU-only: CUDA fails to register.
    let options = ort_options(vec![ExecutionProvider::Cuda, ExecutionProvider::Cpu], 1, 2);
    let enc = encode::open(&tiny(), &options).unwrap();
    let info = enc.backend();
    assert_eq!(info.execution_provider, "cpu");
    assert_eq!(info.ep_attempts.len(), 2);
    assert_eq!(info.ep_attempts[0].0, "cuda");
    assert!(info.ep_attempts[0].1.is_err(), "{:?}", info.ep_attempts);
    assert_eq!(info.ep_attempts[1], ("cpu".to_string(), Ok(())));
}

#[test]
fn no_silent_cpu_fallback_when_cpu_is_not_listed() {
    let options = ort_options(vec![ExecutionProvider::Cuda], 1, 2);
    match encode::open(&tiny(), &options) {
        Err(EncodeError::NoExecutionProvider { attempts }) => {
            assert_eq!(attempts.len(), 1);
            assert_eq!(attempts[0].0, "cuda");
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(enc) => panic!(
            "ran on {} although only cuda was allowed",
            enc.backend().execution_provider
        ),
    }
}
