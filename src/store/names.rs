//! The file names of a state directory, parsed strictly: a snapshot is exactly
//! `snapshot-<seq>.mmcl` as `snapshot_name` writes it (seq >= 1, zero-padded to 8 digits and
//! never otherwise), the journal is `journal.log`, and `envelope::write_atomic`'s temp files
//! for those names are recognised as such. Anything else is a stray: the store reports it and
//! never touches it, since it did not write it.

use crate::envelope::temp_owner;

/// The journal's file name.
pub const JOURNAL_NAME: &str = "journal.log";

/// The file name of snapshot `seq`.
pub fn snapshot_name(seq: u64) -> String {
    format!("snapshot-{seq:08}.mmcl")
}

/// What one directory entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Snapshot(u64),
    Journal,
    /// A temp file of a snapshot or journal write by process `pid` (a crash's leftover
    /// unless that process still runs).
    Temp {
        pid: u32,
    },
    Stray,
}

/// Classifies a file name.
pub fn classify(name: &str) -> Entry {
    if name == JOURNAL_NAME {
        return Entry::Journal;
    }
    if let Some(seq) = parse_snapshot_name(name) {
        return Entry::Snapshot(seq);
    }
    temp_target(name).map_or(Entry::Stray, |pid| Entry::Temp { pid })
}

/// The sequence number of a name `snapshot_name` writes; `None` for anything else.
pub fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".mmcl")?;
    // `u64::from_str` would also take "+5"; the round trip below refuses other paddings.
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq: u64 = digits.parse().ok()?;
    (seq >= 1 && snapshot_name(seq) == name).then_some(seq)
}

/// The writing process of a temp file made for the journal or a strictly named snapshot.
fn temp_target(name: &str) -> Option<u32> {
    if let Some(pid) = temp_owner(name, JOURNAL_NAME) {
        return Some(pid);
    }
    // `.<target>.<pid>.<n>.tmp`: the target ends at the first ".mmcl.".
    let target = name.strip_prefix('.')?.split_once(".mmcl.")?.0;
    let target = format!("{target}.mmcl");
    parse_snapshot_name(&target)?;
    temp_owner(name, &target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_padded_names_are_snapshots() {
        assert_eq!(classify("snapshot-00000007.mmcl"), Entry::Snapshot(7));
        assert_eq!(
            classify("snapshot-123456789.mmcl"),
            Entry::Snapshot(123_456_789)
        );
        assert_eq!(
            classify("snapshot-18446744073709551615.mmcl"),
            Entry::Snapshot(u64::MAX)
        );
        for stray in [
            "snapshot-1.mmcl",
            "snapshot-0000007.mmcl",
            "snapshot-000000007.mmcl",
            "snapshot-00000000.mmcl",
            "snapshot-+0000007.mmcl",
            "snapshot-18446744073709551616.mmcl",
            "snapshot-0000000a.mmcl",
            "snapshot-00000007.mmcl.bak",
            "journal.log.old",
            ".snapshot-00000007.mmcl.tmp",
        ] {
            assert_eq!(classify(stray), Entry::Stray, "{stray}");
        }
        assert_eq!(classify("journal.log"), Entry::Journal);
    }

    #[test]
    fn temp_files_of_store_names_are_recognised() {
        assert_eq!(
            classify(".snapshot-00000007.mmcl.314.0.tmp"),
            Entry::Temp { pid: 314 }
        );
        assert_eq!(classify(".journal.log.9.12.tmp"), Entry::Temp { pid: 9 });
        assert_eq!(classify(".snapshot-7.mmcl.314.0.tmp"), Entry::Stray);
        assert_eq!(classify(".notes.txt.314.0.tmp"), Entry::Stray);
    }
}
