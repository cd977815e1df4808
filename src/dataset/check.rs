//! `dataset check`: counts clips, missing modalities, frames and sensor rows per
//! split and clips per class, and lists every malformed list line or file.
//!
//! It reads through the same functions the encoder's reader uses (`Clip`,
//! `sensor::scan_sensor_file`, `decode::check_frame_file`, `windows`), so it
//! refuses what they refuse: a list line with no files, a path that is a FIFO, a
//! symlink loop or a device, a truncated or oversized frame, an out-of-range
//! sensor value. Every bad row of a sensor file and every bad frame of a folder is
//! reported (the first ten, then a count), and the report lists at most
//! `REPORTED_ERRORS` problems, then a count of the rest, so a hostile list of
//! millions of bad lines makes a short report. Given the encoder's `ReadSpec`, each
//! clip is also planned into the encoder's windows and the frames those windows
//! take are decoded, exactly as `embed` will: a report without errors then means
//! `embed` reads every clip it counted.
//!
//! It is built to run over the full dataset (~6500 clips, millions of frames) in
//! reasonable time: sensor files are parsed (they are small), every frame's JPEG
//! header and last bytes are read, and only the frames the windows sample are
//! decoded; `.mp4`s are opened at the container header and, with a `ReadSpec`,
//! decoded up to the last sampled frame. Clips are spread over threads; the
//! report is in list order whatever the thread count. A build without the `mp4`
//! feature reports each `.mp4` clip as an error: it could not read them.

use super::clip::{Clip, Dataset};
use super::error::{ClipProblem, DatasetError};
use super::layout::{Split, CLASS_NAMES};
use super::sensor::scan_sensor_file;
use super::video::VideoStorage;
use super::windows::{clip_error, plan_clip, ReadSpec};
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

/// The most problems a report lists; the rest are counted in a last entry.
pub const REPORTED_ERRORS: usize = 1000;

/// What checking one clip found.
#[derive(Debug, Default)]
struct ClipFindings {
    has_video: bool,
    has_sensor: bool,
    frames: usize,
    sensor_rows: usize,
    errors: Vec<DatasetError>,
    /// Errors found but not kept: their worker had already kept `REPORTED_ERRORS`.
    dropped: usize,
}

/// How `check_with` checks a dataset.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Threads (0 = all cores).
    pub workers: usize,
    /// The encoder's reading of a clip: when given, clips are also planned into its
    /// windows and the frames those take are decoded (what `embed` will do).
    pub read: Option<ReadSpec>,
}

/// Checks the files of the dataset at `root` on all available cores.
pub fn check(root: &Path) -> Result<CheckReport, DatasetError> {
    check_with(root, &CheckOptions::default())
}

/// Checks the files of the dataset at `root` with `workers` threads (at least one).
pub fn check_with_workers(root: &Path, workers: usize) -> Result<CheckReport, DatasetError> {
    let options = CheckOptions {
        workers: workers.max(1),
        read: None,
    };
    check_with(root, &options)
}

/// Checks the dataset at `root` as `options` say. Errors only when the lists cannot
/// be read at all (see `Dataset::open`); everything else lands in the report's `errors`.
pub fn check_with(root: &Path, options: &CheckOptions) -> Result<CheckReport, DatasetError> {
    let dataset = Dataset::open(root)?;
    let workers = match options.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let findings = check_clips(dataset.clips(), workers, options.read.as_ref());
    Ok(build_report(&dataset, &findings))
}

