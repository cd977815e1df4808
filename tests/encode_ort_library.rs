//! A missing ONNX Runtime library is a clear error, not a panic. Its own test
//! binary: ONNX Runtime is loaded once per process, so this must run in a
//! process that never loaded the real library.
#![cfg(feature = "ort")]

mod encode_support;

use encode_support::tiny;
use mmcl::encode::{self, Backend, EncodeError, EncoderOptions};

#[test]
fn a_missing_library_is_an_error_saying_how_to_set_it() {
    let options = EncoderOptions {
        backend: Backend::Ort,
        ort_library: Some("/nonexistent/libonnxruntime.so".into()),
        ..EncoderOptions::default()
    };
    let err = match encode::open(&tiny(), &options) {
        Err(e) => e,
        Ok(_) => panic!("opened without a library"),
    };
    assert!(matches!(err, EncodeError::OrtLibrary(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("/nonexistent/libonnxruntime.so") && text.contains("ORT_DYLIB_PATH"),
        "{text}"
    );
}
