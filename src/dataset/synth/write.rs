//! Puts a plan on disk: the output folder check, the clip files (in parallel over classes),
//! and the list files with the counts actually written.
//!
//! Output is byte-identical for the same parameters whatever the thread count: every clip
//! reads only its own random streams and the lists are written in plan order. An existing,
//! non-empty `--out` is refused unless `--force`; even then nothing is deleted, only the
//! files this plan names are overwritten.

use super::clip::{self, Frames};
use super::imu;
use super::params::SynthParams;
use super::plan::{ClipPlan, Missing, Split};
use super::video::encode_jpeg;
use super::SynthError;
use crate::dataset::layout::{frame_file_name, frames_dir, list_path, sensor_path};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Files and bytes written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub files: u64,
    pub bytes: u64,
}

impl Written {
    fn add(&mut self, other: Written) {
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

/// Refuses an `out` that is a file, or a non-empty folder without `force`; creates it.
pub fn prepare_root(out: &Path, force: bool) -> Result<(), SynthError> {
    if out.exists() {
        if !out.is_dir() {
            return Err(SynthError::OutNotADir {
                path: out.to_path_buf(),
            });
        }
        let mut entries =
            std::fs::read_dir(out).map_err(|source| SynthError::io(out, "list", source))?;
        if entries.next().is_some() && !force {
            return Err(SynthError::OutNotEmpty {
                path: out.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|source| SynthError::io(out, "create folder", source))
}

/// Writes every clip's CSV and frames; returns the total, or the error of the earliest clip
/// (in plan order) that failed. After a failure the workers stop starting clips.
pub fn write_clips(
    clips: &[ClipPlan],
    params: &SynthParams,
    root: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Written, SynthError> {
    let mut by_class: BTreeMap<usize, Vec<&ClipPlan>> = BTreeMap::new();
    clips
        .iter()
        .for_each(|c| by_class.entry(c.class.label()).or_default().push(c));
    let groups: Vec<Vec<&ClipPlan>> = by_class.into_values().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, groups.len().max(1));
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let written = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        while let Some(group) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
            for clip in group.iter().take_while(|_| !failed.load(Ordering::Relaxed)) {
                let result = write_clip(clip, params, root);
                failed.fetch_or(result.is_err(), Ordering::Relaxed);
                progress(written.fetch_add(1, Ordering::Relaxed) + 1, clips.len());
                done.push(((clip.split, clip.class, clip.index), result));
            }
        }
        done
    };
    let mut results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.sort_by_key(|(key, _)| *key);
    let mut total = Written::default();
    for (_, result) in results {
        total.add(result?);
    }
    Ok(total)
}

fn write_clip(clip: &ClipPlan, params: &SynthParams, root: &Path) -> Result<Written, SynthError> {
    let mut written = Written::default();
    let class = clip.class.name();
    if clip.missing != Some(Missing::Sensor) {
        let csv = imu::to_csv(&clip::sensor_rows(params, clip));
        let path = sensor_path(root, class, &clip.name);
        create_parent(&path)?;
        write_file(&path, csv.as_bytes(), &mut written)?;
    }
    if clip.missing != Some(Missing::Video) {
        let dir = frames_dir(root, class, &clip.name);
        std::fs::create_dir_all(&dir)
            .map_err(|source| SynthError::io(&dir, "create folder", source))?;
        let frames = Frames::new(params, clip);
        let quality = frames.quality();
        for (j, rgb) in frames.enumerate() {
            let path = dir.join(frame_file_name(j + 1));
            let jpeg =
                encode_jpeg(&rgb, params.size(), quality).map_err(|error| SynthError::Encode {
                    path: path.clone(),
                    error,
                })?;
            write_file(&path, &jpeg, &mut written)?;
        }
    }
    Ok(written)
}

/// Writes the three list files: `data/<class>/<clip> <frames> <sensor_rows> <label>`.
///
/// A clip lacking a modality keeps its planned counts: the counts describe the clip, and
/// the reader needs `num_sensor_rows` to time the frames even when the CSV is absent.
pub fn write_lists(clips: &[ClipPlan], root: &Path) -> Result<Written, SynthError> {
    let mut written = Written::default();
    for split in Split::ALL {
        let text: String = clips
            .iter()
            .filter(|c| c.split == split)
            .map(|c| {
                format!(
                    "data/{}/{} {} {} {}\n",
                    c.class.name(),
                    c.name,
                    c.frames,
                    c.sensor_rows,
                    c.class.label()
                )
            })
            .collect();
        write_file(
            &list_path(root, split.name()),
            text.as_bytes(),
            &mut written,
        )?;
    }
    Ok(written)
}

fn write_file(path: &Path, bytes: &[u8], written: &mut Written) -> Result<(), SynthError> {
    std::fs::write(path, bytes).map_err(|source| SynthError::io(path, "write", source))?;
    written.add(Written {
        files: 1,
        bytes: bytes.len() as u64,
    });
    Ok(())
}

fn create_parent(path: &Path) -> Result<(), SynthError> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|source| SynthError::io(parent, "create folder", source)),
        None => Ok(()),
    }
}
