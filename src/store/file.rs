//! The snapshot file format: what one `snapshot-<seq>.mmcl` holds.
//!
//! Version 2 (written) is a frame of the envelope (`crate::envelope`), magic `MMCLSNAP`:
//! ```text
//! body: encoder sha256 (str, 64 hex digits) | journal seq u64 | section count u64 |
//!       (name str | bytes) x count
//! ```
//! The sections are named byte strings (the learner state, the class book, counters): the
//! store neither reads nor depends on what they hold. The journal seq is the last journal
//! record the sections include.
//!
//! Version 1 (read only) predates the envelope:
//! ```text
//! "MMCLSNAP" | version u32 = 1 | encoder sha256 as 64 ASCII bytes | payload length u64 |
//! payload | sha256 of all before
//! ```
//! Its payload was always a learner state; it reads as the one section `learner` with journal
//! seq 0. `tests/data/store/` pins both versions.

use crate::envelope::{self, EnvelopeError, Format, Reader, Writer};

pub const FORMAT: Format = Format {
    name: "snapshot file",
    magic: *b"MMCLSNAP",
    legacy: &[1],
};
/// The snapshot file version this build writes.
pub const FORMAT_VERSION: u32 = 2;
/// The section a version-1 file's payload reads as.
pub const LEARNER_SECTION: &str = "learner";

/// Named byte sections, in insertion order, names unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sections {
    list: Vec<(String, Vec<u8>)>,
}

impl Sections {
    pub fn new() -> Sections {
        Sections::default()
    }

    /// Adds a section, or replaces the one of the same name (returning its bytes).
    pub fn insert(&mut self, name: impl Into<String>, bytes: Vec<u8>) -> Option<Vec<u8>> {
        let name = name.into();
        match self.list.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => Some(std::mem::replace(old, bytes)),
            None => {
                self.list.push((name, bytes));
                None
            }
        }
    }

    /// `insert` for building: `Sections::new().with("learner", bytes)`.
    pub fn with(mut self, name: impl Into<String>, bytes: Vec<u8>) -> Sections {
        self.insert(name, bytes);
        self
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.list
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.list.iter().map(|(n, b)| (n.as_str(), b.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// What a snapshot file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The encoder (hex sha256) whose embeddings the sections were learned from: a snapshot of
    /// another encoder means nothing to the current one.
    pub encoder_sha256: String,
    /// The last journal record the sections include (0: none); recovery replays the later ones.
    pub journal_seq: u64,
    pub sections: Sections,
}

/// Encodes `snapshot` in the current version.
pub fn encode(snapshot: &Snapshot) -> Vec<u8> {
    let mut w = Writer::default();
    w.str(&snapshot.encoder_sha256);
    w.u64(snapshot.journal_seq);
    w.usize(snapshot.sections.len());
    for (name, bytes) in snapshot.sections.iter() {
        w.str(name);
        w.bytes(bytes);
    }
    envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf)
}

/// Decodes a snapshot file of any version this build reads; returns its version too.
pub fn decode(bytes: &[u8]) -> Result<(u32, Snapshot), EnvelopeError> {
    if envelope::version(&FORMAT, bytes)? == 1 {
        return decode_v1(bytes).map(|s| (1, s));
    }
    let opened = envelope::open(&FORMAT, &[FORMAT_VERSION], bytes)?;
    let mut r = Reader::new(FORMAT.name, opened.body);
    let encoder_sha256 = r.str("encoder sha256")?;
    let journal_seq = r.u64("journal seq")?;
    let count = r.usize("section count")?;
    let mut sections = Sections::new();
    for _ in 0..count {
        let name = r.str("section name")?;
        let bytes = r.bytes("section bytes")?.to_vec();
        if sections.get(&name).is_some() {
            return Err(r.error(format!("section {name:?} appears twice")));
        }
        sections.insert(name, bytes);
    }
    r.finish()?;
    let snapshot = Snapshot {
        encoder_sha256,
        journal_seq,
        sections,
    };
    Ok((opened.version, snapshot))
}

fn decode_v1(bytes: &[u8]) -> Result<Snapshot, EnvelopeError> {
    let covered = envelope::verify_trailing_checksum(&FORMAT, bytes)?;
    let mut r = Reader::new(FORMAT.name, covered.get(12..).unwrap_or_default());
    // Version 1 copied the digest's text byte for byte (padded with '0').
    let encoder_sha256 = String::from_utf8_lossy(r.raw(64, "encoder sha256")?).into_owned();
    let len = r.usize("payload length")?;
    let payload = r.raw(len, "payload")?.to_vec();
    r.finish()?;
    Ok(Snapshot {
        encoder_sha256,
        journal_seq: 0,
        sections: Sections::new().with(LEARNER_SECTION, payload),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            encoder_sha256: "0123456789abcdef".repeat(4),
            journal_seq: 42,
            sections: Sections::new()
                .with("learner", b"learner bytes".to_vec())
                .with("counters", vec![]),
        }
    }

    #[test]
    fn round_trip_and_every_truncation_and_flip_is_refused() {
        let bytes = encode(&snapshot());
        assert_eq!(decode(&bytes).unwrap(), (2, snapshot()));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for byte in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[byte] ^= 0x20;
            let err = decode(&flipped).unwrap_err();
            assert!(err.to_string().starts_with("snapshot file: "), "{err}");
        }
    }

    #[test]
    fn sections_replace_by_name_and_duplicates_are_refused_on_read() {
        let mut s = Sections::new().with("a", vec![1]);
        assert_eq!(s.insert("a", vec![2]), Some(vec![1]));
        assert_eq!((s.len(), s.get("a")), (1, Some(&[2u8][..])));
        let mut w = Writer::default();
        w.str("sha");
        w.u64(0);
        w.usize(2);
        for _ in 0..2 {
            w.str("a");
            w.bytes(b"x");
        }
        let bytes = envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf);
        let err = decode(&bytes).unwrap_err().to_string();
        assert!(err.contains("section \"a\" appears twice"), "{err}");
    }
}
