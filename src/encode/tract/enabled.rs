//! The tract backend: the ONNX graph is parsed once, then optimized into one
//! runnable plan per stage and row count actually used (dimensions fixed per
//! plan, which lets tract pick its fastest kernels), after `layout` has moved
//! the convolutions to channel-last. Stages: the whole window, and for a model
//! that declares a frame stage (`stage`) the per-frame network and the fuse
//! graph. Plans stay few: batches are at most `batch_size` windows, frame
//! chunks at most T frames.
//!
//! Threads: with more than one, `parallel` splits a batch's windows, or a
//! lone window's frames when the model has a frame stage, across scoped
//! threads running single-threaded plans. A lone window of a model without a
//! frame stage runs on tract's own pool, which speeds up matrix products only.

use super::parallel::{concat, frame_chunks, ranges, run_all, run_plan};
use super::stage::{cut, Cut};
use crate::encode::{
    BackendInfo, Batch, BatchOutputs, EncodeError, Encoder, EncoderOptions, FrameFeatures,
    FrameStage, ModelContract, ModelFile,
};
use std::collections::HashMap;
use std::sync::Arc;
use tract_linalg::multithread::Executor;
use tract_onnx::prelude::*;

const INPUTS: [&str; 3] = ["video", "imu", "present"];
const OUTPUTS: [&str; 3] = ["embedding", "video_embedding", "imu_embedding"];

/// Which part of the graph a plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Stage {
    /// video, imu, present -> the three outputs; rows are windows.
    Window,
    /// frames -> frame features; rows are frames.
    Frames,
    /// frame features, imu, present -> the three outputs; rows are windows.
    Fuse,
}

/// One optimized plan: its stage, rows, and whether it runs on tract's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct PlanKey {
    pub stage: Stage,
    pub rows: usize,
    pub pooled: bool,
}

pub struct TractEncoder {
    pub(super) contract: ModelContract,
    /// The parsed graph with inputs and outputs in contract order.
    model: InferenceModel,
    /// The frame stage, when the model declares one.
    pub(super) cut: Option<Cut>,
    plans: HashMap<PlanKey, Arc<TypedRunnableModel>>,
    /// tract's pool for lone windows (single-threaded when `threads` is 1).
    pool: Executor,
    pub(super) threads: usize,
    batch_size: usize,
    /// The features of an all-zero frame: what a window without video feeds.
    pub(super) absent: Option<FrameFeatures>,
}

pub(super) fn backend_error(action: impl Into<String>, e: impl std::fmt::Display) -> EncodeError {
    EncodeError::Backend {
        backend: "tract",
        action: action.into(),
        message: format!("{e:#}"),
    }
}

