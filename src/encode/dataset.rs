//! Encoding a whole dataset into the embedding cache. A clip's embedding is the mean
//! of the embeddings of its fixed windows (the encoder's window length, half a window
//! apart, as `align::clip_window_plans` cuts them): TSN's segment consensus at the
//! embedding level. One time-normalised whole-clip window (`align::clip_plan`) would
//! be cheaper, but it resamples a 7-37 s clip's IMU to L points (3-18 Hz, aliasing
//! a 4 Hz tooth-brushing motion) and feeds the encoder a rate it was not built for;
//! fixed windows keep what the encoder sees offline equal to what it sees live.
//! Test clips are also encoded with video absent and with IMU absent
//! (modality-dynamic evaluation).
//!
//! Clips are read by `dataset::windows`, the reader `dataset check` also runs, with
//! frames larger than the encoder's input reduced to it as soon as they are
//! decoded, and one batch of windows decoded and encoded at a time (running means),
//! so memory does not grow with a clip's length.
//!
//! Cache keys are `<clip id>@<fingerprint>`: the fingerprint covers everything a
//! clip's embedding depends on besides the encoder (whose sha256 names the cache
//! file): the list entry, the sensor file's bytes, and the frame folder's listing
//! with each frame's size and modification time (or the `.mp4`'s), so a dataset
//! regenerated in place or a clip whose frames were replaced is re-encoded rather
//! than served stale embeddings. Frames are not hashed: reading every frame would
//! cost as much as decoding them.

use super::cache::{CacheEntry, CacheError, EmbeddingCache, Variant};
use super::preprocess::Size;
use super::{EncodeError, Encoder, ModelContract};
use crate::align::{WindowParams, WindowSpec};
use crate::dataset::windows::ReadSpec;
use crate::dataset::{Clip, Dataset, DatasetError, Split};
use crate::embedding::MeanEmbedding as Mean;
use crate::sample::Modality;
use crate::window::Window;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Why one clip could not be encoded (the others go on).
#[derive(Debug, thiserror::Error)]
pub enum ClipEncodeError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("clip {clip}: {error}")]
    Encode { clip: String, error: EncodeError },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("clip {clip}: mean of its window embeddings: {message}")]
    Mean { clip: String, message: String },
}

/// Why the whole run stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("encoder window shape: {0}")]
    Spec(String),
}

/// What `embed_dataset` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct EmbedSummary {
    pub clips: usize,
    /// Clips encoded now.
    pub encoded: usize,
    /// Clips whose embeddings were already cached.
    pub reused: usize,
    /// Windows run through the encoder.
    pub windows: usize,
    /// Clips that could not be encoded, with the reason.
    pub failed: Vec<FailedClip>,
    /// The cache key of each clip, in `Dataset::clips` order, so readers of the cache
    /// need not hash every sensor file again.
    #[serde(skip)]
    pub keys: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct FailedClip {
    pub clip: String,
    pub error: String,
}

/// The windows a clip is cut into offline: the live window's shape and rules
/// (`config::Settings::window`), half a window apart.
pub fn clip_spec(window: &WindowSpec) -> Result<WindowSpec, EmbedError> {
    let params = window.params();
    WindowSpec::new(WindowParams {
        stride_seconds: params.seconds / 2.0,
        ..params.clone()
    })
    .map_err(|e| EmbedError::Spec(e.to_string()))
}

/// How the encoder of contract `c` reads a clip offline: `clip_spec(window)`'s
/// windows and frames at the model's H x W. `dataset check` checks with the same.
pub fn read_spec(window: &WindowSpec, c: &ModelContract) -> Result<ReadSpec, EmbedError> {
    Ok(ReadSpec {
        windows: clip_spec(window)?,
        frame_size: Size {
            width: c.width,
            height: c.height,
        },
    })
}

