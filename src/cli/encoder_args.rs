//! Encoder flags shared by the commands that encode (`embed`, `bench cl`, `demo`),
//! and the default encoder embedded in the binary.

use super::CliError;
use crate::encode::{
    self, Backend, EncodeError, Encoder, EncoderOptions, ExecutionProvider, ModelContract,
    ModelFile,
};
use std::path::{Path, PathBuf};

/// The default encoder (models/encoder.onnx), carried inside the binary so a fresh
/// install runs with no model file to place.
const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/encoder.onnx");

#[derive(Debug, Clone, clap::Args)]
pub struct EncoderArgs {
    /// The ONNX encoder (default: the embedded models/encoder.onnx).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// How to run a model: backend, execution providers, library, threads.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendArgs {
    /// Inference backend: tract (pure Rust) or ort (ONNX Runtime).
    #[arg(long, default_value = "tract")]
    pub backend: Backend,
    /// Execution providers for ort, tried in order (e.g. tensorrt,cuda,cpu).
    #[arg(long, value_delimiter = ',', default_value = "cpu")]
    pub ep: Vec<ExecutionProvider>,
    /// ONNX Runtime shared library (default: $ORT_DYLIB_PATH).
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
    /// Intra-op threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl BackendArgs {
    /// Encoder options for these flags, `batch_size` windows per inference call.
    pub fn options(&self, batch_size: usize) -> EncoderOptions {
        EncoderOptions {
            backend: self.backend,
            threads: self.threads,
            execution_providers: self.ep.clone(),
            ort_library: self.ort_library.clone(),
            batch_size,
        }
    }
}

impl EncoderArgs {
    /// Opens the encoder these flags describe; the embedded model is written once
    /// to `scratch` (named by its content hash) when no `--model` is given.
    pub fn open(&self, scratch: &Path) -> Result<Box<dyn Encoder>, CliError> {
        let path = match &self.model {
            Some(p) => p.clone(),
            None => write_default_model(scratch)?,
        };
        encode::open(&path, &self.backend.options(8)).map_err(|e| match e {
            EncodeError::Io { .. }
            | EncodeError::ModelFormat { .. }
            | EncodeError::Contract { .. }
            | EncodeError::Options(_) => CliError::Input(e.into()),
            other => CliError::Runtime(other.into()),
        })
    }
}

/// The checked contract of `model`, or of the embedded default encoder, without
/// loading a backend: what `embed` with the same `--model` will read clips for.
pub fn model_contract(model: Option<&Path>) -> Result<ModelContract, CliError> {
    let contract = match model {
        Some(path) => ModelFile::read(path).and_then(|file| encode::check_contract(&file)),
        None => ModelFile::contract_of(Path::new("models/encoder.onnx (embedded)"), DEFAULT_MODEL),
    };
    contract.map_err(|e| CliError::Input(e.into()))
}

/// Writes the embedded model to `dir/encoder-<sha16>.onnx` unless already there.
fn write_default_model(dir: &Path) -> Result<PathBuf, CliError> {
    let sha = encode::sha256_hex(DEFAULT_MODEL);
    let path = dir.join(format!("encoder-{}.onnx", &sha[..16]));
    if std::fs::read(&path).is_ok_and(|b| b == DEFAULT_MODEL) {
        return Ok(path);
    }
    let io = |action: &str, e: std::io::Error| {
        CliError::Runtime(anyhow::anyhow!("{action} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create the directory of", e))?;
    let tmp = path.with_extension("onnx.tmp");
    std::fs::write(&tmp, DEFAULT_MODEL).map_err(|e| io("write", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io("rename into place", e))?;
    Ok(path)
}
