//! The frozen encoder: windows in, embeddings out.
//!
//! An encoder is an ONNX file that follows the contract in DESIGN.md
//! ("Encoder contract"), checked once by `contract::ModelContract::check` when
//! the file is opened. `open` picks the backend in one place: tract (pure
//! Rust, feature `tract`, default) or ONNX Runtime with execution providers
//! (feature `ort`); each sits behind an enabled/disabled module pair, so
//! callers never see a `cfg`. `preprocess` turns windows into tensors,
//! `cache` keeps embeddings of dataset clips on disk keyed by the encoder's
//! sha256, and `inspect` reports a model for `mmcl model inspect`.
//! `frame_stage` is the split of a model that declares one: frames encoded
//! once, windows fused from their frames' features; `frame_cache` keeps a
//! stream's frame features so each frame is encoded once.

pub mod builtin;
pub mod cache;
pub mod contract;
pub mod dataset;
mod error;
pub mod frame_cache;
pub mod frame_stage;
pub mod inspect;
mod model_file;
pub mod onnx_proto;
mod options;
mod ort;
pub mod preprocess;
mod tract;

pub use contract::{ContractProblem, FrameStageTensors, ModelContract};
pub use error::EncodeError;
pub use frame_cache::{FrameCache, FrameCounts};
pub use frame_stage::{FrameFeatures, FrameStage};
pub use model_file::{sha256_hex, ModelFile};
pub use options::{Backend, EncoderOptions, ExecutionProvider};
pub use ort::locate as ort_locate;
pub use preprocess::Batch;
pub use tract::{flops_per_window, profile_ops};

use crate::embedding::Embedding;
use crate::window::Window;
use std::path::Path;

/// The encoder's output for one window. A per-modality embedding is present
/// only when that modality was present in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub embedding: Embedding,
    pub video: Option<Embedding>,
    pub imu: Option<Embedding>,
}

/// What is actually running, for status reports and benchmarks.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendInfo {
    /// "tract" or "ort".
    pub name: &'static str,
    /// The execution provider running the model ("cpu" for tract).
    pub execution_provider: String,
    /// Intra-op threads in use.
    pub threads: usize,
    /// Each execution provider tried, in order, with why it failed; the last
    /// `Ok` is the one running. Empty for tract.
    pub ep_attempts: Vec<(String, Result<(), String>)>,
}

/// One tract operator kind's share of a run (`profile_ops`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpTime {
    /// tract's name for the operator (e.g. `OptMatMul`, `DepthWiseConv`).
    pub op: String,
    /// Nodes of that kind in the plan.
    pub nodes: usize,
    /// Mean milliseconds per run, all those nodes together.
    pub ms: f64,
}

/// The raw outputs of one batch, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutputs {
    /// `[n, D]`.
    pub embedding: Vec<f32>,
    /// `[n, Dv]`.
    pub video: Vec<f32>,
    /// `[n, Di]`.
    pub imu: Vec<f32>,
}

