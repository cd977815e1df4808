//! The learner's snapshot payload: a versioned, checksummed binary envelope around one
//! strategy's state, plus the little-endian `Writer`/`Reader` every component serializes with.
//!
//! Layout (version 1), all integers little-endian:
//! ```text
//! magic  "MMCL-LRN" (8 bytes) | version u32 | body length u64 | body | sha256(body) (32 bytes)
//! body:  strategy (str) | dim u64 | config as JSON (str) | the strategy's own fields
//! ```
//! `str` and byte blobs are length-prefixed (u64). The config travels as JSON so that a field
//! added later (with a serde default) keeps old snapshots loading. Old versions stay readable:
//! `tests/data/learn/*.snap` pins them.

use super::LearnError;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"MMCL-LRN";
/// The snapshot format version this build writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;

/// Wraps a strategy body in the envelope.
pub fn seal(body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 52);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&Sha256::digest(&body));
    out
}

/// Checks magic, version, length and checksum; returns the body.
pub fn open(bytes: &[u8]) -> Result<&[u8], LearnError> {
    let fail = |message: String| LearnError::Snapshot {
        strategy: "?".into(),
        message,
    };
    if bytes.len() < 52 || &bytes[..8] != MAGIC {
        return Err(fail(format!(
            "not a learner snapshot ({} bytes, magic missing)",
            bytes.len()
        )));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version == 0 || version > FORMAT_VERSION {
        return Err(fail(format!(
            "format version {version}, this build reads 1..={FORMAT_VERSION}"
        )));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len);
    if len != (bytes.len() - 52) as u64 {
        return Err(fail(format!(
            "body length {len} but {} bytes present (truncated?)",
            bytes.len() - 52
        )));
    }
    let (body, sum) = bytes[20..].split_at(bytes.len() - 52);
    if Sha256::digest(body).as_slice() != sum {
        return Err(fail("checksum mismatch (corrupted snapshot)".into()));
    }
    Ok(body)
}

/// Appends little-endian fields to a byte vector.
#[derive(Debug, Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.usize(v.len());
        self.buf.extend_from_slice(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    pub fn f32s(&mut self, v: &[f32]) {
        self.usize(v.len());
        v.iter()
            .for_each(|x| self.buf.extend_from_slice(&x.to_le_bytes()));
    }
    pub fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        v.iter()
            .for_each(|x| self.buf.extend_from_slice(&x.to_le_bytes()));
    }
    pub fn u32s(&mut self, v: &[u32]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.u32(*x));
    }
    pub fn u64s(&mut self, v: &[u64]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.u64(*x));
    }
}

/// Reads what `Writer` wrote; every read is bounds-checked and names what it was reading.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    strategy: String,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            strategy: "?".into(),
        }
    }

    /// Names the strategy in later errors.
    pub fn set_strategy(&mut self, strategy: &str) {
        self.strategy = strategy.to_string();
    }

    /// A snapshot error at the current position.
    pub fn error(&self, message: impl std::fmt::Display) -> LearnError {
        LearnError::Snapshot {
            strategy: self.strategy.clone(),
            message: format!("at byte {}: {message}", self.pos),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], LearnError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| {
            self.error(format!(
                "{what}: needs {n} bytes, {} left",
                self.buf.len() - self.pos
            ))
        })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], LearnError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, LearnError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, LearnError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub fn usize(&mut self, what: &str) -> Result<usize, LearnError> {
        let v = self.u64(what)?;
        usize::try_from(v).map_err(|_| self.error(format!("{what}: {v} does not fit this machine")))
    }

    /// A length prefix for `elem`-byte elements, checked against the bytes left.
    fn len(&mut self, elem: usize, what: &str) -> Result<usize, LearnError> {
        let n = self.usize(what)?;
        if n.checked_mul(elem)
            .is_none_or(|b| b > self.buf.len() - self.pos)
        {
            return Err(self.error(format!(
                "{what}: length {n} exceeds the {} bytes left",
                self.buf.len() - self.pos
            )));
        }
        Ok(n)
    }

    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8], LearnError> {
        let n = self.len(1, what)?;
        self.take(n, what)
    }
    pub fn str(&mut self, what: &str) -> Result<String, LearnError> {
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.error(format!("{what}: not UTF-8")))
    }
    pub fn f32s(&mut self, what: &str) -> Result<Vec<f32>, LearnError> {
        let n = self.len(4, what)?;
        let b = self.take(4 * n, what)?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    pub fn f64s(&mut self, what: &str) -> Result<Vec<f64>, LearnError> {
        let n = self.len(8, what)?;
        let b = self.take(8 * n, what)?;
        Ok(b.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }
    pub fn u32s(&mut self, what: &str) -> Result<Vec<u32>, LearnError> {
        let n = self.len(4, what)?;
        (0..n).map(|_| self.u32(what)).collect()
    }
    pub fn u64s(&mut self, what: &str) -> Result<Vec<u64>, LearnError> {
        let n = self.len(8, what)?;
        (0..n).map(|_| self.u64(what)).collect()
    }

    /// Fails unless every byte was consumed (a longer body is a different format).
    pub fn finish(&self) -> Result<(), LearnError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(self.error(format!("{} trailing bytes", self.buf.len() - self.pos)))
        }
    }

    /// Checks a decoded length against the one the state requires.
    pub fn expect_len(&self, what: &str, got: usize, expected: usize) -> Result<(), LearnError> {
        if got == expected {
            Ok(())
        } else {
            Err(self.error(format!("{what}: {got} values, expected {expected}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_and_rejects_damage() {
        let mut w = Writer::default();
        w.str("proto");
        w.f32s(&[1.0, -2.5]);
        w.u64s(&[7]);
        let sealed = seal(w.buf);
        let body = open(&sealed).expect("valid");
        let mut r = Reader::new(body);
        assert_eq!(r.str("name").unwrap(), "proto");
        assert_eq!(r.f32s("xs").unwrap(), vec![1.0, -2.5]);
        assert_eq!(r.u64s("ys").unwrap(), vec![7]);
        r.finish().unwrap();
        let mut bad = sealed.clone();
        bad[25] ^= 1;
        assert!(matches!(open(&bad), Err(LearnError::Snapshot { .. })));
        assert!(open(&sealed[..sealed.len() - 1]).is_err());
        let mut future = sealed.clone();
        future[8] = 9;
        assert!(open(&future)
            .unwrap_err()
            .to_string()
            .contains("format version 9"));
    }

    #[test]
    fn reader_refuses_lengths_past_the_end() {
        let mut w = Writer::default();
        w.u64(u64::MAX);
        let mut r = Reader::new(&w.buf);
        assert!(r
            .f32s("weights")
            .unwrap_err()
            .to_string()
            .contains("weights"));
    }
}
