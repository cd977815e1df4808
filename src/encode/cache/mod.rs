//! The embedding cache: embeddings of dataset clips kept on disk so a dataset
//! is encoded once per encoder, not once per experiment.
//!
//! One file per (dataset directory, encoder): `<dir>/<sha256[..16]>.embcache`,
//! keyed inside by (clip id, variant), where the variant says which modality
//! was removed before encoding (modality-dynamic evaluation). The file header
//! carries the full encoder sha256: a file from another encoder is never
//! used, it is replaced (`LoadStatus::Replaced` says why). A corrupt or
//! truncated file is an error naming it, never silently rebuilt, since it
//! means the disk or a writer misbehaved; delete it to re-encode.
//!
//! `insert` changes memory only; `commit` rewrites the whole file with
//! `envelope::write_atomic`, so a crash leaves either the old or the new
//! file, each complete.

mod format;

use crate::embedding::Embedding;
use crate::envelope::{self, EnvelopeError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which modality was removed from a clip's window before encoding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    All,
    VideoAbsent,
    ImuAbsent,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::All, Variant::VideoAbsent, Variant::ImuAbsent];

    fn code(self) -> u8 {
        match self {
            Variant::All => 0,
            Variant::VideoAbsent => 1,
            Variant::ImuAbsent => 2,
        }
    }

    fn from_code(code: u8) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.code() == code)
    }
}

/// One cached embedding of one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    /// The clip id (the list path's `<k_name>/<clip>`), at most 65535 bytes.
    pub clip: String,
    pub label: u32,
    /// The split the clip belongs to, at most 255 bytes.
    pub split: String,
    pub variant: Variant,
    pub embedding: Embedding,
}

/// What `load` found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadStatus {
    /// No cache file yet.
    New,
    /// A cache of this encoder with this many entries.
    Loaded { entries: usize },
    /// A file of another encoder; its entries are dropped and the file is
    /// replaced at the next commit.
    Replaced { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot {action} embedding cache {}: {error}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    /// The write error names the path (the cache file or its temp file).
    #[error("embedding cache: {error}")]
    Write { error: envelope::WriteError },
    #[error("{} is corrupt: {error}; delete it to re-encode", path.display())]
    Corrupt { path: PathBuf, error: EnvelopeError },
    #[error("{} is not an embedding cache: {error}", path.display())]
    NotACache { path: PathBuf, error: EnvelopeError },
    #[error("{}: {error}", path.display())]
    Version { path: PathBuf, error: EnvelopeError },
    #[error("embedding cache {} holds {got}-d embeddings for this encoder, expected {expected}", path.display())]
    Dim {
        path: PathBuf,
        expected: usize,
        got: usize,
    },
    #[error("encoder id must be a 64-digit hex sha256, got \"{0}\"")]
    EncoderId(String),
    #[error("cache entry for clip \"{clip}\": {reason}")]
    Entry { clip: String, reason: String },
}

impl CacheError {
    /// The error of a file whose bytes the format refused.
    fn format(path: &Path, error: EnvelopeError) -> CacheError {
        let path = path.to_path_buf();
        match error {
            EnvelopeError::Magic { .. } => CacheError::NotACache { path, error },
            EnvelopeError::Version { .. } => CacheError::Version { path, error },
            _ => CacheError::Corrupt { path, error },
        }
    }
}

/// The embeddings of one dataset under one encoder.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    path: PathBuf,
    encoder: [u8; 32],
    dim: usize,
    entries: BTreeMap<(String, Variant), CacheEntry>,
}

fn parse_sha256(hex: &str) -> Result<[u8; 32], CacheError> {
    let bad = || CacheError::EncoderId(hex.to_string());
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl EmbeddingCache {
    /// The cache file of an encoder in `dir`.
    pub fn path_in(dir: &Path, encoder_sha256: &str) -> PathBuf {
        let prefix: String = encoder_sha256.chars().take(16).collect();
        dir.join(format!("{prefix}.embcache"))
    }

    /// Opens the cache of encoder `encoder_sha256` (hex) in `dir`, producing
    /// `dim`-d embeddings. A missing file gives an empty cache.
    pub fn load(
        dir: &Path,
        encoder_sha256: &str,
        dim: usize,
    ) -> Result<(EmbeddingCache, LoadStatus), CacheError> {
        let encoder = parse_sha256(encoder_sha256)?;
        let path = Self::path_in(dir, encoder_sha256);
        let mut cache = EmbeddingCache {
            path: path.clone(),
            encoder,
            dim,
            entries: BTreeMap::new(),
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((cache, LoadStatus::New))
            }
            Err(error) => {
                return Err(CacheError::Io {
                    path,
                    action: "read",
                    error,
                })
            }
        };
        let (header, mut r) = format::open(&bytes).map_err(|e| CacheError::format(&path, e))?;
        if header.encoder != encoder {
            let reason = format!(
                "cache built by encoder {}, current encoder {}: re-encoding",
                hex(&header.encoder),
                encoder_sha256
            );
            return Ok((cache, LoadStatus::Replaced { reason }));
        }
        if header.dim != dim {
            return Err(CacheError::Dim {
                path,
                expected: dim,
                got: header.dim,
            });
        }
        let records = format::records(&mut r, &header).map_err(|e| CacheError::format(&path, e))?;
        for entry in records {
            cache
                .entries
                .insert((entry.clip.clone(), entry.variant), entry);
        }
        let entries = cache.entries.len();
        Ok((cache, LoadStatus::Loaded { entries }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, clip: &str, variant: Variant) -> Option<&CacheEntry> {
        self.entries.get(&(clip.to_string(), variant))
    }

    /// All entries, ordered by (clip, variant).
    pub fn entries(&self) -> impl Iterator<Item = &CacheEntry> {
        self.entries.values()
    }

    /// Adds or replaces an entry in memory; `commit` persists it.
    pub fn insert(&mut self, entry: CacheEntry) -> Result<(), CacheError> {
        let refuse = |reason: String| {
            Err(CacheError::Entry {
                clip: entry.clip.clone(),
                reason,
            })
        };
        if entry.embedding.dim() != self.dim {
            return refuse(format!(
                "embedding has dimension {}, the cache holds {}",
                entry.embedding.dim(),
                self.dim
            ));
        }
        if entry.clip.len() > usize::from(u16::MAX) || entry.split.len() > usize::from(u8::MAX) {
            return refuse(format!(
                "clip id ({} bytes) or split ({} bytes) too long",
                entry.clip.len(),
                entry.split.len()
            ));
        }
        self.entries
            .insert((entry.clip.clone(), entry.variant), entry);
        Ok(())
    }

    /// Writes every entry to the cache file atomically (creating its directory).
    pub fn commit(&self) -> Result<(), CacheError> {
        let entries: Vec<&CacheEntry> = self.entries.values().collect();
        let bytes = format::encode(&self.encoder, self.dim, &entries);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|error| CacheError::Io {
            path: self.path.clone(),
            action: "create the directory of",
            error,
        })?;
        envelope::write_atomic(&self.path, &bytes).map_err(|error| CacheError::Write { error })
    }
}
