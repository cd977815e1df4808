//! `Dataset` and `Clip`: the API the rest of mmcl reads a UESTC-MMEA-CL root through.
//!
//! `Dataset::open` reads the split lists: `train.txt` and `test.txt` are
//! required (the published protocol trains on one and reports on the other),
//! `val.txt` is optional. Malformed list lines are kept as errors next to the
//! good clips, so a caller decides whether a partly broken root is usable.
//!
//! A clip may lack one modality: no sensor file is a video-only clip
//! (`load_imu` gives `None`), no frame folder and no `.mp4` is an IMU-only clip
//! (`video` gives `None`).
//!
//! Timing rule (pinned; the synthetic generator relies on it): the clip lasts
//! `num_sensor_rows / NOMINAL_RATE_HZ` seconds as listed, even when the sensor
//! file is missing, else (0 rows listed) `num_frames / NOMINAL_RATE_HZ`
//! (`dataset check` verifies the lists against the files). IMU row `i` is at `i / NOMINAL_RATE_HZ`; frame
//! `j` of `n` is at `j * duration / n`. Real clips have about one row per frame,
//! so frames land at ~25 fps; a generated clip with fewer frames than rows
//! spreads them over the same span.
//!
//! Whether a clip has a modality is decided by `fsread::probe`, never by
//! `Path::is_file` / `is_dir` (which say "absent" for a symlink loop or a FIFO):
//! only a path with nothing at it is a missing modality; anything else there that
//! is not the expected kind of file is an error naming it.

use super::error::DatasetError;
use super::frames::FrameFolder;
use super::layout::{self, Split, NOMINAL_RATE_HZ};
use super::list::{list_path, ClipEntry, ParsedLists};
use super::mp4::Mp4Video;
use super::sensor::{read_sensor_csv, to_imu_samples};
use super::video::{VideoSource, VideoStorage};
use crate::fsread::{self, Entry};
use crate::learn::ClassId;
use crate::sample::ImuSample;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A UESTC-MMEA-CL root: its clips (in list order: train, val, test) and the
/// list lines that were refused.
#[derive(Debug)]
pub struct Dataset {
    root: PathBuf,
    clips: Vec<Clip>,
    list_errors: Vec<DatasetError>,
    splits: Vec<Split>,
}

