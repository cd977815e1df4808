//! Bundles of a benchmark run (`mmcl bench cl --bundles-out`, the host-eval reproduction
//! test): a raw learner trained through `eval::run_seed_observed` knows the dataset's
//! class ids, not ids a class book handed out, so its bundle carries a class book written
//! with exactly those ids (in the class book's own format, checked by `ClassBook::decode`).

use super::bundle::Bundle;
use crate::classes::{ClassBook, CLASSES_SECTION, LEARNER_SECTION};
use crate::envelope::{self, EnvelopeError, Format, Writer};
use crate::learn::{ClassId, Learner};
use crate::store::{Sections, Snapshot};

const BOOK: Format = Format {
    name: "class book",
    magic: *b"MMCLBOOK",
    legacy: &[],
};

/// A class book naming `classes` (id, name) with the given ids, one enrollment each.
pub fn class_book(classes: &[(ClassId, String)]) -> Result<ClassBook, EnvelopeError> {
    let mut w = Writer::default();
    let next = classes
        .iter()
        .map(|(id, _)| id.saturating_add(1))
        .max()
        .unwrap_or(0);
    w.u32(next);
    w.usize(classes.len());
    for (id, name) in classes {
        w.u32(*id);
        w.str(name);
        w.u64(0);
        w.u32(1);
        w.u64(0);
        w.u64(0);
        w.str("bench");
    }
    ClassBook::decode(&envelope::seal(&BOOK, 1, &w.buf))
}

/// The bundle of `learner` after task `task` of a benchmark run: `names` maps each class
/// id the learner knows to its dataset name.
pub fn bench_bundle(
    device: &str,
    task: usize,
    learner: &dyn Learner,
    names: &dyn Fn(ClassId) -> String,
    encoder_sha256: &str,
) -> Result<Bundle, EnvelopeError> {
    let mut ids = learner.classes();
    ids.sort_unstable();
    let book = class_book(&ids.iter().map(|&id| (id, names(id))).collect::<Vec<_>>())?;
    let sections = Sections::new()
        .with(LEARNER_SECTION, learner.save())
        .with(CLASSES_SECTION, book.encode());
    Ok(Bundle {
        device_id: device.to_string(),
        snapshot_seq: task as u64 + 1,
        created_at_ms: task as u64 + 1,
        snapshot: Snapshot {
            encoder_sha256: encoder_sha256.to_string(),
            journal_seq: 0,
            sections,
        },
    })
}
