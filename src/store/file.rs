//! The snapshot file format (version 1) and the atomic write.
//!
//! Layout, little-endian: `MAGIC` (8 bytes) | format version u32 | encoder sha256 as
//! 64 ASCII hex bytes | payload length u64 | payload | sha256 of all preceding bytes (32).

use super::StoreError;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub const MAGIC: &[u8; 8] = b"MMCLSNAP";
pub const FORMAT_VERSION: u32 = 1;
const SHA_HEX: usize = 64;
const HEADER: usize = 8 + 4 + SHA_HEX + 8;
const CHECKSUM: usize = 32;

/// The fields before the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub version: u32,
    pub encoder_sha256: String,
}

/// Encodes one snapshot file. `encoder_sha256` is the encoder file's hex digest.
pub fn encode_snapshot(encoder_sha256: &str, payload: &[u8]) -> Vec<u8> {
    let mut sha = [b'0'; SHA_HEX];
    for (d, s) in sha.iter_mut().zip(encoder_sha256.bytes()) {
        *d = s;
    }
    let mut out = Vec::with_capacity(HEADER + payload.len() + CHECKSUM);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&sha);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// Decodes and verifies one snapshot file; `path` only names it in errors.
pub fn decode_snapshot(path: &Path, bytes: &[u8]) -> Result<(SnapshotHeader, Vec<u8>), StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    if bytes.len() < HEADER + CHECKSUM {
        return Err(corrupt(format!(
            "{} bytes, shorter than the {}-byte header and checksum",
            bytes.len(),
            HEADER + CHECKSUM
        )));
    }
    if &bytes[..8] != MAGIC {
        return Err(corrupt("not an mmcl snapshot (bad magic)".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or([0; 4]));
    if version == 0 || version > FORMAT_VERSION {
        return Err(StoreError::Version {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let len = u64::from_le_bytes(bytes[12 + SHA_HEX..HEADER].try_into().unwrap_or([0; 8]));
    let expected_total = (HEADER as u64)
        .checked_add(len)
        .and_then(|n| n.checked_add(CHECKSUM as u64));
    if expected_total != Some(bytes.len() as u64) {
        return Err(corrupt(format!(
            "payload length {len} does not match the file size {} (torn write?)",
            bytes.len()
        )));
    }
    let body = bytes.len() - CHECKSUM;
    if Sha256::digest(&bytes[..body]).as_slice() != &bytes[body..] {
        return Err(corrupt("checksum mismatch".into()));
    }
    let encoder_sha256 = String::from_utf8_lossy(&bytes[12..12 + SHA_HEX]).into_owned();
    Ok((
        SnapshotHeader {
            version,
            encoder_sha256,
        },
        bytes[HEADER..body].to_vec(),
    ))
}

/// temp file -> fsync -> rename -> fsync dir: a crash leaves the old file or the new one.
pub fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |action: &'static str, p: &Path| {
        let path = p.to_path_buf();
        move |source| StoreError::Io {
            path,
            action,
            source,
        }
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
    f.write_all(bytes).map_err(io("write", &tmp))?;
    f.sync_all().map_err(io("fsync", &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io("rename into place", path))?;
    let d = std::fs::File::open(dir).map_err(io("open directory", dir))?;
    d.sync_all().map_err(io("fsync directory", dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_truncation_is_detected() {
        let sha = "0123456789abcdef".repeat(4);
        let bytes = encode_snapshot(&sha, b"payload bytes");
        let (h, p) = decode_snapshot(Path::new("s"), &bytes).unwrap();
        assert_eq!(
            (h.version, h.encoder_sha256.as_str(), p.as_slice()),
            (1, sha.as_str(), &b"payload bytes"[..])
        );
        for cut in 0..bytes.len() {
            assert!(
                decode_snapshot(Path::new("s"), &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        flipped[HEADER + 2] ^= 1;
        assert!(decode_snapshot(Path::new("s"), &flipped).is_err());
    }
}