/// The graph of `model` with inputs and outputs named and ordered as the contract says.
pub(super) fn parse(model: &ModelFile) -> Result<InferenceModel, EncodeError> {
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

/// Loads `model`, cuts its frame stage if it declares one, and builds the
/// plan for the configured batch size, so an operator tract cannot run (or a
/// frame stage it cannot cut) is reported here rather than at the first window.
pub fn open(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
) -> Result<Box<dyn Encoder>, EncodeError> {
    Ok(Box::new(open_tract(model, contract, options)?))
}

/// `open` without the box, for the profiler.
pub(super) fn open_tract(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
) -> Result<TractEncoder, EncodeError> {
    let threads = options.effective_threads();
    let pool = if threads > 1 {
        Executor::multithread(threads)
    } else {
        Executor::SingleThread
    };
    let graph = parse(model)?;
    let cut = match &contract.frame_stage {
        Some(at) => Some(cut(&graph, at, &contract).map_err(|e| {
            let what = format!(
                "cut the frame stage at `{}` -> `{}` (mmcl.frame_stage.input/output)",
                at.input, at.output
            );
            backend_error(what, e)
        })?),
        None => None,
    };
    let batch_size = contract.fixed_batch.unwrap_or(options.batch_size);
    let mut encoder = TractEncoder {
        contract,
        model: graph,
        cut,
        plans: HashMap::new(),
        pool,
        threads,
        batch_size,
        absent: None,
    };
    encoder.prepare()?;
    Ok(encoder)
}

impl TractEncoder {
    /// The graph of `key`'s stage with its input facts fixed, decluttered.
    fn typed(&self, key: PlanKey) -> TractResult<TypedModel> {
        let c = &self.contract;
        let n = key.rows;
        let imu = f32::fact([n, 6, c.imu_len]);
        let present = f32::fact([n, 2]);
        let model = match (key.stage, &self.cut) {
            (Stage::Window, _) => self
                .model
                .clone()
                .with_input_fact(0, f32::fact([n, c.frames, 3, c.height, c.width]).into())?
                .with_input_fact(1, imu.into())?
                .with_input_fact(2, present.into())?,
            (Stage::Frames, Some(cut)) => (cut.frames.clone())
                .with_input_fact(0, f32::fact([n, 3, c.height, c.width]).into())?,
            (Stage::Fuse, Some(cut)) => {
                let mut features = vec![n * c.frames];
                features.extend(&cut.feature_shape);
                (cut.fuse.clone())
                    .with_input_fact(0, f32::fact(features).into())?
                    .with_input_fact(1, imu.into())?
                    .with_input_fact(2, present.into())?
            }
            (stage, None) => {
                anyhow::bail!("{stage:?} needs a frame stage, the model declares none")
            }
        };
        model.into_typed()?.into_decluttered()
    }

    fn build(&self, key: PlanKey) -> TractResult<Arc<TypedRunnableModel>> {
        let mut model = self.typed(key)?;
        super::layout::channel_last(&mut model);
        model.optimize()?;
        let executor = if key.pooled {
            self.pool.clone()
        } else {
            Executor::SingleThread
        };
        let options = RunOptions {
            executor: Some(executor),
            ..RunOptions::default()
        };
        model.into_runnable_with_options(&options)
    }

    /// The plan for `key`, built on first use.
    pub(super) fn plan(&mut self, key: PlanKey) -> Result<Arc<TypedRunnableModel>, EncodeError> {
        if let Some(plan) = self.plans.get(&key) {
            return Ok(plan.clone());
        }
        let what = format!("optimize the {:?} stage for {} rows", key.stage, key.rows);
        let plan = self.build(key).map_err(|e| backend_error(what, e))?;
        self.plans.insert(key, plan.clone());
        Ok(plan)
    }

    /// Builds the plans a full batch runs, so that `open` reports what tract
    /// cannot run before the first window does. A model with a frame stage gets
    /// the frame-stage plans instead, those of a stream's first window (its T
    /// frames' chunks, run once for the absent-video features, and the fuse of
    /// one window): a stream runs through them (`FrameCache`), so a device holds
    /// the graph's weights once per plan it uses, not also a whole-window plan it
    /// never runs, and its first window waits for no plan; a batch of windows
    /// builds the whole-window plan on first use.
    fn prepare(&mut self) -> Result<(), EncodeError> {
        if self.cut.is_some() {
            self.absent_features()?;
            self.plan(PlanKey {
                stage: Stage::Fuse,
                rows: 1,
                pooled: false,
            })?;
            return Ok(());
        }
        let chunks = ranges(self.batch_size, self.threads.min(self.batch_size));
        for r in &chunks {
            self.plan(self.window_key(r.len(), chunks.len() > 1))?;
        }
        Ok(())
    }

    /// The whole-window plan for `rows` windows: on tract's pool when it runs
    /// a lone window that is not `split` across threads and cannot go through
    /// a frame stage, otherwise single-threaded.
    pub(super) fn window_key(&self, rows: usize, split: bool) -> PlanKey {
        let pooled = self.threads > 1 && !split && rows == 1 && self.cut.is_none();
        PlanKey {
            stage: Stage::Window,
            rows,
            pooled,
        }
    }

    /// A batch's windows split across the threads.
    fn run_windows(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        let c = self.contract.clone();
        let chunks = ranges(batch.n, self.threads.min(batch.n));
        let plans = (chunks.iter())
            .map(|r| self.plan(self.window_key(r.len(), chunks.len() > 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let clip = c.frames * 3 * c.height * c.width;
        let outputs = run_all(chunks.len(), self.threads, |i| {
            let (r, n) = (&chunks[i], chunks[i].len());
            let inputs = tvec![
                tensor(
                    &[n, c.frames, 3, c.height, c.width],
                    rows(&batch.video, r, clip),
                    "video"
                )?,
                tensor(
                    &[n, 6, c.imu_len],
                    rows(&batch.imu, r, 6 * c.imu_len),
                    "imu"
                )?,
                tensor(&[n, 2], rows(&batch.present, r, 2), "present")?,
            ];
            run_plan(&plans[i], inputs, &format!("run a batch of {n}"))
        })?;
        three(concat(outputs))
    }

    /// `[F, 3, H, W]` frames to their `[F, ...]` features, in chunks split
    /// across the threads whose sizes are powers of two up to T/2
    /// (`frame_chunks`): a stream's first window (T new frames) and its steady
    /// windows (stride / frame interval new frames) share plans, and no count of
    /// new frames adds a plan beyond log2(T/2) + 1 of them.
    pub(super) fn run_frames(&mut self, frames: &[f32], f: usize) -> Result<Vec<f32>, EncodeError> {
        let c = self.contract.clone();
        let chunks = frame_chunks(f, self.threads, c.frames / 2);
        let plans = (chunks.iter())
            .map(|r| {
                self.plan(PlanKey {
                    stage: Stage::Frames,
                    rows: r.len(),
                    pooled: false,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let frame_len = 3 * c.height * c.width;
        let outputs = run_all(chunks.len(), self.threads, |i| {
            let (r, n) = (&chunks[i], chunks[i].len());
            let input = tensor(
                &[n, 3, c.height, c.width],
                rows(frames, r, frame_len),
                "frames",
            )?;
            run_plan(&plans[i], tvec![input], &format!("encode {n} frames"))
        })?;
        Ok(concat(outputs).into_iter().next().unwrap_or_default())
    }

    /// `n` windows from their frames' features, IMU and presence.
    pub(super) fn run_fuse(
        &mut self,
        features: &[f32],
        imu: &[f32],
        present: &[f32],
    ) -> Result<BatchOutputs, EncodeError> {
        let c = self.contract.clone();
        let n = present.len() / 2;
        let Some(shape) = self.cut.as_ref().map(|cut| cut.feature_shape.clone()) else {
            return Err(backend_error(
                "fuse frame features",
                "the model has no frame stage",
            ));
        };
        let plan = self.plan(PlanKey {
            stage: Stage::Fuse,
            rows: n,
            pooled: false,
        })?;
        let mut features_shape = vec![n * c.frames];
        features_shape.extend(shape);
        let inputs = tvec![
            tensor(&features_shape, features, "frame features")?,
            tensor(&[n, 6, c.imu_len], imu, "imu")?,
            tensor(&[n, 2], present, "present")?,
        ];
        three(run_plan(&plan, inputs, &format!("fuse {n} windows"))?)
    }

    /// A lone window through the frame stage: its frames split across the threads.
    fn run_split_frames(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        let frames = batch.n * self.contract.frames;
        let features = self.run_frames(&batch.video, frames)?;
        self.run_fuse(&features, &batch.imu, &batch.present)
    }

    /// A batch in which no window has video: the fuse graph fed the features
    /// of an all-zero frame, which is what the whole graph computes for them.
    fn run_without_video(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        let absent = self.absent_features()?;
        let features = absent.as_slice().repeat(batch.n * self.contract.frames);
        self.run_fuse(&features, &batch.imu, &batch.present)
    }
}

/// Rows `r` of a row-major buffer with `width` values per row.
fn rows<'a>(data: &'a [f32], r: &std::ops::Range<usize>, width: usize) -> &'a [f32] {
    data.get(r.start * width..r.end * width).unwrap_or(&[])
}

fn tensor(shape: &[usize], data: &[f32], name: &str) -> Result<TValue, EncodeError> {
    let t = Tensor::from_shape(shape, data)
        .map_err(|e| backend_error(format!("build input `{name}`"), e))?;
    Ok(t.into())
}

/// The contract's three outputs, in order.
fn three(outputs: Vec<Vec<f32>>) -> Result<BatchOutputs, EncodeError> {
    let mut it = outputs.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(embedding), Some(video), Some(imu)) => Ok(BatchOutputs {
            embedding,
            video,
            imu,
        }),
        _ => Err(backend_error("read the outputs", "fewer than 3")),
    }
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

    fn frame_stage(&mut self) -> Option<&mut dyn FrameStage> {
        match self.cut {
            Some(_) => Some(self),
            None => None,
        }
    }

    fn run(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        let staged = self.cut.is_some();
        let no_video = (0..batch.n).all(|i| !batch.is_present(i, 0));
        if staged && no_video && batch.n > 0 {
            return self.run_without_video(batch);
        }
        if self.threads > 1 && batch.n == 1 && staged {
            return self.run_split_frames(batch);
        }
        self.run_windows(batch)
    }
}