/// Checks clips in contiguous chunks, one per thread, keeping list order.
fn check_clips(clips: &[Clip], workers: usize, read: Option<&ReadSpec>) -> Vec<ClipFindings> {
    let chunk = clips.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = clips
            .chunks(chunk)
            .map(|part| scope.spawn(move || check_part(part, read)))
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

/// One worker's clips. It keeps at most `REPORTED_ERRORS` errors (the report shows
/// no more than that from all workers together), so memory stays bounded.
fn check_part(part: &[Clip], read: Option<&ReadSpec>) -> Vec<ClipFindings> {
    let mut kept = 0usize;
    let mut findings = Vec::with_capacity(part.len());
    for clip in part {
        let mut found = check_clip(clip, read);
        let room = REPORTED_ERRORS.saturating_sub(kept);
        if found.errors.len() > room {
            found.dropped = found.errors.len() - room;
            found.errors.truncate(room);
        }
        kept += found.errors.len();
        findings.push(found);
    }
    findings
}

fn check_clip(clip: &Clip, read: Option<&ReadSpec>) -> ClipFindings {
    let mut found = ClipFindings::default();
    check_sensor(clip, &mut found);
    check_video(clip, &mut found);
    if !found.has_video && !found.has_sensor {
        found.errors.push(clip_error(clip, ClipProblem::NoFiles));
    }
    // Planning reads the same files again; their errors are already reported.
    if let (Some(read), true) = (read, found.errors.is_empty()) {
        match plan_clip(clip, &read.windows) {
            Ok(planned) => found.errors.extend(planned.check_decodes()),
            Err(e) => found.errors.push(e),
        }
    }
    found
}

fn check_sensor(clip: &Clip, found: &mut ClipFindings) {
    match clip.has_sensor() {
        Ok(false) => return,
        Ok(true) => found.has_sensor = true,
        Err(e) => {
            found.has_sensor = true;
            found.errors.push(e);
            return;
        }
    }
    let path = clip.sensor_path();
    let scan = match scan_sensor_file(&path) {
        Ok(scan) => scan,
        Err(e) => return found.errors.push(e),
    };
    found.sensor_rows = scan.rows.len();
    let listed = clip.entry().num_sensor_rows;
    // With bad rows the count is off anyway; the rows themselves are reported.
    if scan.errors.is_empty() && scan.rows.len() != listed {
        let rows = scan.rows.len();
        let e = mismatch(clip, &path, "rows", rows, "num_sensor_rows", listed);
        found.errors.push(e);
    }
    found.errors.extend(scan.errors);
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
            found.errors.extend(folder.check_frames());
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
    for (clip, found) in dataset.clips().iter().zip(findings) {
        let split = splits.get_mut(clip.split());
        split.clips += 1;
        split.missing_video += usize::from(!found.has_video);
        split.missing_sensor += usize::from(!found.has_sensor);
        split.frames += found.frames;
        split.sensor_rows += found.sensor_rows;
        count_class(&mut classes, clip.label() as usize, clip.class_name());
    }
    CheckReport {
        root: dataset.root().display().to_string(),
        splits,
        classes,
        // A dataset nothing can use says so first, ahead of its (capped) problems.
        errors: unusable(dataset, findings)
            .into_iter()
            .chain(error_reports(dataset, findings))
            .collect(),
    }
}

/// A dataset no command can use is an error even when every line parsed: no clip
/// listed at all, or no clip with either video or sensor data.
fn unusable(dataset: &Dataset, findings: &[ClipFindings]) -> Option<ErrorReport> {
    let root = dataset.root().display().to_string();
    let usable = findings
        .iter()
        .filter(|f| f.has_video || f.has_sensor)
        .count();
    let message = match (findings.len(), usable) {
        (0, _) => format!("{root}: no clip is listed in any split list"),
        (n, 0) => format!("{root}: none of the {n} listed clips has video frames or sensor data"),
        _ => return None,
    };
    Some(ErrorReport {
        path: root,
        line: None,
        message,
    })
}

/// The list errors, then each clip's, in order: the first `REPORTED_ERRORS`, then
/// one entry counting the rest.
fn error_reports(dataset: &Dataset, findings: &[ClipFindings]) -> Vec<ErrorReport> {
    let all = dataset
        .list_errors()
        .iter()
        .chain(findings.iter().flat_map(|f| &f.errors));
    let total = dataset.list_errors().len()
        + findings
            .iter()
            .map(|f| f.errors.len() + f.dropped)
            .sum::<usize>();
    let mut errors: Vec<ErrorReport> = all.take(REPORTED_ERRORS).map(ErrorReport::from).collect();
    if total > errors.len() {
        let root = dataset.root().display().to_string();
        let more = total - errors.len();
        errors.push(ErrorReport {
            message: format!(
                "{root}: and {more} more problems (the first {REPORTED_ERRORS} are listed)"
            ),
            path: root,
            line: None,
        });
    }
    errors
}
