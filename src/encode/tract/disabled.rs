//! Stand-in for the tract backend when the `tract` feature is off.

use crate::encode::{
    Batch, EncodeError, Encoder, EncoderOptions, ModelContract, ModelFile, OpTime,
};

fn not_compiled() -> EncodeError {
    EncodeError::NotCompiled {
        backend: "tract",
        feature: "tract",
    }
}

pub fn open(
    _: &ModelFile,
    _: ModelContract,
    _: &EncoderOptions,
) -> Result<Box<dyn Encoder>, EncodeError> {
    Err(not_compiled())
}

/// FLOPs per window need tract's graph analysis.
pub fn flops_per_window(_: &ModelFile, _: &ModelContract) -> Result<f64, EncodeError> {
    Err(not_compiled())
}

/// The operator profile needs tract.
pub fn profile_ops(
    _: &ModelFile,
    _: ModelContract,
    _: &EncoderOptions,
    _: &Batch,
    _: usize,
) -> Result<Vec<OpTime>, EncodeError> {
    Err(not_compiled())
}
