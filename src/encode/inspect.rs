//! `mmcl model inspect`: everything a user needs to know about a model file
//! before swapping it in: its inputs, outputs, metadata, sha256, every
//! contract problem, and whether the chosen backend actually runs it (one
//! all-zero batch is pushed through and its outputs checked) and which paths
//! it supports: whole windows always, per-frame caching (`frame_cache`) when
//! the model declares a frame stage and the backend can cut it.

use super::contract::ContractProblem;
use super::onnx_proto::{dtype_name, Dim, ValueInfo};
use super::{
    check_contract, split_outputs, Batch, EncodeError, EncoderOptions, ModelContract, ModelFile,
};
use std::collections::BTreeMap;
use std::path::Path;

/// One input or output as declared in the file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TensorInfo {
    pub name: String,
    /// Numbers for fixed dimensions, strings for symbols ("?" when unnamed);
    /// `null` when the file declares no shape.
    pub shape: Option<Vec<serde_json::Value>>,
    pub dtype: &'static str,
}

/// One execution provider tried by the backend.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpAttempt {
    pub execution_provider: String,
    pub error: Option<String>,
}

/// The report; field names are stable (DESIGN.md, machine-readable output).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Inspection {
    pub path: String,
    pub sha256: String,
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    pub embedding_dim: Option<usize>,
    pub modalities: Vec<String>,
    pub backend: String,
    /// The provider that ran the check batch; `null` when the model was not run.
    pub execution_provider: Option<String>,
    pub threads: Option<usize>,
    /// Whether the backend runs the model's frame stage, so frames can be
    /// encoded once and cached (false: whole windows only, or not run).
    pub frame_cache: bool,
    pub ep_attempts: Vec<EpAttempt>,
    pub problems: Vec<ContractProblem>,
    pub contract: Option<ModelContract>,
    pub metadata: BTreeMap<String, String>,
    pub ir_version: i64,
    pub producer: String,
    pub opsets: Vec<(String, i64)>,
}

fn tensor_info(v: &ValueInfo) -> TensorInfo {
    let dim = |d: &Dim| match d {
        Dim::Fixed(n) => serde_json::Value::from(*n),
        Dim::Symbolic(s) => serde_json::Value::from(s.as_str()),
        Dim::Unknown => serde_json::Value::from("?"),
    };
    TensorInfo {
        name: v.name.clone(),
        shape: v.shape.as_ref().map(|s| s.iter().map(dim).collect()),
        dtype: dtype_name(v.elem_type),
    }
}

/// Reads and checks `path`; when the contract holds, opens it with `options`
/// and runs one batch. An unreadable file is an error; everything wrong with
/// a readable one is a problem in the report.
pub fn inspect(path: &Path, options: &EncoderOptions) -> Result<Inspection, EncodeError> {
    let model = ModelFile::read(path)?;
    let s = &model.summary;
    let mut report = Inspection {
        path: path.display().to_string(),
        sha256: model.sha256.clone(),
        inputs: s.inputs.iter().map(tensor_info).collect(),
        outputs: s.outputs.iter().map(tensor_info).collect(),
        embedding_dim: None,
        modalities: s
            .metadata
            .get("mmcl.modalities")
            .map(|m| m.split(',').map(|x| x.trim().to_string()).collect())
            .unwrap_or_default(),
        backend: options.backend.name().to_string(),
        execution_provider: None,
        threads: None,
        frame_cache: false,
        ep_attempts: Vec::new(),
        problems: Vec::new(),
        contract: None,
        metadata: s.metadata.clone(),
        ir_version: s.ir_version,
        producer: s.producer.clone(),
        opsets: s.opsets.clone(),
    };
    match check_contract(&model) {
        Ok(contract) => {
            report.embedding_dim = Some(contract.dim);
            report.contract = Some(contract.clone());
            try_backend(&model, contract, options, &mut report);
        }
        Err(EncodeError::Contract { problems, .. }) => report.problems = problems,
        Err(other) => return Err(other),
    }
    Ok(report)
}

