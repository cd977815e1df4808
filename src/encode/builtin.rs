//! The default encoder (`models/encoder.onnx`, model card in `models/README.md`),
//! carried inside the binary so a fresh install runs with no model file to place.
//! A profile that names no `encoder.model` runs this one.

use super::{EncodeError, ModelFile};
use std::path::PathBuf;

/// The bytes of `models/encoder.onnx` at build time.
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/encoder.onnx");

/// How reports and errors name the embedded encoder (it has no path on disk).
pub const DEFAULT_MODEL_LABEL: &str = "(built-in models/encoder.onnx)";

/// The embedded default encoder, parsed.
pub fn default_model() -> Result<ModelFile, EncodeError> {
    ModelFile::from_bytes(PathBuf::from(DEFAULT_MODEL_LABEL), DEFAULT_MODEL)
}
