//! `--like DIR`: the clips of real list files (`train.txt`, `val.txt`, `test.txt`), so a
//! synthetic dataset can mirror UESTC-MMEA-CL's clip names, labels, splits and durations.
//!
//! This is a minimal reader of list lines (`<path> <num_rgb_frames> <num_sensor_rows>
//! <label>`) for the generator only; it is stricter than a dataset reader needs to be,
//! because every accepted line becomes files: the class folder must be the label's, the
//! clip name must be a plain file name, and no clip may appear twice.

use super::activity::ClassId;
use crate::dataset::layout::{list_path, SPLITS};
use std::collections::HashSet;
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
    #[error("read list {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The entries of `dir`'s train, val and test lists, in file order.
pub fn read_lists(dir: &Path) -> Result<[Vec<ListEntry>; 3], LikeError> {
    let mut seen = HashSet::new();
    let mut out: [Vec<ListEntry>; 3] = Default::default();
    for (split, entries) in SPLITS.iter().zip(out.iter_mut()) {
        let path = list_path(dir, split);
        let text = std::fs::read_to_string(&path).map_err(|source| LikeError::Io {
            path: path.clone(),
            source,
        })?;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |message: String| LikeError::Line {
                path: path.clone(),
                line: i + 1,
                message,
            };
            let entry = parse_line(line).map_err(bad)?;
            if !seen.insert((entry.class, entry.clip.clone())) {
                return Err(bad(format!(
                    "clip {}/{} is listed twice",
                    entry.class.name(),
                    entry.clip
                )));
            }
            entries.push(entry);
        }
    }
    Ok(out)
}

/// One list line, or why it is refused.
pub fn parse_line(line: &str) -> Result<ListEntry, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [path, rgb, rows, label] = fields[..] else {
        return Err(format!(
            "expected 4 fields `<path> <num_rgb_frames> <num_sensor_rows> <label>`, got {}",
            fields.len()
        ));
    };
    let number = |name: &str, text: &str| {
        text.parse::<usize>()
            .map_err(|e| format!("{name} `{text}`: {e}"))
    };
    let (rgb_frames, sensor_rows, label) = (
        number("num_rgb_frames", rgb)?,
        number("num_sensor_rows", rows)?,
        number("label", label)?,
    );
    let class = ClassId::new(label).ok_or_else(|| format!("label {label}: expected 0..=31"))?;
    let clip = clip_name(path, class)?;
    check_counts(rgb_frames, sensor_rows)?;
    Ok(ListEntry {
        class,
        clip: clip.to_string(),
        rgb_frames,
        sensor_rows,
    })
}

/// The clip name of a list path whose class folder must be `class`'s.
fn clip_name(path: &str, class: ClassId) -> Result<&str, String> {
    let mut parts = path.rsplit(['/', '\\']);
    let (clip, folder) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if folder != class.name() {
        return Err(format!(
            "class folder `{folder}` does not match label {} (expected `{}`)",
            class.label(),
            class.name()
        ));
    }
    if clip.is_empty() || clip == "." || clip == ".." {
        return Err(format!("clip name `{clip}` in `{path}` is not a file name"));
    }
    Ok(clip)
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

    #[test]
    fn a_real_line_parses() {
        let e = parse_line("yourdataset_path/data/27_open_close_door/27_open_close_door_2022_05_05_15_48_04 425 424 26").unwrap();
        assert_eq!(e.class.label(), 26);
        assert_eq!(e.clip, "27_open_close_door_2022_05_05_15_48_04");
        assert_eq!((e.rgb_frames, e.sensor_rows), (425, 424));
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(parse_line("a/1_upstairs/x 1 2")
            .unwrap_err()
            .contains("got 3"));
        assert!(parse_line("a/1_upstairs/x 1 two 0")
            .unwrap_err()
            .contains("num_sensor_rows `two`"));
        assert!(parse_line("a/1_upstairs/x 1 2 32")
            .unwrap_err()
            .contains("label 32"));
        assert!(parse_line("a/2_downstairs/x 1 2 0")
            .unwrap_err()
            .contains("expected `1_upstairs`"));
        assert!(parse_line("1_upstairs/.. 1 2 0")
            .unwrap_err()
            .contains("not a file name"));
        assert!(parse_line("a/1_upstairs/x 1 0 0")
            .unwrap_err()
            .contains("num_sensor_rows 0"));
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
            err.ends_with("test.txt:2: clip 1_upstairs/c1 is listed twice"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("val.txt")).unwrap();
        let err = read_lists(dir.path()).unwrap_err().to_string();
        assert!(err.contains("val.txt"), "{err}");
    }
}