impl Dataset {
    /// Reads the split lists under `root`. Errors: the root cannot be read, a
    /// required list (train, test) is missing, or a list cannot be read.
    pub fn open(root: &Path) -> Result<Dataset, DatasetError> {
        std::fs::metadata(root).map_err(|e| DatasetError::io(root, "open dataset root", e))?;
        let mut parsed = ParsedLists::new();
        let mut splits = Vec::new();
        for split in Split::ALL {
            let path = list_path(root, split);
            let Some(bytes) = read_list(&path, split)? else {
                continue;
            };
            parsed.add_bytes(&path, split, &bytes);
            splits.push(split);
        }
        let shared_root: Arc<Path> = Arc::from(root);
        let clips = parsed
            .entries
            .into_iter()
            .map(|e| Clip::new(shared_root.clone(), e))
            .collect();
        Ok(Dataset {
            root: root.to_path_buf(),
            clips,
            list_errors: parsed.errors,
            splits,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every valid clip, train then val then test, each in list order.
    pub fn clips(&self) -> &[Clip] {
        &self.clips
    }

    /// The clips of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Clip> {
        self.clips.iter().filter(move |c| c.split() == split)
    }

    /// Whether the split's list file exists (val may be absent).
    pub fn has_split(&self, split: Split) -> bool {
        self.splits.contains(&split)
    }

    /// The refused list lines, one error each (file, line, text, problem).
    pub fn list_errors(&self) -> &[DatasetError] {
        &self.list_errors
    }
}

/// The bytes of a split's list file; `None` for a missing optional list.
fn read_list(path: &Path, split: Split) -> Result<Option<Vec<u8>>, DatasetError> {
    let io = |e| DatasetError::io(path, "read list file", e);
    match fsread::probe(path).map_err(io)? {
        Entry::Missing if split.is_required() => Err(DatasetError::MissingList {
            path: path.to_path_buf(),
            split: split.name(),
        }),
        Entry::Missing => Ok(None),
        _ => fsread::read(path, fsread::LIST).map(Some).map_err(io),
    }
}

/// One recording: a valid list line resolved against the root.
#[derive(Debug, Clone)]
pub struct Clip {
    root: Arc<Path>,
    entry: ClipEntry,
    id: String,
}

impl Clip {
    pub fn new(root: Arc<Path>, entry: ClipEntry) -> Clip {
        let id = entry.id();
        Clip { root, entry, id }
    }

    /// `<k_name>/<clip>`: stable across machines (the list prefix is dropped).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn label(&self) -> ClassId {
        self.entry.label
    }

    /// The class folder name (`"3_drinking"`, or a user's own `"1_standing"`).
    pub fn class_name(&self) -> &str {
        &self.entry.class_dir
    }

    pub fn split(&self) -> Split {
        self.entry.split
    }

    /// The list line this clip came from.
    pub fn entry(&self) -> &ClipEntry {
        &self.entry
    }

    /// The list file this clip was read from.
    pub fn list_file(&self) -> PathBuf {
        list_path(&self.root, self.entry.split)
    }

    /// `list file:line` of the entry, for messages.
    pub fn listed_at(&self) -> String {
        format!("{}:{}", self.list_file().display(), self.entry.line)
    }

    pub fn sensor_path(&self) -> PathBuf {
        layout::sensor_path(&self.root, &self.entry.class_dir, &self.entry.clip)
    }

    pub fn frames_dir(&self) -> PathBuf {
        layout::frames_dir(&self.root, &self.entry.class_dir, &self.entry.clip)
    }

    pub fn mp4_path(&self) -> PathBuf {
        layout::mp4_path(&self.root, &self.entry.class_dir, &self.entry.clip)
    }

    /// Whether the clip has a sensor file (else it is video-only); an error when
    /// something is at its path that cannot be read as one.
    pub fn has_sensor(&self) -> Result<bool, DatasetError> {
        let path = self.sensor_path();
        let io = |e| DatasetError::io(&path, "read sensor file", e);
        match fsread::probe(&path).map_err(io)? {
            Entry::Missing => Ok(false),
            // `open` refuses (and names) a FIFO, a device or a folder without blocking.
            _ => fsread::open(&path, fsread::SENSOR_CSV)
                .map(|_| true)
                .map_err(io),
        }
    }

    /// The clip's length in seconds, by the timing rule in the module docs.
    ///
    /// The list's `num_sensor_rows` sets it even when the sensor file is missing: the
    /// list still states how long the recording was, and a video stored at a reduced
    /// frame rate (as the generator writes) would otherwise be squeezed into
    /// `num_frames / 25` s. Only a list with 0 sensor rows falls back to the frames.
    pub fn duration_secs(&self) -> f64 {
        let rows = match self.entry.num_sensor_rows {
            0 => self.entry.num_frames,
            n => n,
        };
        rows as f64 / NOMINAL_RATE_HZ
    }

    /// The clip's IMU samples (units, median-filtered, row `i` at `i / 25` s), or
    /// `None` when the clip has no sensor file.
    pub fn load_imu(&self) -> Result<Option<Vec<ImuSample>>, DatasetError> {
        if !self.has_sensor()? {
            return Ok(None);
        }
        let rows = read_sensor_csv(&self.sensor_path())?;
        Ok(Some(to_imu_samples(&rows)))
    }

    /// The clip's video (frame folder preferred over `.mp4`), or `None` when it has neither.
    pub fn video(&self) -> Result<Option<VideoSource>, DatasetError> {
        let Some(storage) = self.video_storage()? else {
            return Ok(None);
        };
        Ok(Some(VideoSource::new(storage, self.duration_secs())))
    }

    /// Opens the frame folder or the `.mp4` (listing / header only, no decoding).
    /// Something at the frame folder's path that is not a folder, or at the
    /// `.mp4`'s that is not a regular file, is an error, not a missing video.
    pub fn video_storage(&self) -> Result<Option<VideoStorage>, DatasetError> {
        let dir = self.frames_dir();
        match fsread::probe(&dir).map_err(|e| DatasetError::io(&dir, "open frame folder", e))? {
            Entry::Dir => return FrameFolder::open(&dir).map(|f| Some(VideoStorage::Frames(f))),
            Entry::Missing => {}
            Entry::File { .. } | Entry::Other { .. } => {
                let e = std::io::Error::from(std::io::ErrorKind::NotADirectory);
                return Err(DatasetError::io(&dir, "open frame folder", e));
            }
        }
        let mp4 = self.mp4_path();
        let io = |e| DatasetError::io(&mp4, "open mp4", e);
        match fsread::probe(&mp4).map_err(io)? {
            Entry::Missing => Ok(None),
            // Checked here, before `Mp4Video::open` opens it: a FIFO would block that open.
            _ => {
                fsread::open(&mp4, fsread::MP4).map_err(io)?;
                Mp4Video::open(&mp4, &self.id).map(|m| Some(VideoStorage::Mp4(m)))
            }
        }
    }
}