/// A loaded encoder.
///
/// Required: `contract`, `backend`, `batch_size` and `run` (one batch of
/// tensors through the model). `encode` is provided: it cuts the windows into
/// batches of `batch_size`, preprocesses, runs and checks each output. On any
/// error `encode` returns it and no embedding: a caller never gets a partial
/// result that silently misses windows. `frame_stage` is provided as `None`
/// (whole-window path only); a backend that can split a model declaring a
/// frame stage returns it.
pub trait Encoder: Send {
    /// The checked contract of the loaded model.
    fn contract(&self) -> &ModelContract;
    /// The backend, execution provider and threads actually in use.
    fn backend(&self) -> BackendInfo;
    /// Windows per `run` call.
    fn batch_size(&self) -> usize;
    /// Runs one batch of input tensors; outputs have `batch.n` rows each.
    fn run(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError>;

    /// The model's frame stage, when it declares one and this backend can run
    /// it; `None` means every window goes through `encode`.
    fn frame_stage(&mut self) -> Option<&mut dyn FrameStage> {
        None
    }

    /// Encodes `windows` in batches; the result has one `Encoded` per window, in order.
    fn encode(&mut self, windows: &[Window]) -> Result<Vec<Encoded>, EncodeError> {
        let step = self.batch_size().max(1);
        let mut encoded = Vec::with_capacity(windows.len());
        for (b, chunk) in windows.chunks(step).enumerate() {
            let batch = Batch::from_windows(chunk, self.contract(), b * step)?;
            let outputs = match self.contract().fixed_batch {
                // A fixed-batch model takes exactly that many rows: pad with
                // absent windows and drop their outputs.
                Some(rows) if rows != batch.n => self
                    .run(&batch.padded(rows))?
                    .truncated(batch.n, self.contract()),
                _ => self.run(&batch)?,
            };
            encoded.extend(split_outputs(
                &batch.present,
                outputs,
                self.contract(),
                b * step,
                self.backend().name,
            )?);
        }
        Ok(encoded)
    }
}

/// Opens `path` with the backend `options` names, after checking the
/// contract; a model that breaks it is refused with every problem listed.
pub fn open(path: &Path, options: &EncoderOptions) -> Result<Box<dyn Encoder>, EncodeError> {
    options.validate()?;
    open_model(&ModelFile::read(path)?, options)
}

/// Opens a model already read (e.g. `builtin::default_model()`), checking the
/// contract first as `open` does.
pub fn open_model(
    model: &ModelFile,
    options: &EncoderOptions,
) -> Result<Box<dyn Encoder>, EncodeError> {
    options.validate()?;
    let contract = check_contract(model)?;
    match options.backend {
        Backend::Tract => tract::open(model, contract, options),
        Backend::Ort => ort::open(model, contract, options),
    }
}

/// The contract of a read model, or `EncodeError::Contract` with every problem.
pub fn check_contract(model: &ModelFile) -> Result<ModelContract, EncodeError> {
    ModelContract::check(&model.summary, &model.sha256).map_err(|problems| EncodeError::Contract {
        path: model.path.clone(),
        problems,
    })
}

impl BatchOutputs {
    /// The first `n` rows.
    fn truncated(mut self, n: usize, c: &ModelContract) -> BatchOutputs {
        self.embedding.truncate(n * c.dim);
        self.video.truncate(n * c.video_dim);
        self.imu.truncate(n * c.imu_dim);
        self
    }
}

/// Cuts a batch's outputs into per-window embeddings, checking sizes and
/// finiteness; `present` is the batch's `[n, 2]` presence.
pub(crate) fn split_outputs(
    present: &[f32],
    out: BatchOutputs,
    c: &ModelContract,
    first: usize,
    backend: &'static str,
) -> Result<Vec<Encoded>, EncodeError> {
    let n = present.len() / 2;
    let is_present = |i: usize, m: usize| present.get(i * 2 + m).is_some_and(|p| *p > 0.5);
    let size = |output: &'static str, values: &[f32], dim: usize| {
        if values.len() == n * dim {
            Ok(())
        } else {
            Err(EncodeError::OutputSize {
                backend,
                output,
                windows: n,
                expected: n * dim,
                got: values.len(),
            })
        }
    };
    size("embedding", &out.embedding, c.dim)?;
    size("video_embedding", &out.video, c.video_dim)?;
    size("imu_embedding", &out.imu, c.imu_dim)?;
    let row = |output: &'static str, values: &[f32], dim: usize, i: usize| {
        let values = values[i * dim..(i + 1) * dim].to_vec();
        Embedding::new(values, dim).map_err(|source| EncodeError::Output {
            window: first + i,
            output,
            source,
        })
    };
    (0..n)
        .map(|i| {
            Ok(Encoded {
                embedding: row("embedding", &out.embedding, c.dim, i)?,
                video: is_present(i, 0)
                    .then(|| row("video_embedding", &out.video, c.video_dim, i))
                    .transpose()?,
                imu: is_present(i, 1)
                    .then(|| row("imu_embedding", &out.imu, c.imu_dim, i))
                    .transpose()?,
            })
        })
        .collect()
}
