//! What a window costs in tract: its FLOPs by tract's cost model, and where
//! the time goes by operator kind in the whole-window plan the encoder runs
//! (after the channel-last pass), each node timed over a few runs. For
//! `cargo bench --bench encoder [-- --profile]` and docs/encoder.md.

use super::enabled::{backend_error, open_tract, parse};
use crate::encode::{Batch, EncodeError, EncoderOptions, ModelContract, ModelFile, OpTime};
use std::collections::HashMap;
use std::time::Instant;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::Cost;

/// Mean milliseconds per run of `batch`, by tract operator name, slowest first.
pub fn profile_ops(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
    batch: &Batch,
    runs: usize,
) -> Result<Vec<OpTime>, EncodeError> {
    let mut encoder = open_tract(model, contract, options)?;
    let plan = encoder.plan(encoder.window_key(batch.n, false))?;
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

/// FLOPs of one window (batch 1), counted by tract's cost model: every
/// multiply-accumulate it reports (convolutions, matrix products) counts 2.
/// Elementwise operators and reductions are not counted.
pub fn flops_per_window(model: &ModelFile, c: &ModelContract) -> Result<f64, EncodeError> {
    let graph = parse(model)?;
    let count = || -> TractResult<f64> {
        let typed = graph
            .with_input_fact(0, f32::fact([1, c.frames, 3, c.height, c.width]).into())?
            .with_input_fact(1, f32::fact([1, 6, c.imu_len]).into())?
            .with_input_fact(2, f32::fact([1, 2]).into())?
            .into_typed()?
            .into_decluttered()?;
        let mut macs = 0f64;
        for node in typed.nodes() {
            let inputs = typed.node_input_facts(node.id)?;
            for (cost, n) in node.op.cost(&inputs)? {
                if let Cost::FMA(_) = cost {
                    macs += n.to_i64()? as f64;
                }
            }
        }
        Ok(2.0 * macs)
    };
    count().map_err(|e| backend_error("count FLOPs", e))
}
