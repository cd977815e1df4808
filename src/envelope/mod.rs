//! The one framing every mmcl file format shares, the bounded little-endian codec their bodies
//! are written with (`Writer`, `Reader`), and the one atomic file write (`write_atomic`).
//!
//! A frame, all integers little-endian:
//! ```text
//! magic (8 bytes) | format version u32 | body length u64 | body | sha256 of everything before (32)
//! ```
//! `seal` writes one; `open` checks, in this order, the magic, the length against the bytes
//! present, the checksum and only then the version, so that a damaged file is always reported as
//! damaged (a reader may skip it) and a version error always means an intact file this build does
//! not know (a reader must not skip it: it may be newer than anything else on disk). A format
//! whose first versions predate the envelope lists them in `Format::legacy`; its own legacy
//! reader handles those, built from `version`, `split_frame`, the checksum checks and `Reader`.

mod atomic;
mod codec;

pub use atomic::{sync_directory_of, temp_owner, write_atomic, WriteError};
pub use codec::{Reader, Writer};

use sha2::{Digest, Sha256};

/// One file format framed by the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// What errors call it ("learner state", "snapshot file", ...).
    pub name: &'static str,
    pub magic: [u8; 8],
    /// Versions written before the envelope existed, read by the format's own legacy reader;
    /// named in version errors so that they list everything the build reads.
    pub legacy: &'static [u32],
}

/// Bytes before the body: magic, version, body length.
pub const HEADER_LEN: usize = 8 + 4 + 8;
/// The trailing sha256.
pub const CHECKSUM_LEN: usize = 32;

/// Why bytes are not a valid frame (or body) of a format. Every variant names the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("{format}: {size} bytes, shorter than the {needed} bytes of a frame (truncated?)")]
    Short {
        format: &'static str,
        size: usize,
        needed: usize,
    },
    #[error("{format}: magic {found:?}, expected {expected:?} (not this kind of file)")]
    Magic {
        format: &'static str,
        found: String,
        expected: String,
    },
    #[error("{format}: body length {declared} makes a frame of {needed} bytes, {size} present (truncated or extended)")]
    Length {
        format: &'static str,
        declared: u64,
        needed: u128,
        size: usize,
    },
    #[error("{format}: checksum mismatch over {covered} bytes (stored {stored}, computed {computed}): altered or torn")]
    Checksum {
        format: &'static str,
        covered: usize,
        stored: String,
        computed: String,
    },
    #[error(
        "{format}: format version {found}; this build reads {}",
        versions(supported, legacy)
    )]
    Version {
        format: &'static str,
        found: u32,
        supported: Vec<u32>,
        legacy: Vec<u32>,
    },
    #[error("{format}: at body byte {offset}: {message}")]
    Field {
        format: &'static str,
        offset: usize,
        message: String,
    },
}

fn versions(supported: &[u32], legacy: &[u32]) -> String {
    let list = |v: &[u32]| {
        v.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match legacy {
        [] => format!("version {}", list(supported)),
        _ => format!(
            "version {} (and {} in its pre-envelope layout)",
            list(supported),
            list(legacy)
        ),
    }
}

/// Frames `body` as `version` of `format`.
pub fn seal(format: &Format, version: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CHECKSUM_LEN);
    out.extend_from_slice(&format.magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// A checked frame: its version and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'a> {
    pub version: u32,
    pub body: &'a [u8],
}

/// Checks that `bytes` are exactly one frame of `format` in one of `supported` versions.
pub fn open<'a>(
    format: &Format,
    supported: &[u32],
    bytes: &'a [u8],
) -> Result<Opened<'a>, EnvelopeError> {
    checked(format, supported, whole_frame(format, bytes)?)
}

/// Checks the frame at the start of `bytes` (more frames may follow, as in a journal); returns
/// it and the bytes it spans.
pub fn open_prefix<'a>(
    format: &Format,
    supported: &[u32],
    bytes: &'a [u8],
) -> Result<(Opened<'a>, usize), EnvelopeError> {
    let frame = split_frame(format, bytes)?;
    let used = frame.covered.len() + CHECKSUM_LEN;
    Ok((checked(format, supported, frame)?, used))
}

fn checked<'a>(
    format: &Format,
    supported: &[u32],
    frame: Frame<'a>,
) -> Result<Opened<'a>, EnvelopeError> {
    verify_checksum(format, frame.covered, frame.checksum)?;
    if !supported.contains(&frame.version) {
        return Err(EnvelopeError::Version {
            format: format.name,
            found: frame.version,
            supported: supported.to_vec(),
            legacy: format.legacy.to_vec(),
        });
    }
    Ok(Opened {
        version: frame.version,
        body: frame.body,
    })
}

