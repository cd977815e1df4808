//! `--like DIR`: the clips of real list files (`train.txt`, `val.txt`, `test.txt`), so a
//! synthetic dataset can mirror UESTC-MMEA-CL's clip names, labels, splits and durations.
//!
//! Lines are parsed by the dataset reader's own parser (`dataset::list`), so the
//! generator accepts exactly what `mmcl dataset check` accepts. It is stricter in one
//! way: a dataset reader skips a bad line, but every accepted line here becomes files,
//! so the first bad line refuses the whole list, as do empty or absurdly long clips.

use super::activity::ClassId;
use crate::dataset::layout::Split;
use crate::dataset::list::{list_path, ParsedLists};
use std::path::{Path, PathBuf};

/// Longest clip accepted: one hour at 25 Hz (the real clips last 7-37 s).
const MAX_ROWS: usize = 25 * 3600;

/// One clip of a list file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub class: ClassId,
    pub clip: String,
    pub rgb_frames: usize,
    pub sensor_rows: usize,
}

/// A list file that cannot be mirrored.
#[derive(Debug, thiserror::Error)]
pub enum LikeError {
    #[error("read list {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A line the dataset reader refuses (its error names the file and line).
    #[error(transparent)]
    List(#[from] crate::dataset::DatasetError),
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The entries of `dir`'s train, val and test lists, in file order.
pub fn read_lists(dir: &Path) -> Result<[Vec<ListEntry>; 3], LikeError> {
    let mut parsed = ParsedLists::new();
    for split in [Split::Train, Split::Val, Split::Test] {
        let path = list_path(dir, split);
        let bytes =
            crate::fsread::read(&path, crate::fsread::LIST).map_err(|error| LikeError::Io {
                path: path.clone(),
                error,
            })?;
        parsed.add_bytes(&path, split, &bytes);
        if let Some(e) = parsed.errors.drain(..).next() {
            return Err(e.into());
        }
    }
    let mut out: [Vec<ListEntry>; 3] = Default::default();
    for e in parsed.entries {
        let bad = |message: String| LikeError::Line {
            path: list_path(dir, e.split),
            line: e.line,
            message,
        };
        check_counts(e.num_frames, e.num_sensor_rows).map_err(bad)?;
        let class = ClassId::new(e.label as usize)
            .ok_or_else(|| bad(format!("label {}: expected 0..=31", e.label)))?;
        let slot = match e.split {
            Split::Train => 0,
            Split::Val => 1,
            Split::Test => 2,
        };
        out[slot].push(ListEntry {
            class,
            clip: e.clip,
            rgb_frames: e.num_frames,
            sensor_rows: e.num_sensor_rows,
        });
    }
    Ok(out)
}

/// Every count becomes rows or frames on disk: refuse empty clips and absurd lengths.
fn check_counts(rgb_frames: usize, sensor_rows: usize) -> Result<(), String> {
    if sensor_rows == 0 {
        return Err("num_sensor_rows 0: a clip needs at least one sensor row".into());
    }
    for (name, value) in [
        ("num_rgb_frames", rgb_frames),
        ("num_sensor_rows", sensor_rows),
    ] {
        if value > MAX_ROWS {
            return Err(format!(
                "{name} {value}: more than {MAX_ROWS} (one hour at 25 Hz)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(train: &str, test: &str) -> Result<[Vec<ListEntry>; 3], LikeError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.txt"), train).unwrap();
        std::fs::write(dir.path().join("val.txt"), "").unwrap();
        std::fs::write(dir.path().join("test.txt"), test).unwrap();
        read_lists(dir.path())
    }

    #[test]
    fn a_real_line_parses() {
        let [train, val, test] = lists(
            "yourdataset_path/data/27_open_close_door/27_open_close_door_2022_05_05_15_48_04 425 424 26\n",
            "d/2_downstairs/c2 5 5 1\n",
        )
        .unwrap();
        let e = &train[0];
        assert_eq!(e.class.label(), 26);
        assert_eq!(e.clip, "27_open_close_door_2022_05_05_15_48_04");
        assert_eq!((e.rgb_frames, e.sensor_rows), (425, 424));
        assert_eq!((val.len(), test.len()), (0, 1));
    }

    #[test]
    fn bad_lines_say_why_with_file_and_line() {
        let ok = "d/2_downstairs/c2 5 5 1\n";
        for (bad, why) in [
            ("a/1_upstairs/x 1 2", "got 3"),
            ("a/1_upstairs/x 1 two 0", "two"),
            ("a/1_upstairs/x 1 2 32", "32"),
            ("a/2_downstairs/x 1 2 0", "2_downstairs"),
            ("a/1_upstairs/x 1 0 0", "num_sensor_rows 0"),
        ] {
            let err = lists(&format!("{ok}{bad}\n"), "").unwrap_err().to_string();
            assert!(err.contains(why) && err.contains(":2"), "{bad}: {err}");
        }
    }

    #[test]
    fn lists_report_file_and_line_and_refuse_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let line = "d/1_upstairs/c1 10 10 0\n";
        std::fs::write(dir.path().join("train.txt"), line).unwrap();
        std::fs::write(dir.path().join("val.txt"), "\n").unwrap();
        std::fs::write(
            dir.path().join("test.txt"),
            format!("d/2_downstairs/c2 5 5 1\n{line}"),
        )
        .unwrap();
        let err = read_lists(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("test.txt:2") && err.contains("1_upstairs/c1"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("val.txt")).unwrap();
        let err = read_lists(dir.path()).unwrap_err().to_string();
        assert!(err.contains("val.txt"), "{err}");
    }
}