fn backend_problem(report: &mut Inspection, expected: &str, got: String) {
    let name = report.backend.clone();
    report.problems.push(ContractProblem {
        kind: "backend",
        name,
        expected: expected.into(),
        got,
    });
}

/// Opens the model with the chosen backend and runs one all-zero batch of one window.
fn try_backend(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
    report: &mut Inspection,
) {
    let opened = match options.backend {
        super::Backend::Tract => super::tract::open(model, contract, options),
        super::Backend::Ort => super::ort::open(model, contract, options),
    };
    let mut encoder = match opened {
        Ok(encoder) => encoder,
        Err(EncodeError::NoExecutionProvider { attempts }) => {
            report.ep_attempts = attempts
                .iter()
                .map(|(ep, e)| EpAttempt {
                    execution_provider: ep.clone(),
                    error: Some(e.clone()),
                })
                .collect();
            return backend_problem(
                report,
                "an execution provider that runs the model",
                "none of them could".into(),
            );
        }
        Err(e) => return backend_problem(report, "the model to load", e.to_string()),
    };
    let info = encoder.backend();
    report.execution_provider = Some(info.execution_provider.clone());
    report.threads = Some(info.threads);
    report.ep_attempts = (info.ep_attempts.iter())
        .map(|(ep, r)| EpAttempt {
            execution_provider: ep.clone(),
            error: r.as_ref().err().cloned(),
        })
        .collect();
    report.frame_cache = encoder.frame_stage().is_some();
    let c = encoder.contract().clone();
    let rows = c.fixed_batch.unwrap_or(1);
    let batch = Batch {
        n: rows,
        video: vec![0.0; rows * c.frames * 3 * c.height * c.width],
        imu: vec![0.0; rows * 6 * c.imu_len],
        present: vec![1.0; rows * 2],
    };
    let checked = encoder
        .run(&batch)
        .and_then(|out| split_outputs(&batch.present, out, &c, 0, info.name));
    if let Err(e) = checked {
        backend_problem(
            report,
            "one all-zero window to run and give finite embeddings",
            e.to_string(),
        );
    }
}

impl Inspection {
    /// The human-readable summary printed without `--json`.
    pub fn summary(&self) -> String {
        let mut out = format!("model   {}\nsha256  {}\n", self.path, self.sha256);
        if let Some(c) = &self.contract {
            out += &format!(
                "name    {}\nvideo   {} frames of {}x{} (WxH), mean {:?} std {:?}\nimu     {} points at {} Hz ({} s window)\nembedding {} (video {}, imu {})\n",
                c.name, c.frames, c.width, c.height, c.video_mean, c.video_std, c.imu_len, c.imu_rate_hz, c.window_seconds, c.dim, c.video_dim, c.imu_dim
            );
        }
        for (kind, list) in [("input ", &self.inputs), ("output", &self.outputs)] {
            for t in list {
                let shape = t.shape.as_ref().map_or("no shape".to_string(), |s| {
                    serde_json::Value::from(s.clone()).to_string()
                });
                out += &format!("{kind}  {} {} {}\n", t.name, t.dtype, shape);
            }
        }
        match (&self.execution_provider, self.threads) {
            (Some(ep), Some(threads)) => {
                let paths = if self.frame_cache {
                    "whole windows and cached frames"
                } else {
                    "whole windows"
                };
                out += &format!(
                    "backend {} on {ep}, {threads} thread(s); runs {paths}\n",
                    self.backend
                )
            }
            _ => out += &format!("backend {}: not run\n", self.backend),
        }
        for a in self.ep_attempts.iter().filter(|a| a.error.is_some()) {
            out += &format!(
                "  {} failed: {}\n",
                a.execution_provider,
                a.error.as_deref().unwrap_or("")
            );
        }
        match self.problems.len() {
            0 => out += "problems: none\n",
            n => {
                out += &format!("problems: {n}\n");
                for p in &self.problems {
                    out += &format!("  {p}\n");
                }
            }
        }
        out
    }
}
