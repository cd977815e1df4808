//! Split list files: `<path> <num_rgb_frames> <num_sensor_rows> <label>` per line.
//!
//! The list's path prefix was written on the dataset authors' machine
//! (`yourdataset_path/data/...`), so only its last two parts, `<k_name>/<clip>`,
//! are kept and joined to the root by `layout`. Everything a line claims is
//! checked here once: a `ClipEntry` always names a class folder `<n>_<name>`
//! (UESTC-MMEA-CL's or the user's own) whose number n is its label + 1, two plain
//! path parts that cannot leave the root, and counts of at most `MAX_LISTED` (the
//! clip's duration comes from them, so a hostile count would make every reader plan
//! billions of windows). A line that is not UTF-8 is refused rather than read lossily
//! into a name no file has. A bad line is reported and skipped; the good lines around
//! it are kept.

use super::error::{excerpt, DatasetError, ListProblem, EXCERPT_CHARS};
use super::layout::{class_label, Split, MAX_CLASSES};
use crate::learn::ClassId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The largest `num_rgb_frames` / `num_sensor_rows` accepted: a day at 25 Hz
/// (UESTC-MMEA-CL's clips last 7-37 s).
pub const MAX_LISTED: usize = 25 * 3600 * 24;

/// One valid list line: a clip of the dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipEntry {
    pub split: Split,
    /// 1-based line in the split's list file, so later errors can point back to it.
    pub line: usize,
    /// The class folder `<n>_<name>`: the class's name in this data set.
    pub class_dir: String,
    /// The clip's name inside the class folder (frame folder, `.mp4` and `.csv` stem).
    pub clip: String,
    /// `class_dir`'s number - 1.
    pub label: ClassId,
    /// `num_rgb_frames` as listed (`dataset check` compares it with the files).
    pub num_frames: usize,
    /// `num_sensor_rows` as listed; also the timing base (see `clip`).
    pub num_sensor_rows: usize,
}

impl ClipEntry {
    /// The stable clip id `<k_name>/<clip>`, independent of the root.
    pub fn id(&self) -> String {
        format!("{}/{}", self.class_dir, self.clip)
    }
}

/// The good entries of one or more list files, and one error per refused line.
#[derive(Debug, Default)]
pub struct ParsedLists {
    pub entries: Vec<ClipEntry>,
    pub errors: Vec<DatasetError>,
    /// Where each clip id was first listed (an index into `files`, and a line):
    /// duplicates are refused across files too, because a clip in both train and
    /// test would leak test data into training.
    first_seen: HashMap<String, (usize, usize)>,
    /// The files added so far, so `first_seen` need not repeat a path per clip.
    files: Vec<PathBuf>,
}

impl ParsedLists {
    pub fn new() -> ParsedLists {
        ParsedLists::default()
    }

    /// Parses one list file's text, appending its entries and errors.
    pub fn add(&mut self, path: &Path, split: Split, text: &str) {
        self.add_bytes(path, split, text.as_bytes());
    }

    /// Parses one list file's bytes, appending its entries and errors; a line that
    /// is not UTF-8 is an error of its own.
    pub fn add_bytes(&mut self, path: &Path, split: Split, bytes: &[u8]) {
        for (line, text) in crate::fsread::lines(bytes) {
            let parsed = match text {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => self.entry(path, split, line, text.trim()),
                Err(bad) => {
                    // Quote only the start: the line may be megabytes long.
                    let head = &bad.raw[..bad.raw.len().min(4 * EXCERPT_CHARS)];
                    let text = String::from_utf8_lossy(head).trim().to_string();
                    let column = bad.offset + 1;
                    Err((text, ListProblem::NotUtf8 { column }))
                }
            };
            match parsed {
                Ok(entry) => self.entries.push(entry),
                Err((text, problem)) => self.errors.push(DatasetError::ListLine {
                    path: path.to_path_buf(),
                    line,
                    text: excerpt(&text),
                    problem,
                }),
            }
        }
    }

    /// The entry of one non-blank, trimmed line, or its text and problem.
    fn entry(
        &mut self,
        path: &Path,
        split: Split,
        line: usize,
        text: &str,
    ) -> Result<ClipEntry, (String, ListProblem)> {
        parse_line(split, line, text)
            .and_then(|e| self.claim(path, e))
            .map_err(|problem| (excerpt(text), problem))
    }

    /// Records `entry`'s id, refusing it if an earlier line already listed it.
    fn claim(&mut self, path: &Path, entry: ClipEntry) -> Result<ClipEntry, ListProblem> {
        let id = entry.id();
        if let Some(&(file, line)) = self.first_seen.get(&id) {
            let first = self
                .files
                .get(file)
                .map_or(String::new(), |f| format!("{}:{line}", f.display()));
            return Err(ListProblem::Duplicate { id, first });
        }
        if self.files.last().map(PathBuf::as_path) != Some(path) {
            self.files.push(path.to_path_buf());
        }
        let file = self.files.len() - 1;
        self.first_seen.insert(id, (file, entry.line));
        Ok(entry)
    }
}

