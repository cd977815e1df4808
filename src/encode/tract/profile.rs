//! Where tract spends a window's time, by operator kind: the whole-window
//! plan the encoder runs (after the channel-last pass), each node timed over
//! a few runs. For `cargo bench --bench encoder -- --profile` and
//! docs/encoder.md.

use super::enabled::{backend_error, open_tract};
use crate::encode::{Batch, EncodeError, EncoderOptions, ModelContract, ModelFile, OpTime};
use std::collections::HashMap;
use std::time::Instant;
use tract_onnx::prelude::*;

/// Mean milliseconds per run of `batch`, by tract operator name, slowest first.
pub fn profile_ops(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
    batch: &Batch,
    runs: usize,
) -> Result<Vec<OpTime>, EncodeError> {
    let mut encoder = open_tract(model, contract, options)?;
    let plan = encoder.plan(encoder.window_key(batch.n))?;
    let c = &encoder.contract;
    let inputs: TVec<TValue> = tvec![
        tensor(&[batch.n, c.frames, 3, c.height, c.width], &batch.video)?,
        tensor(&[batch.n, 6, c.imu_len], &batch.imu)?,
        tensor(&[batch.n, 2], &batch.present)?,
    ];
    let mut state = TypedSimpleState::new(&plan).map_err(|e| backend_error("profile", e))?;
    let mut per: HashMap<String, (f64, usize)> = HashMap::new();
    for _ in 0..runs.max(1) {
        state
            .run_plan_with_eval(inputs.clone(), |session, op_state, node, input| {
                let start = Instant::now();
                let out = tract_onnx::tract_core::plan::eval(session, op_state, node, input);
                let entry = per.entry(node.op().name().to_string()).or_default();
                entry.0 += start.elapsed().as_secs_f64() * 1e3;
                entry.1 += 1;
                out
            })
            .map_err(|e| backend_error("profile", e))?;
    }
    let runs = runs.max(1);
    let mut ops: Vec<OpTime> = (per.into_iter())
        .map(|(op, (ms, n))| OpTime {
            op,
            nodes: n / runs,
            ms: ms / runs as f64,
        })
        .collect();
    ops.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    Ok(ops)
}

fn tensor(shape: &[usize], data: &[f32]) -> Result<TValue, EncodeError> {
    let t = Tensor::from_shape(shape, data).map_err(|e| backend_error("profile", e))?;
    Ok(t.into())
}
