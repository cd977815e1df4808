//! `Change`: what a user does to the classes — an `Enrollment` (labelled embeddings), a
//! forget or a rename — as one record. The daemon appends each change to the journal
//! (fsynced) before it acknowledges it, and `ClassModel::apply` is the only way a change
//! reaches the learner, so replaying the journal's records on a snapshot rebuilds the
//! state exactly (the learner is deterministic given its saved state and the calls).
//!
//! One record is an envelope frame (magic `MMCLCHNG`):
//! ```text
//! version 1 body: at_ms u64 | kind u8 (1 enroll, 2 forget, 3 rename) | fields:
//!   enroll: label str | source str | span start u64 | span end u64 | dim u32 |
//!           count u64 | count x dim f32
//!   forget: name str
//!   rename: from str | to str
//! ```
//! `tests/data/classes/` pins version 1.

use super::name::ClassName;
use crate::embedding::Embedding;
use crate::envelope::{self, EnvelopeError, Format, Reader, Writer};
use crate::learn::MAX_DIM;
use crate::time::Timestamp;

pub const FORMAT: Format = Format {
    name: "class change record",
    magic: *b"MMCLCHNG",
    legacy: &[],
};
pub const FORMAT_VERSION: u32 = 1;

/// Labelled windows given to the learner by a user (DESIGN.md lexicon).
#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    pub label: ClassName,
    /// The windows' embeddings, all of the learner's dimension, at least one.
    pub embeddings: Vec<Embedding>,
    /// From the first window's start to the last window's end, on the pipeline's clock.
    pub span: (Timestamp, Timestamp),
    /// Where the windows came from ("replay 3_brush_teeth/clip_0004", "camera+imu", ...).
    pub source: String,
}

/// One change to the classes, stamped with the wall-clock time it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Unix milliseconds when the user made the change.
    pub at_ms: u64,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    Enroll(Enrollment),
    Forget { name: ClassName },
    Rename { from: ClassName, to: ClassName },
}

impl Change {
    /// The record as an envelope frame (the journal's payload).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u64(self.at_ms);
        match &self.kind {
            ChangeKind::Enroll(e) => {
                w.u8(1);
                write_enrollment(&mut w, e);
            }
            ChangeKind::Forget { name } => {
                w.u8(2);
                w.str(name.as_str());
            }
            ChangeKind::Rename { from, to } => {
                w.u8(3);
                w.str(from.as_str());
                w.str(to.as_str());
            }
        }
        envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf)
    }

    /// Reads `encode`'s bytes back; every name and embedding is checked as when made.
    pub fn decode(bytes: &[u8]) -> Result<Change, EnvelopeError> {
        let opened = envelope::open(&FORMAT, &[FORMAT_VERSION], bytes)?;
        let mut r = Reader::new(FORMAT.name, opened.body);
        let at_ms = r.u64("at_ms")?;
        let kind = match r.u8("kind")? {
            1 => ChangeKind::Enroll(read_enrollment(&mut r)?),
            2 => ChangeKind::Forget {
                name: read_name(&mut r, "name")?,
            },
            3 => ChangeKind::Rename {
                from: read_name(&mut r, "from")?,
                to: read_name(&mut r, "to")?,
            },
            other => return Err(r.error(format!("unknown change kind {other}"))),
        };
        r.finish()?;
        Ok(Change { at_ms, kind })
    }
}

fn write_enrollment(w: &mut Writer, e: &Enrollment) {
    w.str(e.label.as_str());
    w.str(&e.source);
    w.u64(e.span.0.nanos());
    w.u64(e.span.1.nanos());
    let dim = e.embeddings.first().map_or(0, Embedding::dim);
    w.u32(u32::try_from(dim).unwrap_or(u32::MAX));
    w.usize(e.embeddings.len());
    for x in &e.embeddings {
        w.f32_values(x.as_slice());
    }
}

fn read_enrollment(r: &mut Reader<'_>) -> Result<Enrollment, EnvelopeError> {
    let label = read_name(r, "label")?;
    let source = r.str("source")?;
    let span = (
        Timestamp(r.u64("span start")?),
        Timestamp(r.u64("span end")?),
    );
    let dim = r.u32("dimension")? as usize;
    let count = r.usize("embedding count")?;
    if dim == 0 || dim > MAX_DIM {
        return Err(r.error(format!("dimension {dim}, must be 1..={MAX_DIM}")));
    }
    // Checked against the bytes left before anything is allocated.
    let needed = count.checked_mul(dim).and_then(|n| n.checked_mul(4));
    if count == 0 || needed.is_none_or(|n| n > r.remaining()) {
        return Err(r.error(format!(
            "{count} embeddings of dimension {dim} do not fit the {} bytes left",
            r.remaining()
        )));
    }
    let mut embeddings = Vec::with_capacity(count);
    for i in 0..count {
        let values = r.f32_values(dim, "embedding")?;
        let e = Embedding::new(values, dim).map_err(|e| r.error(format!("embedding {i}: {e}")))?;
        embeddings.push(e);
    }
    Ok(Enrollment {
        label,
        embeddings,
        span,
        source,
    })
}

fn read_name(r: &mut Reader<'_>, what: &str) -> Result<ClassName, EnvelopeError> {
    let text = r.str(what)?;
    ClassName::new(&text).map_err(|e| r.error(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests;