/// The cache key of a clip cut by `windows` (`clip_spec`): its id plus a
/// fingerprint of its list entry, its sensor file, its frame files (see the module
/// docs) and, where it matters, the frame rule. Never fails: a file that cannot be
/// read is fingerprinted by its error, and encoding the clip reports it.
pub fn clip_key(clip: &Clip, windows: &WindowSpec) -> String {
    let e = clip.entry();
    let mut h = Sha256::new();
    if let Some(rule) = frame_rule(windows) {
        h.update(rule.as_bytes());
    }
    let entry = format!(
        "{} {} {} {}",
        e.label,
        e.num_frames,
        e.num_sensor_rows,
        clip.split().name()
    );
    h.update(entry.as_bytes());
    match crate::fsread::read(&clip.sensor_path(), crate::fsread::SENSOR_CSV) {
        Ok(bytes) => h.update(&bytes),
        Err(e) => h.update(format!("sensor: {:?}", e.kind()).as_bytes()),
    }
    h.update(video_fingerprint(clip).as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}@{hex}", clip.id())
}

/// The frame rule's tag where it changed a clip's frames. Windows took their own
/// segment centres before frames came from the stream's global grid
/// (`align::FrameGrid`); the two rules pick the same frames exactly when the
/// stride is a whole number of grid periods (stride x T divisible by the window
/// length), as for the default encoder's 2.56 s stride and 8 frames. There the
/// key is unchanged and caches written before stay valid; elsewhere it changes,
/// so those clips are encoded again rather than served embeddings of other frames.
fn frame_rule(windows: &WindowSpec) -> Option<&'static str> {
    let (stride, len) = (
        u128::from(windows.stride_ns()),
        u128::from(windows.len_ns()),
    );
    let whole_periods = (stride * windows.frames() as u128) % len.max(1) == 0;
    (!whole_periods).then_some("frames on the global grid ")
}

/// The frame files' (or the `.mp4`'s) names, sizes and modification times.
fn video_fingerprint(clip: &Clip) -> String {
    use crate::dataset::VideoStorage;
    match clip.video_storage() {
        Ok(Some(VideoStorage::Frames(folder))) => {
            let mut text = format!("frames {:?} {}", folder.naming(), folder.len());
            for path in (0..folder.len()).filter_map(|i| folder.path(i).ok()) {
                text += &file_stamp(&path);
            }
            text
        }
        Ok(Some(VideoStorage::Mp4(video))) => format!("mp4 {}", file_stamp(video.path())),
        Ok(None) => "no video".to_string(),
        Err(e) => format!("video: {e}"),
    }
}

/// ` <bytes>:<mtime ns>` of one file (its error kind when it cannot be stat'ed).
fn file_stamp(path: &Path) -> String {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => return format!(" {:?}", e.kind()),
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!(" {}:{mtime}", meta.len())
}

/// The variants encoded for a clip of `split`.
pub fn variants_for(split: Split) -> &'static [Variant] {
    match split {
        Split::Test => &Variant::ALL,
        _ => &[Variant::All],
    }
}

/// The non-empty fixed windows of a clip, frames decoded only at the sampled indices
/// and reduced to the encoder's size at once (`dataset::windows::clip_windows`).
pub fn clip_windows(clip: &Clip, spec: &ReadSpec) -> Result<Vec<Window>, ClipEncodeError> {
    Ok(crate::dataset::windows::clip_windows(clip, spec)?)
}

/// `window` with the modality a variant removes; `None` when nothing would be left.
fn variant_window(window: &Window, variant: Variant) -> Option<Window> {
    let w = match variant {
        Variant::All => window.clone(),
        Variant::VideoAbsent => window.clone().without(Modality::Video),
        Variant::ImuAbsent => window.clone().without(Modality::Imu),
    };
    (!w.is_empty()).then_some(w)
}

