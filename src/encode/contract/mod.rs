//! The encoder contract (DESIGN.md, "Encoder contract"): which inputs, outputs
//! and `metadata_props` an ONNX file must carry for mmcl to feed it windows.
//!
//! `ModelContract::check` validates a parsed model once, at the edge, into a
//! `ModelContract` that cannot be inconsistent, or returns every
//! `ContractProblem` it found (not just the first), each naming the input,
//! output or metadata key with what was expected and what the file has.
//! Contract version 1 knows the modalities `video` and `imu`, in that order
//! (the order of the columns of `present`).
//!
//! Optional keys add to version 1 without breaking it: `mmcl.flops_per_window`,
//! and the frame stage (`mmcl.frame_stage.input` / `.output`, see
//! `FrameStageTensors`), which lets the runtime encode each frame once. A
//! model without them runs on the whole-window path.

mod checker;

use super::onnx_proto::OnnxSummary;
use checker::Checker;

/// The contract version this runtime implements (`mmcl.contract`).
pub const CONTRACT_VERSION: &str = "1";
/// The modalities of contract version 1, in `present` column order.
pub const MODALITIES: [&str; 2] = ["video", "imu"];
/// The IMU units the runtime feeds (ImuSample: g and °/s).
pub const IMU_UNITS: &str = "g,g,g,dps,dps,dps";

/// A model checked against the contract: everything the runtime needs to
/// build input tensors and read outputs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelContract {
    /// Frames per window (T).
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    /// IMU points per window (L), at `imu_rate_hz`.
    pub imu_len: usize,
    pub imu_rate_hz: f32,
    pub window_seconds: f32,
    /// Fused embedding dimension (D).
    pub dim: usize,
    pub video_dim: usize,
    pub imu_dim: usize,
    pub modalities: Vec<String>,
    /// Per-channel RGB mean and std applied after scaling to [0, 1].
    pub video_mean: [f32; 3],
    pub video_std: [f32; 3],
    pub name: String,
    /// Hex sha256 of the model file: the encoder's identity for caches and snapshots.
    pub sha256: String,
    /// Fixed batch dimension, when the model has one instead of a symbol.
    pub fixed_batch: Option<usize>,
    /// `mmcl.flops_per_window` when the model declares it.
    pub flops_per_window: Option<f64>,
    /// Where the graph splits into a per-frame stage, when the model says so.
    pub frame_stage: Option<FrameStageTensors>,
}

/// The two tensors that cut a model into a per-frame stage and the rest
/// (`mmcl.frame_stage.input` and `mmcl.frame_stage.output`).
///
/// What the model promises by naming them: `input` is `video` reshaped to
/// `[N*T, 3, H, W]` (window-major, no other op in between); `output` is
/// `[N*T, ...]`, row `i` computed from frame `i` alone; and every output of the
/// model depends on `video` only through `output`. A runtime can then encode
/// each frame once, keep its row of `output`, and build any window from the
/// rows of its T frames with the rest of the graph.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FrameStageTensors {
    /// The per-frame input tensor, `[N*T, 3, H, W]`.
    pub input: String,
    /// The per-frame features tensor, `[N*T, ...]`.
    pub output: String,
}

/// One way a model breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContractProblem {
    /// "input", "output" or "metadata"; `inspect` adds "backend" when the
    /// chosen backend cannot load or run a model that passes the contract.
    pub kind: &'static str,
    /// The input/output name or the metadata key.
    pub name: String,
    pub expected: String,
    pub got: String,
}

impl std::fmt::Display for ContractProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} `{}`: expected {}, got {}",
            self.kind, self.name, self.expected, self.got
        )
    }
}

impl ModelContract {
    /// Checks a parsed model; `sha256` is the hex digest of its file.
    pub fn check(
        summary: &OnnxSummary,
        sha256: &str,
    ) -> Result<ModelContract, Vec<ContractProblem>> {
        let mut c = Checker {
            summary,
            problems: Vec::new(),
        };
        let m = c.metadata();
        let (batch, dims) = c.io_shapes(&m);
        let frame_stage = c.frame_stage();
        let built = (|| {
            let (video_dim, imu_dim) = dims?;
            Some(ModelContract {
                frames: m.frames?,
                height: m.height?,
                width: m.width?,
                imu_len: m.imu_len?,
                imu_rate_hz: m.imu_rate_hz?,
                window_seconds: m.window_seconds?,
                dim: m.dim?,
                video_dim,
                imu_dim,
                modalities: MODALITIES.iter().map(|m| m.to_string()).collect(),
                video_mean: m.video_mean?,
                video_std: m.video_std?,
                name: m.name.clone(),
                sha256: sha256.to_string(),
                fixed_batch: batch,
                flops_per_window: m.flops,
                frame_stage,
            })
        })();
        match built {
            Some(contract) if c.problems.is_empty() => Ok(contract),
            _ => Err(c.problems),
        }
    }
}