/// Parses one list file on its own (duplicates checked within the file only).
pub fn parse_list(path: &Path, split: Split, text: &str) -> ParsedLists {
    let mut parsed = ParsedLists::new();
    parsed.add(path, split, text);
    parsed
}

/// Checks one non-blank, trimmed line into an entry.
fn parse_line(split: Split, line: usize, text: &str) -> Result<ClipEntry, ListProblem> {
    // At most 4 fields are kept: a hostile line of millions of fields is only counted.
    let mut words = text.split_whitespace();
    let fields: Vec<&str> = words.by_ref().take(4).collect();
    let extra = words.count();
    let [path, frames, rows, label] = fields[..] else {
        return Err(ListProblem::FieldCount { got: fields.len() });
    };
    if extra > 0 {
        return Err(ListProblem::FieldCount { got: 4 + extra });
    }
    let (class_dir, clip) = clip_parts(path)?;
    let num_frames = count(frames, "num_rgb_frames")?;
    let num_sensor_rows = count(rows, "num_sensor_rows")?;
    let label = check_label(label, class_dir)?;
    Ok(ClipEntry {
        split,
        line,
        class_dir: class_dir.to_string(),
        clip: clip.to_string(),
        label,
        num_frames,
        num_sensor_rows,
    })
}

/// The last two parts of a list path, each a plain name that stays under the root.
fn clip_parts(path: &str) -> Result<(&str, &str), ListProblem> {
    // Both separators: lists written on Windows use `\`. Parts are walked, never
    // collected, so a path of a million slashes costs no memory.
    let separators = ['/', '\\'];
    let path = path.trim_end_matches(separators);
    if path.split(separators).any(|part| part == "..") {
        return Err(ListProblem::ParentComponent);
    }
    let mut last = path.rsplit(separators);
    let (Some(clip), Some(class_dir)) = (last.next(), last.next()) else {
        let parts = path.split(separators).count();
        return Err(ListProblem::TooShort { parts });
    };
    for part in [class_dir, clip] {
        if !is_plain_name(part) {
            return Err(ListProblem::NotAName {
                part: excerpt(part),
            });
        }
    }
    Ok((class_dir, clip))
}

/// A single normal path component: not empty, not `.`, no drive or root prefix.
fn is_plain_name(part: &str) -> bool {
    let mut components = Path::new(part).components();
    matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) && !part.contains(':')
        && !part.contains('\0')
}

fn count(value: &str, field: &'static str) -> Result<usize, ListProblem> {
    let n = value
        .parse::<usize>()
        .map_err(|_| ListProblem::NotInteger {
            field,
            value: excerpt(value),
        })?;
    if n > MAX_LISTED {
        return Err(ListProblem::CountTooLarge {
            field,
            value: n,
            max: MAX_LISTED,
        });
    }
    Ok(n)
}

/// The label as listed, checked against the range and against the class folder.
fn check_label(value: &str, class_dir: &str) -> Result<ClassId, ListProblem> {
    let label: i64 = value.parse().map_err(|_| ListProblem::NotInteger {
        field: "label",
        value: excerpt(value),
    })?;
    let classes = MAX_CLASSES;
    let in_range = usize::try_from(label).ok().filter(|l| *l < classes);
    let Some(label) = in_range else {
        return Err(ListProblem::LabelOutOfRange { label, classes });
    };
    let Some(expected) = class_label(class_dir) else {
        return Err(ListProblem::UnknownClass {
            class_dir: class_dir.to_string(),
        });
    };
    if label != expected {
        return Err(ListProblem::LabelMismatch {
            label,
            class_dir: class_dir.to_string(),
            expected,
        });
    }
    // `label < MAX_CLASSES`, so the conversion cannot fail; the fallback keeps this panic-free.
    Ok(ClassId::try_from(label).unwrap_or(ClassId::MAX))
}

