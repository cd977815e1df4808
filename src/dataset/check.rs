//! `dataset check`: counts clips, missing modalities, frames and sensor rows per
//! split and clips per class, and lists every malformed list line or file.
//!
//! It is built to run over the full dataset (~6500 clips, millions of frames)
//! in reasonable time: sensor files are parsed (they are small), frame folders
//! are listed and every frame's JPEG *header* is read, `.mp4`s are opened at
//! the container header; nothing is decoded. Clips are spread over threads;
//! the report is in list order whatever the thread count. A build without the
//! `mp4` feature reports each `.mp4` clip as an error: it could not read them.

use super::clip::{Clip, Dataset};
use super::error::DatasetError;
use super::layout::{Split, CLASS_NAMES};
use super::sensor::read_sensor_csv;
use super::video::VideoStorage;
use serde::Serialize;
use std::path::Path;

/// The report, in the JSON shape DESIGN.md pins for `mmcl dataset check --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub root: String,
    pub splits: SplitReports,
    /// All 32 classes, by label.
    pub classes: Vec<ClassReport>,
    pub errors: Vec<ErrorReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitReports {
    pub train: SplitReport,
    pub val: SplitReport,
    pub test: SplitReport,
}

impl SplitReports {
    pub fn get(&self, split: Split) -> &SplitReport {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
            Split::Test => &self.test,
        }
    }

    fn get_mut(&mut self, split: Split) -> &mut SplitReport {
        match split {
            Split::Train => &mut self.train,
            Split::Val => &mut self.val,
            Split::Test => &mut self.test,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SplitReport {
    /// Whether the split's list file exists (only val may be absent).
    pub list_found: bool,
    /// Valid list lines.
    pub clips: usize,
    /// Clips with neither a frame folder nor an `.mp4` (IMU-only).
    pub missing_video: usize,
    /// Clips without a sensor file (video-only).
    pub missing_sensor: usize,
    /// Frames found in the clips' folders / `.mp4`s (readable ones).
    pub frames: usize,
    /// Rows found in the clips' sensor files (readable ones).
    pub sensor_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassReport {
    pub label: usize,
    /// The class folder the lists use for this label (a user's own name), else the
    /// UESTC-MMEA-CL one.
    pub name: String,
    /// Valid clips over all splits.
    pub clips: usize,
}

/// One problem: the file it is in, the 1-based line (`null` for whole-file
/// problems) and a message that also names the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl From<&DatasetError> for ErrorReport {
    fn from(e: &DatasetError) -> ErrorReport {
        ErrorReport {
            path: e.path().display().to_string(),
            line: e.line(),
            message: e.to_string(),
        }
    }
}

/// What checking one clip found.
#[derive(Debug, Default)]
struct ClipFindings {
    has_video: bool,
    has_sensor: bool,
    frames: usize,
    sensor_rows: usize,
    errors: Vec<DatasetError>,
}

/// Checks the dataset at `root` on all available cores.
pub fn check(root: &Path) -> Result<CheckReport, DatasetError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    check_with_workers(root, workers)
}

/// Checks the dataset at `root` with `workers` threads (at least one). Errors only
/// when the lists cannot be read at all (see `Dataset::open`); everything else
/// lands in the report's `errors`.
pub fn check_with_workers(root: &Path, workers: usize) -> Result<CheckReport, DatasetError> {
    let dataset = Dataset::open(root)?;
    let findings = check_clips(dataset.clips(), workers.max(1));
    Ok(build_report(&dataset, &findings))
}

/// Checks clips in contiguous chunks, one per thread, keeping list order.
fn check_clips(clips: &[Clip], workers: usize) -> Vec<ClipFindings> {
    let chunk = clips.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = clips
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(check_clip).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn check_clip(clip: &Clip) -> ClipFindings {
    let mut found = ClipFindings::default();
    check_sensor(clip, &mut found);
    check_video(clip, &mut found);
    found
}

fn check_sensor(clip: &Clip, found: &mut ClipFindings) {
    let path = clip.sensor_path();
    if !path.is_file() {
        return;
    }
    found.has_sensor = true;
    match read_sensor_csv(&path) {
        Ok(rows) => {
            found.sensor_rows = rows.len();
            let listed = clip.entry().num_sensor_rows;
            if rows.len() != listed {
                found.errors.push(mismatch(
                    clip,
                    &path,
                    "rows",
                    rows.len(),
                    "num_sensor_rows",
                    listed,
                ));
            }
        }
        Err(e) => found.errors.push(e),
    }
}

fn check_video(clip: &Clip, found: &mut ClipFindings) {
    let storage = match clip.video_storage() {
        Ok(Some(storage)) => storage,
        Ok(None) => return,
        Err(e) => {
            found.has_video = true;
            found.errors.push(e);
            return;
        }
    };
    found.has_video = true;
    let (path, len) = match &storage {
        VideoStorage::Frames(folder) => {
            if let Err(e) = folder.check_headers() {
                found.errors.push(e);
            }
            (folder.dir().to_path_buf(), folder.len())
        }
        VideoStorage::Mp4(video) => (video.path().to_path_buf(), video.len()),
    };
    found.frames = len;
    let listed = clip.entry().num_frames;
    if len != listed {
        found.errors.push(mismatch(
            clip,
            &path,
            "frames",
            len,
            "num_rgb_frames",
            listed,
        ));
    }
}

fn mismatch(
    clip: &Clip,
    path: &Path,
    unit: &'static str,
    found: usize,
    field: &'static str,
    listed: usize,
) -> DatasetError {
    DatasetError::CountMismatch {
        path: path.to_path_buf(),
        unit,
        found,
        listed_at: clip.listed_at(),
        field,
        listed,
    }
}

/// Counts a clip of `label` (folder `name`): the 32 known rows take the dataset's own name
/// for their label; a label past them gets its own row, in label order.
fn count_class(classes: &mut Vec<ClassReport>, label: usize, name: &str) {
    let at = classes.partition_point(|c| c.label < label);
    match classes.get_mut(at).filter(|c| c.label == label) {
        Some(class) => {
            if class.clips == 0 {
                class.name = name.to_string();
            }
            class.clips += 1;
        }
        None => classes.insert(
            at,
            ClassReport {
                label,
                name: name.to_string(),
                clips: 1,
            },
        ),
    }
}

fn build_report(dataset: &Dataset, findings: &[ClipFindings]) -> CheckReport {
    let mut splits = SplitReports {
        train: SplitReport::default(),
        val: SplitReport::default(),
        test: SplitReport::default(),
    };
    for split in Split::ALL {
        splits.get_mut(split).list_found = dataset.has_split(split);
    }
    let mut classes: Vec<ClassReport> = CLASS_NAMES
        .iter()
        .enumerate()
        .map(|(label, &name)| ClassReport {
            label,
            name: name.to_string(),
            clips: 0,
        })
        .collect();
    let mut errors: Vec<ErrorReport> = dataset
        .list_errors()
        .iter()
        .map(ErrorReport::from)
        .collect();
    for (clip, found) in dataset.clips().iter().zip(findings) {
        let split = splits.get_mut(clip.split());
        split.clips += 1;
        split.missing_video += usize::from(!found.has_video);
        split.missing_sensor += usize::from(!found.has_sensor);
        split.frames += found.frames;
        split.sensor_rows += found.sensor_rows;
        count_class(&mut classes, clip.label() as usize, clip.class_name());
        errors.extend(found.errors.iter().map(ErrorReport::from));
    }
    CheckReport {
        root: dataset.root().display().to_string(),
        splits,
        classes,
        errors,
    }
}
