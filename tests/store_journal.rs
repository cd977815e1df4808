//! The journal and the state directory from outside: appends survive reopening, a torn or
//! damaged tail is cut (never trusted) and reported, `truncate_through` keeps the rest and
//! the numbering, and recovery is the newest valid snapshot plus the records after it.

use mmcl::store::journal::{Gap, Journal};
use mmcl::store::{Sections, StateDir, StoreError, Warning, JOURNAL_NAME};

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn payload(seq: u64) -> Vec<u8> {
    (0..(seq * 7 % 50)).map(|i| (i ^ seq) as u8).collect()
}

fn filled(path: &std::path::Path, n: u64) -> Journal {
    let (mut journal, replay) = Journal::open(path, 0).unwrap();
    assert!(replay.records.is_empty() && replay.cut.is_none());
    for seq in 1..=n {
        assert_eq!(journal.append(&payload(seq)).unwrap(), seq);
    }
    journal
}

#[test]
fn appended_records_replay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_NAME);
    drop(filled(&path, 5));
    let (journal, replay) = Journal::open(&path, 0).unwrap();
    let seqs: Vec<u64> = replay.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(replay.records.iter().all(|r| r.payload == payload(r.seq)));
    assert_eq!(
        (journal.last_seq(), replay.cut, replay.gap),
        (5, None, None)
    );
    let (_, after) = Journal::open(&path, 3).unwrap();
    assert_eq!((after.records.len(), after.already_included), (2, 3));
}

/// Every truncation point: the records wholly before it replay, the rest is cut, and the
/// journal then appends after the last valid record.
#[test]
fn a_torn_tail_is_cut_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_NAME);
    drop(filled(&path, 3));
    let full = std::fs::read(&path).unwrap();
    let ends: Vec<usize> = (1..=3u64)
        .scan(0, |end, seq| {
            *end += 52 + 8 + payload(seq).len();
            Some(*end)
        })
        .collect();
    assert_eq!(ends[2], full.len());
    for cut in 0..full.len() {
        std::fs::write(&path, &full[..cut]).unwrap();
        let (mut journal, replay) = Journal::open(&path, 0).unwrap();
        let whole = ends.iter().filter(|e| **e <= cut).count();
        assert_eq!(replay.records.len(), whole, "cut at {cut}");
        let valid = if whole == 0 { 0 } else { ends[whole - 1] };
        match &replay.cut {
            None => assert_eq!(cut, valid),
            Some(c) => assert_eq!((c.at, c.bytes), (valid as u64, (cut - valid) as u64)),
        }
        assert_eq!(std::fs::metadata(&path).unwrap().len(), valid as u64);
        assert_eq!(journal.append(b"next").unwrap(), whole as u64 + 1);
    }
}

#[test]
fn a_damaged_record_cuts_it_and_everything_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_NAME);
    drop(filled(&path, 4));
    let mut bytes = std::fs::read(&path).unwrap();
    let second = 52 + 8 + payload(1).len();
    bytes[second + 25] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (_, replay) = Journal::open(&path, 0).unwrap();
    assert_eq!(replay.records.len(), 1);
    let cut = replay.cut.unwrap();
    assert_eq!(cut.at, second as u64);
    assert!(
        cut.error
            .to_string()
            .starts_with("journal record: checksum mismatch"),
        "{}",
        cut.error
    );
}

#[test]
fn truncate_through_keeps_the_later_records_and_the_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_NAME);
    let mut journal = filled(&path, 5);
    journal.truncate_through(3).unwrap();
    assert_eq!(journal.append(&payload(6)).unwrap(), 6);
    journal.truncate_through(6).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(journal.append(&payload(7)).unwrap(), 7);
    drop(journal);
    let (journal, replay) = Journal::open(&path, 6).unwrap();
    assert_eq!(
        replay.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [7]
    );
    assert_eq!(journal.last_seq(), 7);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn a_gap_between_snapshot_and_journal_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_NAME);
    let mut journal = filled(&path, 5);
    journal.truncate_through(3).unwrap();
    drop(journal);
    let (_, replay) = Journal::open(&path, 1).unwrap();
    assert_eq!(
        replay.gap,
        Some(Gap {
            expected: 2,
            found: 4
        })
    );
}

#[test]
fn recovery_is_the_newest_snapshot_plus_the_records_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, recovery) = StateDir::open(dir.path(), SHA, 2).unwrap();
    assert_eq!(recovery, Default::default());
    for seq in 1..=4 {
        assert_eq!(state.append(&payload(seq)).unwrap(), seq);
    }
    let sections = Sections::new().with("counters", 3u64.to_le_bytes().to_vec());
    assert_eq!(state.checkpoint(3, sections.clone()).unwrap().seq, 1);
    state.append(&payload(5)).unwrap();
    assert!(matches!(
        state.checkpoint(9, Sections::new()),
        Err(StoreError::NotJournaled {
            through: 9,
            last: 5,
            ..
        })
    ));
    drop(state);
    let (mut state, recovery) = StateDir::open(dir.path(), SHA, 2).unwrap();
    let snapshot = recovery.snapshot.unwrap().snapshot;
    assert_eq!((snapshot.journal_seq, snapshot.sections), (3, sections));
    let seqs: Vec<u64> = recovery.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [4, 5]);
    assert!(recovery.warnings.is_empty());
    assert_eq!(state.append(b"more").unwrap(), 6);
}

#[test]
fn recovery_reports_a_cut_tail_and_removes_dead_writers_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, _) = StateDir::open(dir.path(), SHA, 2).unwrap();
    state.append(b"one").unwrap();
    state.append(b"two").unwrap();
    drop(state);
    let path = dir.path().join(JOURNAL_NAME);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    // pid 0 is never a user process: a dead writer's leftover.
    let temp = dir.path().join(".snapshot-00000001.mmcl.0.0.tmp");
    std::fs::write(&temp, b"half a snapshot").unwrap();
    let stray = dir.path().join("snapshot-00000001.mmcl.tmp");
    std::fs::write(&stray, b"not the store's").unwrap();
    let (_, recovery) = StateDir::open(dir.path(), SHA, 2).unwrap();
    assert_eq!(recovery.records.len(), 1);
    assert_eq!(recovery.removed_temps, vec![temp.clone()]);
    assert_eq!(recovery.strays, vec![stray]);
    assert!(!temp.exists());
    let [Warning::JournalCut { bytes: cut, .. }] = recovery.warnings.as_slice() else {
        panic!("{:?}", recovery.warnings)
    };
    // The second record (52 bytes of frame, 8 of sequence number, 3 of payload) less 3.
    assert_eq!(*cut, 60);
    assert!(
        recovery.warnings[0].to_string().contains("cut 60 bytes"),
        "{}",
        recovery.warnings[0]
    );
}
