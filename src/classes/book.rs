//! `ClassBook`: the names, ids and history of the classes a learner knows.
//!
//! Ids are handed out in order and never reused, even after a class is forgotten, so a
//! journal record or a host-side report that names an old id can never mean a newer
//! class. The book is changed only through `ClassModel::apply` (with the learner, in one
//! published step); these methods are the pieces it uses.
//!
//! Stored in a snapshot's `classes` section as an envelope frame (magic `MMCLBOOK`):
//! ```text
//! version 1 body: next id u32 | count u64 | entries:
//!   id u32 | name str | windows u64 | enrollments u32 | enrolled_at_ms u64 |
//!   updated_at_ms u64 | origin str
//! ```
//! `tests/data/classes/` pins version 1.

use super::name::ClassName;
use super::ClassError;
use crate::envelope::{self, EnvelopeError, Format, Reader, Writer};
use crate::learn::ClassId;

pub const FORMAT: Format = Format {
    name: "class book",
    magic: *b"MMCLBOOK",
    legacy: &[],
};
pub const FORMAT_VERSION: u32 = 1;
/// More classes than this in one book is damage, not a device (bounds what a read allocates).
pub const MAX_CLASSES: usize = 1 << 16;

/// One known class.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClassEntry {
    /// The learner's id for the class (`mmcl classes --json` calls it `label`).
    #[serde(rename = "label")]
    pub id: ClassId,
    pub name: ClassName,
    /// Windows learned for the class, over all its enrollments.
    pub windows: u64,
    /// Enrollments that taught it.
    pub enrollments: u32,
    /// Wall-clock time of its first enrollment, Unix milliseconds.
    #[serde(rename = "enrolled_at")]
    pub enrolled_at_ms: u64,
    /// Wall-clock time of its latest enrollment, Unix milliseconds.
    #[serde(rename = "updated_at")]
    pub updated_at_ms: u64,
    /// Where its first enrollment came from (the enrollment's `source`).
    pub origin: String,
}

/// The class book (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassBook {
    entries: Vec<ClassEntry>,
    next_id: ClassId,
}

impl ClassBook {
    pub fn new() -> ClassBook {
        ClassBook::default()
    }

    /// The known classes, in the order they were first enrolled.
    pub fn entries(&self) -> &[ClassEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The class called `name` (ignoring case).
    pub fn by_name(&self, name: &str) -> Option<&ClassEntry> {
        self.entries.iter().find(|e| e.name.same_as(name))
    }

    pub fn by_id(&self, id: ClassId) -> Option<&ClassEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The id `name` has, or the one it would get if enrolled now.
    pub fn id_for(&self, name: &ClassName) -> ClassId {
        self.by_name(name.as_str()).map_or(self.next_id, |e| e.id)
    }

    /// `a, b, c` for messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        names.join(", ")
    }

    /// Counts an enrollment of `windows` windows for `name` at `at_ms`: a new class gets the
    /// next id. Refused when every id was used.
    pub(crate) fn record(
        &mut self,
        name: &ClassName,
        windows: u64,
        at_ms: u64,
        origin: &str,
    ) -> Result<ClassId, ClassError> {
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.name.same_as(name.as_str()))
        {
            e.windows = e.windows.saturating_add(windows);
            e.enrollments = e.enrollments.saturating_add(1);
            e.updated_at_ms = at_ms;
            return Ok(e.id);
        }
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(ClassError::IdsExhausted)?;
        self.entries.push(ClassEntry {
            id,
            name: name.clone(),
            windows,
            enrollments: 1,
            enrolled_at_ms: at_ms,
            updated_at_ms: at_ms,
            origin: origin.to_string(),
        });
        Ok(id)
    }

    /// Renames `from` to `to`; refused when `from` is unknown or `to` names another class.
    pub(crate) fn rename(&mut self, from: &str, to: &ClassName) -> Result<ClassId, ClassError> {
        let at = self.position(from)?;
        if let Some(other) = self
            .by_name(to.as_str())
            .filter(|o| o.id != self.entries[at].id)
        {
            return Err(ClassError::NameTaken {
                name: to.to_string(),
                id: other.id,
            });
        }
        self.entries[at].name = to.clone();
        Ok(self.entries[at].id)
    }

    /// Removes `name`'s entry; its id is not given out again.
    pub(crate) fn remove(&mut self, name: &str) -> Result<ClassEntry, ClassError> {
        let at = self.position(name)?;
        Ok(self.entries.remove(at))
    }

    fn position(&self, name: &str) -> Result<usize, ClassError> {
        self.entries
            .iter()
            .position(|e| e.name.same_as(name))
            .ok_or_else(|| ClassError::Unknown {
                name: name.to_string(),
                known: self.names(),
            })
    }

    /// The book as an envelope frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(self.next_id);
        w.usize(self.entries.len());
        for e in &self.entries {
            w.u32(e.id);
            w.str(e.name.as_str());
            w.u64(e.windows);
            w.u32(e.enrollments);
            w.u64(e.enrolled_at_ms);
            w.u64(e.updated_at_ms);
            w.str(&e.origin);
        }
        envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf)
    }

    /// Reads `encode`'s bytes back, checking what a valid book holds (unique ids below
    /// the next id, valid and unique names).
    pub fn decode(bytes: &[u8]) -> Result<ClassBook, EnvelopeError> {
        let opened = envelope::open(&FORMAT, &[FORMAT_VERSION], bytes)?;
        let mut r = Reader::new(FORMAT.name, opened.body);
        let next_id = r.u32("next id")?;
        let count = r.usize("class count")?;
        if count > MAX_CLASSES {
            return Err(r.error(format!("{count} classes, at most {MAX_CLASSES}")));
        }
        let mut book = ClassBook {
            entries: Vec::with_capacity(count),
            next_id,
        };
        for _ in 0..count {
            let entry = read_entry(&mut r)?;
            book.check_new(&entry).map_err(|why| r.error(why))?;
            book.entries.push(entry);
        }
        r.finish()?;
        Ok(book)
    }

    /// Why `e` cannot join this book as read from a file.
    fn check_new(&self, e: &ClassEntry) -> Result<(), String> {
        if e.id >= self.next_id {
            return Err(format!(
                "class id {} is not below the next id {}",
                e.id, self.next_id
            ));
        }
        if self.by_id(e.id).is_some() || self.by_name(e.name.as_str()).is_some() {
            return Err(format!(
                "class {} ({:?}) appears twice",
                e.id,
                e.name.as_str()
            ));
        }
        Ok(())
    }
}

fn read_entry(r: &mut Reader<'_>) -> Result<ClassEntry, EnvelopeError> {
    let id = r.u32("class id")?;
    let name = r.str("class name")?;
    let name = ClassName::new(&name).map_err(|e| r.error(e))?;
    Ok(ClassEntry {
        id,
        name,
        windows: r.u64("windows")?,
        enrollments: r.u32("enrollments")?,
        enrolled_at_ms: r.u64("enrolled_at")?,
        updated_at_ms: r.u64("updated_at")?,
        origin: r.str("origin")?,
    })
}

#[cfg(test)]
mod tests;
