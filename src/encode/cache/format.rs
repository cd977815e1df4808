//! The `.embcache` file format, version 1 (little-endian throughout):
//!
//! ```text
//! magic      8 bytes   "MMCLEMBC"
//! version    u32       1
//! encoder    32 bytes  sha256 of the encoder file that produced the embeddings
//! dim        u32       embedding dimension D
//! count      u64       number of records
//! record x count:
//!   clip     u16 length + UTF-8      clip id (the list path's `<k_name>/<clip>`)
//!   label    u32
//!   split    u8 length + UTF-8       "train" | "val" | "test" | ...
//!   variant  u8                      0 all, 1 video absent, 2 IMU absent
//!   values   D x f32
//! checksum   32 bytes  sha256 of every byte before it
//! ```
//! The checksum covers the whole file, so a truncated or altered file is
//! always detected; the header is read before it so that a file of another
//! encoder is recognised (and replaced) even when it is also damaged.
//! Version 1 is pinned by `tests/data/encoder/cache_v1.embcache`.

use super::{CacheEntry, Variant};
use crate::embedding::Embedding;
use sha2::{Digest, Sha256};

pub const MAGIC: &[u8; 8] = b"MMCLEMBC";
pub const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 32 + 4 + 8;
const CHECKSUM_LEN: usize = 32;

/// The header fields, read before anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub encoder: [u8; 32],
    pub dim: usize,
    pub count: u64,
}

/// Why bytes are not a version-1 cache; the caller adds the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    NotACache,
    Version(u32),
    Corrupt(String),
}

pub fn encode(encoder: &[u8; 32], dim: usize, entries: &[&CacheEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + entries.len() * (dim * 4 + 32) + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(encoder);
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for e in entries {
        out.extend_from_slice(&(e.clip.len() as u16).to_le_bytes());
        out.extend_from_slice(e.clip.as_bytes());
        out.extend_from_slice(&e.label.to_le_bytes());
        out.push(e.split.len() as u8);
        out.extend_from_slice(e.split.as_bytes());
        out.push(e.variant.code());
        for v in e.embedding.as_slice() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let checksum = Sha256::digest(&out);
    out.extend_from_slice(&checksum);
    out
}

/// A cursor that turns running out of bytes into `Corrupt`.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| {
            FormatError::Corrupt(format!(
                "truncated: needs {n} more bytes at offset {}",
                self.pos
            ))
        })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn string(&mut self, len: usize, what: &str) -> Result<String, FormatError> {
        let at = self.pos;
        String::from_utf8(self.take(len)?.to_vec())
            .map_err(|_| FormatError::Corrupt(format!("{what} at offset {at} is not UTF-8")))
    }
}

pub fn header(bytes: &[u8]) -> Result<Header, FormatError> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(FormatError::NotACache);
    }
    let mut r = Reader { bytes, pos: 8 };
    let version = u32::from_le_bytes(r.array()?);
    if version != VERSION {
        return Err(FormatError::Version(version));
    }
    let encoder = r.array()?;
    let dim = u32::from_le_bytes(r.array()?) as usize;
    let count = u64::from_le_bytes(r.array()?);
    Ok(Header {
        version,
        encoder,
        dim,
        count,
    })
}

/// Decodes the records of a file whose header was already read.
pub fn records(bytes: &[u8], header: &Header) -> Result<Vec<CacheEntry>, FormatError> {
    let body_len = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .filter(|n| *n >= HEADER_LEN);
    let body_len = body_len
        .ok_or_else(|| FormatError::Corrupt(format!("truncated: {} bytes", bytes.len())))?;
    if Sha256::digest(&bytes[..body_len]).as_slice() != &bytes[body_len..] {
        return Err(FormatError::Corrupt(
            "checksum mismatch (truncated or altered)".into(),
        ));
    }
    let mut r = Reader {
        bytes: &bytes[..body_len],
        pos: HEADER_LEN,
    };
    let mut entries = Vec::new();
    for i in 0..header.count {
        entries.push(record(&mut r, header.dim).map_err(|e| match e {
            FormatError::Corrupt(m) => FormatError::Corrupt(format!("record {i}: {m}")),
            other => other,
        })?);
    }
    if r.pos != body_len {
        return Err(FormatError::Corrupt(format!(
            "{} bytes after the last record",
            body_len - r.pos
        )));
    }
    Ok(entries)
}

fn record(r: &mut Reader<'_>, dim: usize) -> Result<CacheEntry, FormatError> {
    let clip_len = u16::from_le_bytes(r.array()?) as usize;
    let clip = r.string(clip_len, "clip id")?;
    let label = u32::from_le_bytes(r.array()?);
    let split_len = r.array::<1>()?[0] as usize;
    let split = r.string(split_len, "split")?;
    let code = r.array::<1>()?[0];
    let variant = Variant::from_code(code)
        .ok_or_else(|| FormatError::Corrupt(format!("unknown variant code {code}")))?;
    let raw = r.take(
        dim.checked_mul(4)
            .ok_or_else(|| FormatError::Corrupt("dimension overflows".into()))?,
    )?;
    let values = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let embedding = Embedding::new(values, dim)
        .map_err(|e| FormatError::Corrupt(format!("clip {clip}: {e}")))?;
    Ok(CacheEntry {
        clip,
        label,
        split,
        variant,
        embedding,
    })
}
