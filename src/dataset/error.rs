//! The one error type of the dataset module. Every variant names the file (or
//! folder) it is about and, for line-oriented files, the 1-based line, so that
//! `dataset check` can report `{path, line, message}` without re-parsing text.

use std::path::{Path, PathBuf};

/// What went wrong reading one part of a UESTC-MMEA-CL root.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: required {split} list is missing", .path.display())]
    MissingList { path: PathBuf, split: &'static str },
    #[error("{}:{line}: {problem} in `{text}`", .path.display())]
    ListLine {
        path: PathBuf,
        line: usize,
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
    #[error("{}: cannot decode frame: {source}", .path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
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
            | DatasetError::Decode { path, .. }
            | DatasetError::FrameSize { path, .. }
            | DatasetError::Mp4 { path, .. }
            | DatasetError::Mp4Disabled { path, .. }
            | DatasetError::FrameIndex { path, .. }
            | DatasetError::CountMismatch { path, .. } => path,
        }
    }

    /// The 1-based line the error is on; `None` for whole-file errors.
    pub fn line(&self) -> Option<usize> {
        match self {
            DatasetError::ListLine { line, .. } | DatasetError::SensorRow { line, .. } => {
                Some(*line)
            }
            _ => None,
        }
    }

    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> DatasetError {
        DatasetError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// Why one list line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListProblem {
    #[error("expected 4 fields `<path> <num_rgb_frames> <num_sensor_rows> <label>`, got {got}")]
    FieldCount { got: usize },
    #[error("{field} `{value}` is not a non-negative integer")]
    NotInteger { field: &'static str, value: String },
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
    #[error("frame {file}: unreadable JPEG header: {reason}")]
    Header { file: String, reason: String },
    #[error("frame {file} is {got_w}x{got_h} but frame 1 is {first_w}x{first_h}")]
    SizeChange {
        file: String,
        got_w: u32,
        got_h: u32,
        first_w: u32,
        first_h: u32,
    },
}
