//! The one error type of the dataset module. Every variant names the file (or
//! folder) it is about and, for line-oriented files, the 1-based line, so that
//! `dataset check` can report `{path, line, message}` without re-parsing text.
//! Text quoted from a file is cut to `EXCERPT_CHARS`, so a hostile 16 MB line
//! makes a short message, not a 16 MB one.

use crate::align::AlignError;
use std::path::{Path, PathBuf};

/// What went wrong reading one part of a UESTC-MMEA-CL root.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The message names the OS error (it is not also a `source`, which would
    /// make an error chain say it twice).
    #[error("{}: cannot {action}: {error}", .path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    #[error("{}: required {split} list is missing", .path.display())]
    MissingList { path: PathBuf, split: &'static str },
    #[error("{}:{line}: {problem} in `{text}`", .path.display())]
    ListLine {
        path: PathBuf,
        line: usize,
        /// The line as written (cut to `EXCERPT_CHARS`).
        text: String,
        problem: ListProblem,
    },
    #[error("{}:{line}: {problem}", .path.display())]
    SensorRow {
        path: PathBuf,
        line: usize,
        problem: RowProblem,
    },
    #[error("{}: sensor file has no rows", .path.display())]
    EmptySensor { path: PathBuf },
    #[error("{}: {problem}", .path.display())]
    Frames {
        path: PathBuf,
        problem: FramesProblem,
    },
    /// One frame file.
    #[error("{}: {problem}", .path.display())]
    Frame {
        path: PathBuf,
        problem: FrameProblem,
    },
    #[error("{}: {source}", .path.display())]
    FrameSize {
        path: PathBuf,
        #[source]
        source: crate::sample::FrameSizeError,
    },
    #[error("{}: {message}", .path.display())]
    Mp4 { path: PathBuf, message: String },
    #[error("{}: clip {clip} is an .mp4 but mmcl was built without the `mp4` feature", .path.display())]
    Mp4Disabled { path: PathBuf, clip: String },
    #[error("{}: frame index {index} is out of range (the clip has {len} frames)", .path.display())]
    FrameIndex {
        path: PathBuf,
        index: usize,
        len: usize,
    },
    #[error("{}: has {found} {unit}, but {listed_at} lists {field} = {listed}", .path.display())]
    CountMismatch {
        path: PathBuf,
        /// What was counted: "rows" or "frames".
        unit: &'static str,
        found: usize,
        /// `list file:line` of the clip's entry.
        listed_at: String,
        field: &'static str,
        listed: usize,
    },
    /// The tail of a long list of problems in one file: `dataset check` reports the
    /// first few of a kind in full and counts the rest here.
    #[error("{}: and {count} more {what}", .path.display())]
    More {
        path: PathBuf,
        count: usize,
        /// What was not listed: "bad rows", "bad frames".
        what: &'static str,
    },
    /// A clip as a whole, reported at its list line.
    #[error("{}:{line}: clip {clip} {problem}", .path.display())]
    Clip {
        /// The list file.
        path: PathBuf,
        line: usize,
        clip: String,
        problem: ClipProblem,
    },
}

impl DatasetError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DatasetError::Io { path, .. }
            | DatasetError::MissingList { path, .. }
            | DatasetError::ListLine { path, .. }
            | DatasetError::SensorRow { path, .. }
            | DatasetError::EmptySensor { path }
            | DatasetError::Frames { path, .. }
            | DatasetError::Frame { path, .. }
            | DatasetError::FrameSize { path, .. }
            | DatasetError::Mp4 { path, .. }
            | DatasetError::Mp4Disabled { path, .. }
            | DatasetError::FrameIndex { path, .. }
            | DatasetError::CountMismatch { path, .. }
            | DatasetError::More { path, .. }
            | DatasetError::Clip { path, .. } => path,
        }
    }

    /// The 1-based line the error is on; `None` for whole-file errors.
    pub fn line(&self) -> Option<usize> {
        match self {
            DatasetError::ListLine { line, .. }
            | DatasetError::SensorRow { line, .. }
            | DatasetError::Clip { line, .. } => Some(*line),
            _ => None,
        }
    }

    pub(crate) fn io(path: &Path, action: &'static str, error: std::io::Error) -> DatasetError {
        DatasetError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }
}

/// The most characters of a file's text an error quotes.
pub const EXCERPT_CHARS: usize = 80;

