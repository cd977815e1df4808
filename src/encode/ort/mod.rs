//! The ONNX Runtime backend (feature `ort`): the runtime is loaded at run time
//! from `EncoderOptions::ort_library`, `ORT_DYLIB_PATH` or the Python `onnxruntime`
//! package (`locate`), and execution
//! providers are tried in the configured order. `enabled.rs` runs models;
//! `disabled.rs` has the same API and refuses with a message naming the feature.

#[cfg(feature = "ort")]
mod enabled;
#[cfg(feature = "ort")]
pub use enabled::open;

#[cfg(not(feature = "ort"))]
mod disabled;
#[cfg(not(feature = "ort"))]
pub use disabled::open;

pub mod locate;