/// Encodes one clip's variants into `cache` (each the mean over the clip's windows);
/// returns the number of windows encoded. Windows are decoded and encoded one
/// batch at a time, so a long clip never holds more than a batch of frames.
fn encode_clip(
    clip: &Clip,
    key: &str,
    spec: &ReadSpec,
    encoder: &mut dyn Encoder,
    cache: &mut EmbeddingCache,
) -> Result<usize, ClipEncodeError> {
    let planned = crate::dataset::windows::plan_clip(clip, &spec.windows)?;
    let variants = variants_for(clip.split());
    let dim = encoder.contract().dim;
    let mut means: Vec<Mean> = variants.iter().map(|_| Mean::new(dim)).collect();
    let chunk = encoder.batch_size().max(1);
    for windows in planned.into_chunks(clip, chunk, spec.frame_size) {
        let windows = windows?;
        for (&variant, mean) in variants.iter().zip(&mut means) {
            encode_variant(clip, &windows, variant, encoder, mean)?;
        }
    }
    let mut encoded = 0;
    for (&variant, mean) in variants.iter().zip(means) {
        encoded += mean.count();
        // A variant that would be empty (IMU-absent of an IMU-only clip) is not stored.
        if mean.count() == 0 {
            continue;
        }
        let embedding = mean.embedding().map_err(|e| ClipEncodeError::Mean {
            clip: clip.id().to_string(),
            message: e.to_string(),
        })?;
        cache.insert(CacheEntry {
            clip: key.to_string(),
            label: clip.label(),
            split: clip.split().name().to_string(),
            variant,
            embedding,
        })?;
    }
    Ok(encoded)
}

/// Encodes `variant` of a chunk of windows into its running mean.
fn encode_variant(
    clip: &Clip,
    windows: &[Window],
    variant: Variant,
    encoder: &mut dyn Encoder,
    mean: &mut Mean,
) -> Result<(), ClipEncodeError> {
    let inputs: Vec<Window> = windows
        .iter()
        .filter_map(|w| variant_window(w, variant))
        .collect();
    if inputs.is_empty() {
        return Ok(());
    }
    let outputs = encoder
        .encode(&inputs)
        .map_err(|error| ClipEncodeError::Encode {
            clip: clip.id().to_string(),
            error,
        })?;
    for e in &outputs {
        mean.add(e.embedding.as_slice());
    }
    Ok(())
}

/// True when every variant a clip needs is cached (a variant that would be empty,
/// e.g. IMU-absent of an IMU-only clip, is never stored, so `All` decides).
fn is_cached(cache: &EmbeddingCache, key: &str) -> bool {
    cache.get(key, Variant::All).is_some()
}

/// Encodes every clip of `dataset` not yet in `cache` (cut with `clip_spec(window)`),
/// committing every
/// `commit_every` clips so an interrupted run keeps its work. `progress(done, total)`.
pub fn embed_dataset(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    window: &WindowSpec,
    cache: &mut EmbeddingCache,
    commit_every: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EmbedSummary, EmbedError> {
    let spec = read_spec(window, encoder.contract())?;
    let clips = dataset.clips();
    let mut summary = EmbedSummary {
        clips: clips.len(),
        ..EmbedSummary::default()
    };
    for (i, clip) in clips.iter().enumerate() {
        let key = clip_key(clip, &spec.windows);
        summary.keys.push(key.clone());
        if is_cached(cache, &key) {
            summary.reused += 1;
        } else {
            match encode_clip(clip, &key, &spec, encoder, cache) {
                Ok(n) => {
                    summary.encoded += 1;
                    summary.windows += n;
                    // Only new work is committed: a dataset of failing clips must
                    // not rewrite (and fsync) the cache once per clip.
                    if summary.encoded % commit_every.max(1) == 0 {
                        cache.commit()?;
                    }
                }
                Err(e) => summary.failed.push(FailedClip {
                    clip: clip.id().to_string(),
                    error: e.to_string(),
                }),
            }
        }
        progress(i + 1, clips.len());
    }
    cache.commit()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline(frames: usize) -> WindowSpec {
        let live = WindowSpec::new(WindowParams {
            frames,
            ..WindowParams::default()
        })
        .unwrap();
        clip_spec(&live).unwrap()
    }

    /// Keys change only where the global frame grid changed a clip's frames:
    /// half a 5.12 s window is 4 periods of 8 frames, 1.5 periods of 3.
    #[test]
    fn the_frame_rule_enters_the_key_only_where_frames_changed() {
        assert_eq!(frame_rule(&offline(8)), None);
        assert_eq!(frame_rule(&offline(2)), None);
        assert!(frame_rule(&offline(3)).is_some());
        assert!(frame_rule(&offline(1)).is_some());
    }
}
