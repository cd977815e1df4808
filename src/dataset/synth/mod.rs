//! The synthetic generator behind `mmcl synth`: writes a dataset in the UESTC-MMEA-CL
//! layout (lists, JPEG frame folders, raw-count sensor CSVs) whose 32 activities have IMU
//! and visual signatures that overlap, so that neither modality alone is enough.
//!
//! Pieces, in the order a run uses them: `params` (validated knobs), `like` (real list
//! files to mirror), `plan` (every clip fixed up front), `activity` + `table` (class
//! signatures and families), `motion` (one clip's head motion), `imu` and `video` (the
//! two modalities read from that motion), `clip` (one clip in memory), `write` (files on
//! disk) and `summary` (the counts). docs/synth.md describes the knobs and how classes
//! overlap.

mod activity;
mod clip;
mod imu;
mod like;
mod motion;
mod params;
mod plan;
mod rng;
mod summary;
mod table;
mod video;
mod write;

pub use activity::{ClassId, MotionFamily, SceneFamily};
pub use clip::{sensor_rows, Frames};
pub use imu::RawRow;
pub use like::{read_lists, LikeError, ListEntry};
pub use params::{
    Knobs, ParamError, RawParams, Source, SynthParams, DEFAULT_CLASSES, DEFAULT_CLIPS_PER_CLASS,
    DEFAULT_SIZE,
};
pub use plan::{ClipPlan, Dropout, Missing, Split};
pub use summary::{ClassCount, SplitCounts, Splits, Summary};

use std::path::{Path, PathBuf};

/// Why a run wrote nothing, or stopped. Each message names its cause, and no
/// variant also carries it as a `source` (an error chain would say it twice).
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("--like: {0}")]
    Like(LikeError),
    #[error("--out {path}: exists and is not empty; pass --force to write into it (nothing is deleted, the generator's files are overwritten)")]
    OutNotEmpty { path: PathBuf },
    #[error("--out {path}: exists and is not a folder")]
    OutNotADir { path: PathBuf },
    #[error("{action} {path}: {error}")]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    #[error("encode frame {path}: {error}")]
    Encode {
        path: PathBuf,
        error: image::ImageError,
    },
}

impl From<LikeError> for SynthError {
    fn from(e: LikeError) -> SynthError {
        SynthError::Like(e)
    }
}

impl SynthError {
    fn io(path: &Path, action: &'static str, error: std::io::Error) -> Self {
        SynthError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }

    /// True when the user can fix it by changing arguments or input files (exit 2).
    pub fn is_input(&self) -> bool {
        !matches!(self, SynthError::Io { .. } | SynthError::Encode { .. })
    }
}

/// Every clip the run will write, in list order; reads the lists under `--like`.
pub fn plan_clips(params: &SynthParams) -> Result<Vec<ClipPlan>, SynthError> {
    Ok(match params.source() {
        Source::Fresh {
            classes,
            clips_per_class,
        } => plan::fresh(params, *classes, *clips_per_class),
        Source::Like(dir) => plan::like(params, read_lists(dir)?),
    })
}

/// Writes the dataset under `out` and reports what it wrote. Inputs are checked (lists
/// read, `out` inspected) before the first file is written.
pub fn generate(params: &SynthParams, out: &Path, force: bool) -> Result<Summary, SynthError> {
    generate_observed(params, out, force, &|_, _| {})
}

/// `generate`, calling `progress(clips written, clips planned)` after each clip (from the
/// writer threads, hence `Sync`).
pub fn generate_observed(
    params: &SynthParams,
    out: &Path,
    force: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Summary, SynthError> {
    let clips = plan_clips(params)?;
    write::prepare_root(out, force)?;
    let mut written = write::write_clips(&clips, params, out, progress)?;
    let lists = write::write_lists(&clips, out)?;
    written.files += lists.files;
    written.bytes += lists.bytes;
    Ok(Summary::new(out, &clips, written.files, written.bytes))
}
