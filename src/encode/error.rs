//! Errors of the encoder: each names the model file, backend or window
//! involved, the action and the numbers.

use super::contract::ContractProblem;
use super::preprocess::PreprocessError;
use crate::embedding::EmbeddingError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("cannot {action} {}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{} is not a readable ONNX model: {reason}", path.display())]
    ModelFormat { path: PathBuf, reason: String },
    #[error("{} breaks the encoder contract ({} problem(s)):\n  {}", path.display(), problems.len(), list(problems))]
    Contract {
        path: PathBuf,
        problems: Vec<ContractProblem>,
    },
    #[error("invalid encoder options: {0}")]
    Options(String),
    #[error("the {backend} backend is not compiled into this binary (rebuild with `--features {feature}`)")]
    NotCompiled {
        backend: &'static str,
        feature: &'static str,
    },
    #[error("{backend}: cannot {action}: {message}")]
    Backend {
        backend: &'static str,
        action: String,
        message: String,
    },
    #[error("ONNX Runtime library: {0}")]
    OrtLibrary(String),
    #[error(
        "no execution provider could run the model; tried {}",
        attempts_text(attempts)
    )]
    NoExecutionProvider { attempts: Vec<(String, String)> },
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
    #[error("{backend}: output `{output}` has {got} values for {windows} window(s), expected {expected}")]
    OutputSize {
        backend: &'static str,
        output: &'static str,
        windows: usize,
        expected: usize,
        got: usize,
    },
    #[error("frame {frame}: {got} feature values, the model's frame stage makes {expected}")]
    FrameFeatures {
        frame: usize,
        expected: usize,
        got: usize,
    },
    #[error("the frame stage gave {got} feature rows for {frames} frames")]
    FrameRows { frames: usize, got: usize },
    #[error("window {window}: output `{output}` is not a valid embedding: {source}")]
    Output {
        window: usize,
        output: &'static str,
        source: EmbeddingError,
    },
}

fn list(problems: &[ContractProblem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n  ")
}

fn attempts_text(attempts: &[(String, String)]) -> String {
    attempts
        .iter()
        .map(|(ep, e)| format!("{ep} ({e})"))
        .collect::<Vec<_>>()
        .join(", ")
}
