//! Stand-in for the ONNX Runtime backend when the `ort` feature is off.

use crate::encode::{EncodeError, Encoder, EncoderOptions, ModelContract, ModelFile};

pub fn open(
    _: &ModelFile,
    _: ModelContract,
    _: &EncoderOptions,
) -> Result<Box<dyn Encoder>, EncodeError> {
    Err(EncodeError::NotCompiled {
        backend: "ort",
        feature: "ort",
    })
}