/// The list file of `split` under `root`.
pub fn list_path(root: &Path, split: Split) -> PathBuf {
    super::layout::list_path(root, split.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<ClipEntry, ListProblem> {
        let parsed = parse_list(Path::new("train.txt"), Split::Train, text);
        match (parsed.entries.first(), parsed.errors.first()) {
            (Some(e), None) => Ok(e.clone()),
            (None, Some(DatasetError::ListLine { problem, .. })) => Err(problem.clone()),
            other => panic!("expected one entry or one list error, got {other:?}"),
        }
    }

    #[test]
    fn remaps_prefix_to_last_two_parts() {
        let e = one("yourdataset_path/data/3_drinking/3_drinking_2022 418 419 2").unwrap();
        assert_eq!(
            (e.class_dir.as_str(), e.clip.as_str()),
            ("3_drinking", "3_drinking_2022")
        );
        assert_eq!(
            (e.label, e.num_frames, e.num_sensor_rows, e.line),
            (2, 418, 419, 1)
        );
        assert_eq!(e.id(), "3_drinking/3_drinking_2022");
        let e = one("/abs/prefix/1_upstairs/c1/ 5 6 0\r\n").unwrap();
        assert_eq!(e.clip, "c1");
        assert_eq!(
            one("C:\\data\\1_upstairs\\c1 5 6 0").unwrap().class_dir,
            "1_upstairs"
        );
    }

    #[test]
    fn refuses_each_bad_field() {
        assert_eq!(
            one("1_upstairs/c 5 6"),
            Err(ListProblem::FieldCount { got: 3 })
        );
        assert_eq!(
            one("1_upstairs/c 5 6 0 9"),
            Err(ListProblem::FieldCount { got: 5 })
        );
        let nf = ListProblem::NotInteger {
            field: "num_rgb_frames",
            value: "5.5".into(),
        };
        assert_eq!(one("1_upstairs/c 5.5 6 0"), Err(nf));
        let ns = ListProblem::NotInteger {
            field: "num_sensor_rows",
            value: "-6".into(),
        };
        assert_eq!(one("1_upstairs/c 5 -6 0"), Err(ns));
        assert_eq!(
            one("1_upstairs/c 5 6 65536"),
            Err(ListProblem::LabelOutOfRange {
                label: 65536,
                classes: MAX_CLASSES
            })
        );
        assert_eq!(
            one("1_upstairs/c 5 6 -1"),
            Err(ListProblem::LabelOutOfRange {
                label: -1,
                classes: MAX_CLASSES
            })
        );
        let mismatch = ListProblem::LabelMismatch {
            label: 3,
            class_dir: "1_upstairs".into(),
            expected: 0,
        };
        assert_eq!(one("1_upstairs/c 5 6 3"), Err(mismatch));
        for folder in ["flying", "0_flying", "07_flying", "7_", "-1_x", "65537_x"] {
            assert_eq!(
                one(&format!("{folder}/c 5 6 0")),
                Err(ListProblem::UnknownClass {
                    class_dir: folder.into()
                })
            );
        }
    }

    #[test]
    fn a_users_own_class_folders_give_their_labels() {
        let e = one("me/1_standing/c 5 6 0").unwrap();
        assert_eq!((e.label, e.class_dir.as_str()), (0, "1_standing"));
        assert_eq!(one("40_juggling/c 5 6 39").unwrap().label, 39);
        assert_eq!(
            one("99_flying/c 5 6 0"),
            Err(ListProblem::LabelMismatch {
                label: 0,
                class_dir: "99_flying".into(),
                expected: 98
            })
        );
    }

    #[test]
    fn refuses_paths_that_leave_the_root() {
        assert_eq!(
            one("x/../1_upstairs/c 5 6 0"),
            Err(ListProblem::ParentComponent)
        );
        assert_eq!(
            one("1_upstairs/.. 5 6 0"),
            Err(ListProblem::ParentComponent)
        );
        assert_eq!(one("clip 5 6 0"), Err(ListProblem::TooShort { parts: 1 }));
        assert_eq!(
            one("1_upstairs//c 5 6 0").unwrap_err(),
            ListProblem::NotAName {
                part: String::new()
            }
        );
        assert_eq!(
            one("/c 5 6 0").unwrap_err(),
            ListProblem::NotAName {
                part: String::new()
            }
        );
        assert_eq!(
            one("1_upstairs/. 5 6 0").unwrap_err(),
            ListProblem::NotAName { part: ".".into() }
        );
        assert_eq!(
            one("d/C:c 5 6 0").unwrap_err(),
            ListProblem::NotAName { part: "C:c".into() }
        );
    }

    #[test]
    fn keeps_good_lines_around_bad_ones_and_refuses_duplicates() {
        let text =
            "\n1_upstairs/a 1 1 0   \n  \nbad line\n1_upstairs/b 2 2 0\n1_upstairs/a 3 3 0\n";
        let parsed = parse_list(Path::new("l.txt"), Split::Val, text);
        let lines: Vec<usize> = parsed.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 5]);
        let errs: Vec<(Option<usize>, String)> = parsed
            .errors
            .iter()
            .map(|e| (e.line(), e.to_string()))
            .collect();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].0, Some(4));
        assert!(
            errs[0].1.starts_with("l.txt:4: expected 4 fields"),
            "{}",
            errs[0].1
        );
        assert_eq!(errs[1].0, Some(6));
        assert!(
            errs[1].1.contains("listed twice (first at l.txt:2)"),
            "{}",
            errs[1].1
        );
    }

    #[test]
    fn refuses_duplicates_across_lists() {
        let mut parsed = ParsedLists::new();
        parsed.add(Path::new("train.txt"), Split::Train, "1_upstairs/a 1 1 0");
        parsed.add(Path::new("test.txt"), Split::Test, "1_upstairs/a 1 1 0");
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.errors[0].path(), Path::new("test.txt"));
    }
}
