//! The bundle format: one snapshot as a device uploads it to a host, with what the host
//! needs to file and evaluate it without the device: the device id, the snapshot's
//! sequence number on the device, when the bundle was made, the encoder sha256 and the
//! snapshot's sections (the learner state, the class book with each class's enrollment
//! history, the daemon's counters).
//!
//! Version 1 is a frame of the envelope (`crate::envelope`), magic `MMCLBNDL`:
//! ```text
//! body: device id str | encoder sha256 str (64 hex digits) | snapshot seq u64 |
//!       journal seq u64 | created_at_ms u64 | section count u64 | (name str | bytes) x count
//! ```
//! A bundle's content hash is the sha256 of its bytes, in hex: the host stores a bundle
//! once per hash, so an upload repeated after a lost acknowledgement changes nothing.
//! `tests/data/uplink/` pins version 1.

use crate::envelope::{self, EnvelopeError, Format, Reader, Writer};
use crate::store::{Sections, Snapshot};
use sha2::{Digest, Sha256};

pub const FORMAT: Format = Format {
    name: "snapshot bundle",
    magic: *b"MMCLBNDL",
    legacy: &[],
};
/// The bundle version this build writes.
pub const FORMAT_VERSION: u32 = 1;
/// More sections than this is damage (bounds what a read allocates).
const MAX_SECTIONS: usize = 64;
/// The longest device id: it names directories and database rows.
pub const MAX_DEVICE_ID: usize = 64;

/// One snapshot and its metadata, as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Checked by `check_device_id`.
    pub device_id: String,
    /// The snapshot's sequence number in the device's state directory: the host orders a
    /// device's history by it.
    pub snapshot_seq: u64,
    /// Wall-clock time the bundle was made, Unix milliseconds.
    pub created_at_ms: u64,
    pub snapshot: Snapshot,
}

/// Why a device id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device id {id:?}: must be 1 to {MAX_DEVICE_ID} characters of letters, digits, '-', '_' or '.', not starting with '.'")]
pub struct DeviceIdError {
    pub id: String,
}

/// Device ids name files and URL path segments: a short, plain alphabet.
pub fn check_device_id(id: &str) -> Result<(), DeviceIdError> {
    let ok = (1..=MAX_DEVICE_ID).contains(&id.len())
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(DeviceIdError { id: id.to_string() })
    }
}

/// The content hash of bundle bytes: sha256, 64 lowercase hex digits.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `text` is a content hash as `content_hash` writes it.
pub fn is_content_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Bundle {
    /// Encodes the bundle in the current version.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.str(&self.device_id);
        w.str(&self.snapshot.encoder_sha256);
        w.u64(self.snapshot_seq);
        w.u64(self.snapshot.journal_seq);
        w.u64(self.created_at_ms);
        w.usize(self.snapshot.sections.len());
        for (name, bytes) in self.snapshot.sections.iter() {
            w.str(name);
            w.bytes(bytes);
        }
        envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf)
    }

    /// Decodes and checks a bundle: the frame, the device id, the encoder id's form and
    /// unique section names.
    pub fn decode(bytes: &[u8]) -> Result<Bundle, EnvelopeError> {
        let opened = envelope::open(&FORMAT, &[FORMAT_VERSION], bytes)?;
        let mut r = Reader::new(FORMAT.name, opened.body);
        let device_id = r.str("device id")?;
        check_device_id(&device_id).map_err(|e| r.error(e))?;
        let encoder_sha256 = r.str("encoder sha256")?;
        if !is_content_hash(&encoder_sha256.to_ascii_lowercase()) {
            return Err(r.error(format!(
                "encoder sha256 {encoder_sha256:?} is not 64 hex digits"
            )));
        }
        let snapshot_seq = r.u64("snapshot seq")?;
        let journal_seq = r.u64("journal seq")?;
        let created_at_ms = r.u64("created at")?;
        let sections = read_sections(&mut r)?;
        r.finish()?;
        Ok(Bundle {
            device_id,
            snapshot_seq,
            created_at_ms,
            snapshot: Snapshot {
                encoder_sha256,
                journal_seq,
                sections,
            },
        })
    }
}

fn read_sections(r: &mut Reader<'_>) -> Result<Sections, EnvelopeError> {
    let count = r.usize("section count")?;
    if count > MAX_SECTIONS {
        return Err(r.error(format!(
            "{count} sections, more than the {MAX_SECTIONS} a bundle may hold"
        )));
    }
    let mut sections = Sections::new();
    for _ in 0..count {
        let name = r.str("section name")?;
        let bytes = r.bytes("section bytes")?.to_vec();
        if sections.get(&name).is_some() {
            return Err(r.error(format!("section {name:?} appears twice")));
        }
        sections.insert(name, bytes);
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Bundle {
        Bundle {
            device_id: "glasses-7".into(),
            snapshot_seq: 3,
            created_at_ms: 1_700_000_000_000,
            snapshot: Snapshot {
                encoder_sha256: "ab".repeat(32),
                journal_seq: 9,
                sections: Sections::new()
                    .with("learner", b"learner".to_vec())
                    .with("classes", b"book".to_vec()),
            },
        }
    }

    #[test]
    fn round_trip_and_every_truncation_and_flip_is_refused() {
        let bytes = bundle().encode();
        assert_eq!(Bundle::decode(&bytes).unwrap(), bundle());
        for cut in 0..bytes.len() {
            assert!(Bundle::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for byte in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[byte] ^= 0x01;
            let err = Bundle::decode(&flipped).unwrap_err().to_string();
            assert!(err.starts_with("snapshot bundle: "), "{err}");
        }
    }

    #[test]
    fn content_hash_is_the_sha256_of_the_bytes() {
        let bytes = bundle().encode();
        let hash = content_hash(&bytes);
        assert!(is_content_hash(&hash));
        assert_eq!(hash, hex(&Sha256::digest(&bytes)));
        let mut other = bundle();
        other.snapshot_seq = 4;
        assert_ne!(content_hash(&other.encode()), hash);
    }

    #[test]
    fn device_ids_are_plain_and_short() {
        for good in ["a", "glasses-7", "lab_3.left"] {
            assert!(check_device_id(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_DEVICE_ID + 1);
        for bad in ["", ".hidden", "a/b", "a b", "é", long.as_str()] {
            assert!(check_device_id(bad).is_err(), "{bad:?}");
        }
        let mut b = bundle();
        b.device_id = "../etc".into();
        let err = Bundle::decode(&b.encode()).unwrap_err().to_string();
        assert!(err.contains("device id \"../etc\""), "{err}");
    }
}
