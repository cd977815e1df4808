//! A model file read once: its bytes (handed to the backend), its sha256 (the
//! encoder's identity in caches and snapshots) and its parsed summary. The file
//! is read through `fsread` (a regular file of at most `fsread::MODEL`), so
//! `mmcl model inspect /dev/zero` is refused at once instead of reading forever.

use super::onnx_proto::{parse_model, OnnxSummary};
use super::EncodeError;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// An ONNX file in memory, parsed enough to check the contract.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub path: PathBuf,
    /// Borrowed for the encoder built into the binary (its bytes stay in the
    /// executable's mapping instead of a second, heap copy of ~9 MB), owned for a file.
    pub bytes: Cow<'static, [u8]>,
    /// Lowercase hex sha256 of `bytes`.
    pub sha256: String,
    pub summary: OnnxSummary,
}

impl ModelFile {
    /// Reads and parses `path`; the bytes, digest and summary all come from one read.
    pub fn read(path: &Path) -> Result<ModelFile, EncodeError> {
        let bytes =
            crate::fsread::read(path, crate::fsread::MODEL).map_err(|source| EncodeError::Io {
                path: path.to_path_buf(),
                action: "read the model",
                source,
            })?;
        ModelFile::from_bytes(path.to_path_buf(), bytes)
    }

    /// Parses a model already in memory (the encoder embedded in the binary);
    /// `path` only names it in errors and reports.
    pub fn from_bytes(
        path: PathBuf,
        bytes: impl Into<Cow<'static, [u8]>>,
    ) -> Result<ModelFile, EncodeError> {
        let bytes = bytes.into();
        let summary = parse_model(&bytes).map_err(|e| EncodeError::ModelFormat {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(ModelFile {
            path,
            sha256: sha256_hex(&bytes),
            bytes,
            summary,
        })
    }
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
