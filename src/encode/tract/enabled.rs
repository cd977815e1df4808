//! The tract backend: the ONNX graph is parsed once, then optimized into one
//! runnable plan per batch size actually used (the batch dimension is fixed
//! per plan, which lets tract pick its fastest kernels; a run of windows uses
//! at most two sizes: the full batch and the remainder).
//!
//! Threads: with more than one, tract's matrix products run on a private
//! rayon pool of that size (tract-linalg `multithread-mm`); other operators
//! stay single-threaded.

use crate::encode::{
    BackendInfo, Batch, BatchOutputs, EncodeError, Encoder, EncoderOptions, ModelContract,
    ModelFile,
};
use std::collections::HashMap;
use std::sync::Arc;
use tract_linalg::multithread::Executor;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::Cost;

const INPUTS: [&str; 3] = ["video", "imu", "present"];
const OUTPUTS: [&str; 3] = ["embedding", "video_embedding", "imu_embedding"];

pub struct TractEncoder {
    contract: ModelContract,
    /// The parsed graph with inputs and outputs in contract order.
    model: InferenceModel,
    plans: HashMap<usize, Arc<TypedRunnableModel>>,
    executor: Executor,
    threads: usize,
    batch_size: usize,
}

fn backend_error(action: impl Into<String>, e: impl std::fmt::Display) -> EncodeError {
    EncodeError::Backend {
        backend: "tract",
        action: action.into(),
        message: format!("{e:#}"),
    }
}

/// The graph of `model` with inputs and outputs named and ordered as the contract says.
fn parse(model: &ModelFile) -> Result<InferenceModel, EncodeError> {
    let what = format!("load {}", model.path.display());
    let mut graph = tract_onnx::onnx()
        .model_for_read(&mut &model.bytes[..])
        .map_err(|e| backend_error(&what, e))?;
    graph
        .set_input_names(INPUTS)
        .map_err(|e| backend_error(&what, e))?;
    graph
        .select_outputs_by_name(OUTPUTS)
        .map_err(|e| backend_error(&what, e))?;
    Ok(graph)
}

/// Loads `model` and builds the plan for the configured batch size, so an
/// operator tract cannot run is reported here rather than at the first window.
pub fn open(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
) -> Result<Box<dyn Encoder>, EncodeError> {
    let threads = options.effective_threads();
    let executor = if threads > 1 {
        Executor::multithread(threads)
    } else {
        Executor::SingleThread
    };
    let batch_size = contract.fixed_batch.unwrap_or(options.batch_size);
    let mut encoder = TractEncoder {
        contract,
        model: parse(model)?,
        plans: HashMap::new(),
        executor,
        threads,
        batch_size,
    };
    encoder.plan(batch_size)?;
    Ok(Box::new(encoder))
}

impl TractEncoder {
    fn build(&self, n: usize) -> TractResult<Arc<TypedRunnableModel>> {
        let c = &self.contract;
        let model = self
            .model
            .clone()
            .with_input_fact(0, f32::fact([n, c.frames, 3, c.height, c.width]).into())?
            .with_input_fact(1, f32::fact([n, 6, c.imu_len]).into())?
            .with_input_fact(2, f32::fact([n, 2]).into())?
            .into_optimized()?;
        let options = RunOptions {
            executor: Some(self.executor.clone()),
            ..RunOptions::default()
        };
        model.into_runnable_with_options(&options)
    }

    fn plan(&mut self, n: usize) -> Result<Arc<TypedRunnableModel>, EncodeError> {
        if let Some(plan) = self.plans.get(&n) {
            return Ok(plan.clone());
        }
        let plan = self
            .build(n)
            .map_err(|e| backend_error(format!("optimize the model for batch {n}"), e))?;
        self.plans.insert(n, plan.clone());
        Ok(plan)
    }
}

fn tensor(shape: &[usize], data: &[f32], name: &str) -> Result<TValue, EncodeError> {
    let t = Tensor::from_shape(shape, data)
        .map_err(|e| backend_error(format!("build input `{name}`"), e))?;
    Ok(t.into())
}

fn values(outputs: &TVec<TValue>, index: usize) -> Result<Vec<f32>, EncodeError> {
    let name = OUTPUTS[index];
    let value = outputs
        .get(index)
        .ok_or_else(|| backend_error(format!("read output `{name}`"), "missing"))?;
    let view = value
        .to_plain_array_view::<f32>()
        .map_err(|e| backend_error(format!("read output `{name}`"), e))?;
    Ok(view.iter().copied().collect())
}

impl Encoder for TractEncoder {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }

    fn backend(&self) -> BackendInfo {
        BackendInfo {
            name: "tract",
            execution_provider: "cpu".into(),
            threads: self.threads,
            ep_attempts: Vec::new(),
        }
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn run(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        let c = &self.contract;
        let n = batch.n;
        let inputs = tvec![
            tensor(&[n, c.frames, 3, c.height, c.width], &batch.video, "video")?,
            tensor(&[n, 6, c.imu_len], &batch.imu, "imu")?,
            tensor(&[n, 2], &batch.present, "present")?,
        ];
        let outputs = self
            .plan(n)?
            .run(inputs)
            .map_err(|e| backend_error(format!("run a batch of {n}"), e))?;
        Ok(BatchOutputs {
            embedding: values(&outputs, 0)?,
            video: values(&outputs, 1)?,
            imu: values(&outputs, 2)?,
        })
    }
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