/// `text` cut to `EXCERPT_CHARS` characters, with `...` when it was longer.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// Why one list line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListProblem {
    #[error("expected 4 fields `<path> <num_rgb_frames> <num_sensor_rows> <label>`, got {got}")]
    FieldCount { got: usize },
    #[error("{field} `{value}` is not a non-negative integer")]
    NotInteger { field: &'static str, value: String },
    #[error("{field} {value} is over {max}, a day of recording at 25 Hz")]
    CountTooLarge {
        field: &'static str,
        value: usize,
        max: usize,
    },
    #[error("label {label} is out of range 0..{classes}")]
    LabelOutOfRange { label: i64, classes: usize },
    #[error("label {label} does not match class folder `{class_dir}` (label {expected})")]
    LabelMismatch {
        label: usize,
        class_dir: String,
        expected: usize,
    },
    #[error("class folder `{class_dir}` is not `<n>_<name>` with n in 1..=65536 (label n - 1)")]
    UnknownClass { class_dir: String },
    #[error("path has a `..` component, which could escape the dataset root")]
    ParentComponent,
    #[error("path needs at least `<class folder>/<clip>`, got {parts} part(s)")]
    TooShort { parts: usize },
    #[error("path part `{part}` is not a plain file name")]
    NotAName { part: String },
    #[error("clip {id} is listed twice (first at {first})")]
    Duplicate { id: String, first: String },
    #[error("line is not UTF-8 text (invalid byte at column {column})")]
    NotUtf8 { column: usize },
}

/// Why one sensor CSV row was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("expected 6 comma-separated columns (acc x y z, gyro x y z), got {got}")]
    ColumnCount { got: usize },
    #[error("column {column}: `{cell}` is not a number")]
    NotNumeric { column: usize, cell: String },
    #[error("column {column}: `{cell}` is not finite")]
    NotFinite { column: usize, cell: String },
    #[error("column {column}: `{cell}` is outside ±{max}, beyond any raw sensor count (a 16-bit MPU reads ±32768)")]
    OutOfRange {
        column: usize,
        cell: String,
        max: u32,
    },
    #[error("row is {bytes} bytes long, over the {max}-byte limit of a row")]
    TooLong { bytes: usize, max: usize },
    #[error("row is not UTF-8 text (invalid byte at column {column})")]
    NotUtf8 { column: usize },
}

/// Why a clip's frame folder was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramesProblem {
    #[error("no frames (`img_000001.jpg` or `000001.jpg`)")]
    Empty,
    #[error("mixes `img_%06d.jpg` ({prefixed} files) and `%06d.jpg` ({bare} files) naming")]
    MixedNaming { prefixed: usize, bare: usize },
    #[error("frame file {missing} is missing: frames must run 1..={last} without gaps")]
    Gap { missing: String, last: usize },
}

/// Why one frame file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameProblem {
    #[error("unreadable JPEG header: {0}")]
    Header(String),
    #[error("is truncated: it does not end with the JPEG end-of-image marker")]
    Truncated,
    #[error("is {width}x{height}, over the {max_pixels}-pixel limit of a frame")]
    TooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("is {bytes} bytes, too few for a {width}x{height} JPEG (at least {min_bytes}): its header lies")]
    TooSmall {
        width: u32,
        height: u32,
        bytes: u64,
        min_bytes: u64,
    },
    #[error("cannot decode: {0}")]
    Decode(String),
    #[error("is {got_w}x{got_h} but frame 1 is {first_w}x{first_h}")]
    SizeChange {
        got_w: u32,
        got_h: u32,
        first_w: u32,
        first_h: u32,
    },
}

/// Why a clip as a whole cannot be encoded.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ClipProblem {
    #[error("has no files: no frame folder, no .mp4 and no sensor file")]
    NoFiles,
    #[error(
        "({seconds:.2} s) has no window of the encoder's {window_seconds} s with video or IMU"
    )]
    NoWindow { seconds: f64, window_seconds: f64 },
    #[error("cannot be cut into windows: {0}")]
    Align(AlignError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_text_on_a_character_boundary() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(EXCERPT_CHARS + 5);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 3);
        assert!(cut.ends_with("é..."));
    }

    #[test]
    fn io_errors_name_their_cause_once() {
        let e = DatasetError::io(
            Path::new("x.csv"),
            "read sensor file",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(
            e.to_string(),
            "x.csv: cannot read sensor file: entity not found"
        );
    }
}