/// The parts of the frame at the start of some bytes, its length checked, nothing verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub version: u32,
    /// Header and body: what the envelope's checksum covers.
    pub covered: &'a [u8],
    pub body: &'a [u8],
    pub checksum: &'a [u8],
}

/// Splits the frame at the start of `bytes` after checking the magic and that the declared
/// body length fits the bytes present; checks neither checksum nor version (a legacy layout
/// with this framing checksums differently).
pub fn split_frame<'a>(format: &Format, bytes: &'a [u8]) -> Result<Frame<'a>, EnvelopeError> {
    let version = self::version(format, bytes)?;
    let mut r = Reader::new(format.name, bytes.get(12..HEADER_LEN).unwrap_or_default());
    let declared = r.u64("body length")?;
    let frame = u128::from(declared) + (HEADER_LEN + CHECKSUM_LEN) as u128;
    let used = usize::try_from(frame)
        .ok()
        .filter(|n| *n <= bytes.len())
        .ok_or_else(|| length_error(format, declared, bytes.len()))?;
    let (covered, rest) = bytes.split_at(used - CHECKSUM_LEN);
    Ok(Frame {
        version,
        covered,
        body: covered.get(HEADER_LEN..).unwrap_or_default(),
        checksum: rest.get(..CHECKSUM_LEN).unwrap_or_default(),
    })
}

/// `split_frame` for bytes that must hold exactly one frame.
pub fn whole_frame<'a>(format: &Format, bytes: &'a [u8]) -> Result<Frame<'a>, EnvelopeError> {
    let frame = split_frame(format, bytes)?;
    if frame.covered.len() + CHECKSUM_LEN != bytes.len() {
        return Err(length_error(format, frame.body.len() as u64, bytes.len()));
    }
    Ok(frame)
}

fn length_error(format: &Format, declared: u64, size: usize) -> EnvelopeError {
    EnvelopeError::Length {
        format: format.name,
        declared,
        needed: u128::from(declared) + (HEADER_LEN + CHECKSUM_LEN) as u128,
        size,
    }
}

/// Checks the magic and reads the version, nothing else: how a format picks its reader
/// (the envelope or a legacy layout) before checking anything the layout decides.
pub fn version(format: &Format, bytes: &[u8]) -> Result<u32, EnvelopeError> {
    let needed = HEADER_LEN + CHECKSUM_LEN;
    let (magic, rest) = bytes.split_at(bytes.len().min(8));
    // A short file that starts like the magic is a truncated one, not another kind of file.
    if !format.magic.starts_with(magic) {
        return Err(EnvelopeError::Magic {
            format: format.name,
            found: String::from_utf8_lossy(magic).into_owned(),
            expected: String::from_utf8_lossy(&format.magic).into_owned(),
        });
    }
    if bytes.len() < needed {
        return Err(EnvelopeError::Short {
            format: format.name,
            size: bytes.len(),
            needed,
        });
    }
    Reader::new(format.name, rest).u32("format version")
}

/// Checks that `stored` is the sha256 of `covered`.
pub fn verify_checksum(
    format: &Format,
    covered: &[u8],
    stored: &[u8],
) -> Result<(), EnvelopeError> {
    let computed = Sha256::digest(covered);
    if computed.as_slice() == stored {
        return Ok(());
    }
    Err(EnvelopeError::Checksum {
        format: format.name,
        covered: covered.len(),
        stored: short_hex(stored),
        computed: short_hex(&computed),
    })
}

/// The first 8 bytes in hex: enough to tell two digests apart in a message.
fn short_hex(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Splits off the trailing sha256 and checks it covers every byte before it (the legacy
/// layouts that already ended this way); returns the covered bytes.
pub fn verify_trailing_checksum<'a>(
    format: &Format,
    bytes: &'a [u8],
) -> Result<&'a [u8], EnvelopeError> {
    let split = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .ok_or(EnvelopeError::Short {
            format: format.name,
            size: bytes.len(),
            needed: CHECKSUM_LEN,
        })?;
    let (covered, stored) = bytes.split_at(split);
    verify_checksum(format, covered, stored)?;
    Ok(covered)
}

#[cfg(test)]
mod tests;
