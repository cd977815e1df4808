//! The little-endian field codec every format body is written with. `Writer` appends fields;
//! `Reader` reads them back, bounds-checking every read and checking every length prefix
//! against the bytes left before it allocates, so a damaged or hostile body can make it fail
//! but never allocate more than the body's own size. Errors name the format, the body offset
//! and the field being read.

use super::EnvelopeError;

/// Appends little-endian fields to a byte vector. Length-prefixed values (`bytes`, `str`,
/// the slices) carry a u64 count of elements.
#[derive(Debug, Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    pub fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Bytes with no length prefix (the reader knows the count).
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.usize(v.len());
        self.raw(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    /// f32 values with no length prefix.
    pub fn f32_values(&mut self, v: &[f32]) {
        v.iter().for_each(|x| self.f32(*x));
    }
    pub fn f32s(&mut self, v: &[f32]) {
        self.usize(v.len());
        self.f32_values(v);
    }
    pub fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.f64(*x));
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
    format: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over the body of `format` (the name its errors carry).
    pub fn new(format: &'static str, buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            format,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error at the current position.
    pub fn error(&self, message: impl std::fmt::Display) -> EnvelopeError {
        EnvelopeError::Field {
            format: self.format,
            offset: self.pos,
            message: message.to_string(),
        }
    }

    /// The next `n` bytes.
    pub fn raw(&mut self, n: usize, what: &str) -> Result<&'a [u8], EnvelopeError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| {
            self.error(format!(
                "{what}: needs {n} bytes, {} left",
                self.remaining()
            ))
        })?;
        let out = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], EnvelopeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.raw(N, what)?);
        Ok(a)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, EnvelopeError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16, EnvelopeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, EnvelopeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, EnvelopeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub fn usize(&mut self, what: &str) -> Result<usize, EnvelopeError> {
        let v = self.u64(what)?;
        usize::try_from(v).map_err(|_| self.error(format!("{what}: {v} does not fit this machine")))
    }
    pub fn bool(&mut self, what: &str) -> Result<bool, EnvelopeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.error(format!("{what}: {other} is not a boolean (0 or 1)"))),
        }
    }
    pub fn f32(&mut self, what: &str) -> Result<f32, EnvelopeError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    pub fn f64(&mut self, what: &str) -> Result<f64, EnvelopeError> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }

    /// A length prefix for `elem`-byte elements, checked against the bytes left.
    fn len(&mut self, elem: usize, what: &str) -> Result<usize, EnvelopeError> {
        let n = self.usize(what)?;
        if n.checked_mul(elem).is_none_or(|b| b > self.remaining()) {
            return Err(self.error(format!(
                "{what}: length {n} exceeds the {} bytes left",
                self.remaining()
            )));
        }
        Ok(n)
    }

    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8], EnvelopeError> {
        let n = self.len(1, what)?;
        self.raw(n, what)
    }
    /// `n` bytes of UTF-8 (the caller read the length).
    pub fn utf8(&mut self, n: usize, what: &str) -> Result<String, EnvelopeError> {
        let at = self.pos;
        let b = self.raw(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| EnvelopeError::Field {
            format: self.format,
            offset: at,
            message: format!("{what}: not UTF-8"),
        })
    }
    pub fn str(&mut self, what: &str) -> Result<String, EnvelopeError> {
        let n = self.len(1, what)?;
        self.utf8(n, what)
    }
    /// `n` f32 values with no length prefix.
    pub fn f32_values(&mut self, n: usize, what: &str) -> Result<Vec<f32>, EnvelopeError> {
        let bytes = n
            .checked_mul(4)
            .ok_or_else(|| self.error(format!("{what}: {n} values overflow")))?;
        let b = self.raw(bytes, what)?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    pub fn f32s(&mut self, what: &str) -> Result<Vec<f32>, EnvelopeError> {
        let n = self.len(4, what)?;
        self.f32_values(n, what)
    }
    pub fn f64s(&mut self, what: &str) -> Result<Vec<f64>, EnvelopeError> {
        let n = self.len(8, what)?;
        (0..n).map(|_| self.f64(what)).collect()
    }
    pub fn u32s(&mut self, what: &str) -> Result<Vec<u32>, EnvelopeError> {
        let n = self.len(4, what)?;
        (0..n).map(|_| self.u32(what)).collect()
    }
    pub fn u64s(&mut self, what: &str) -> Result<Vec<u64>, EnvelopeError> {
        let n = self.len(8, what)?;
        (0..n).map(|_| self.u64(what)).collect()
    }

    /// Fails unless every byte was consumed (a longer body is a different format).
    pub fn finish(&self) -> Result<(), EnvelopeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(format!("{n} trailing bytes"))),
        }
    }

    /// Checks a decoded length against the one the state requires.
    pub fn expect_len(&self, what: &str, got: usize, expected: usize) -> Result<(), EnvelopeError> {
        if got == expected {
            Ok(())
        } else {
            Err(self.error(format!("{what}: {got} values, expected {expected}")))
        }
    }
}
