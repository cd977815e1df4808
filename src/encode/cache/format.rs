//! The `.embcache` file format. Version 2 (written) is a frame of the envelope
//! (`crate::envelope`), magic `MMCLEMBC`; version 1 (read only) predates it. Both carry the
//! same fields, little-endian throughout:
//!
//! ```text
//! version 2: "MMCLEMBC" | version u32 = 2 | body length u64 | FIELDS | sha256 of all before
//! version 1: "MMCLEMBC" | version u32 = 1 |                   FIELDS | sha256 of all before
//! FIELDS:
//!   encoder    32 bytes  sha256 of the encoder file that produced the embeddings
//!   dim        u32       embedding dimension D
//!   count      u64       number of records
//!   record x count:
//!     clip     u16 length + UTF-8      clip id (the list path's `<k_name>/<clip>`)
//!     label    u32
//!     split    u8 length + UTF-8       "train" | "val" | "test" | ...
//!     variant  u8                      0 all, 1 video absent, 2 IMU absent
//!     values   D x f32
//! ```
//! The checksum covers the whole file, so a truncated or altered file is always detected
//! before any field is trusted. `tests/data/encoder/cache_v{1,2}.embcache` pin both versions.

use super::{CacheEntry, Variant};
use crate::embedding::Embedding;
use crate::envelope::{self, EnvelopeError, Format, Reader, Writer};

pub const FORMAT: Format = Format {
    name: "embedding cache",
    magic: *b"MMCLEMBC",
    legacy: &[1],
};
/// The version this build writes.
pub const VERSION: u32 = 2;

/// The fields before the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub encoder: [u8; 32],
    pub dim: usize,
    pub count: u64,
}

pub fn encode(encoder: &[u8; 32], dim: usize, entries: &[&CacheEntry]) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.reserve(entries.len() * (dim * 4 + 32) + 44);
    w.raw(encoder);
    w.u32(dim as u32);
    w.usize(entries.len());
    for e in entries {
        w.u16(e.clip.len() as u16);
        w.raw(e.clip.as_bytes());
        w.u32(e.label);
        w.u8(e.split.len() as u8);
        w.raw(e.split.as_bytes());
        w.u8(e.variant.code());
        w.f32_values(e.embedding.as_slice());
    }
    envelope::seal(&FORMAT, VERSION, &w.buf)
}

/// Checks the whole file (frame and checksum) and reads its header; the reader is left at
/// the first record.
pub fn open(bytes: &[u8]) -> Result<(Header, Reader<'_>), EnvelopeError> {
    let fields = match envelope::version(&FORMAT, bytes)? {
        // Version 1: magic and version, then the fields; the checksum covers all before it.
        1 => envelope::verify_trailing_checksum(&FORMAT, bytes)?
            .get(12..)
            .unwrap_or_default(),
        _ => envelope::open(&FORMAT, &[VERSION], bytes)?.body,
    };
    let mut r = Reader::new(FORMAT.name, fields);
    let mut encoder = [0u8; 32];
    encoder.copy_from_slice(r.raw(32, "encoder")?);
    let header = Header {
        encoder,
        dim: r.u32("dimension")? as usize,
        count: r.u64("record count")?,
    };
    Ok((header, r))
}

/// Decodes the records that follow the header.
pub fn records(r: &mut Reader<'_>, header: &Header) -> Result<Vec<CacheEntry>, EnvelopeError> {
    let mut entries = Vec::new();
    for i in 0..header.count {
        entries.push(record(r, header.dim, i)?);
    }
    r.finish()?;
    Ok(entries)
}

fn record(r: &mut Reader<'_>, dim: usize, i: u64) -> Result<CacheEntry, EnvelopeError> {
    let clip_len = r.u16("clip id length")? as usize;
    let clip = r.utf8(clip_len, &format!("record {i} clip id"))?;
    let label = r.u32("label")?;
    let split_len = r.u8("split length")? as usize;
    let split = r.utf8(split_len, &format!("record {i} split"))?;
    let code = r.u8("variant")?;
    let variant = Variant::from_code(code)
        .ok_or_else(|| r.error(format!("record {i}: unknown variant code {code}")))?;
    let values = r.f32_values(dim, &format!("record {i} values"))?;
    let embedding =
        Embedding::new(values, dim).map_err(|e| r.error(format!("clip {clip}: {e}")))?;
    Ok(CacheEntry {
        clip,
        label,
        split,
        variant,
        embedding,
    })
}
