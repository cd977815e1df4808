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
//! Cache keys are `<clip id>@<fingerprint>`: the fingerprint hashes the clip's list
//! entry and its sensor file, so a dataset regenerated in place (another seed, the
//! same clip names) is re-encoded rather than served stale embeddings.

use super::cache::{CacheEntry, CacheError, EmbeddingCache, Variant};
use super::{EncodeError, Encoder};
use crate::align::{clip_window_plans, AlignError, WindowParams, WindowSpec};
use crate::dataset::{Clip, Dataset, DatasetError, Split};
use crate::embedding::{Embedding, EmbeddingError};
use crate::sample::Modality;
use crate::window::Window;
use sha2::{Digest, Sha256};

/// Why one clip could not be encoded (the others go on).
#[derive(Debug, thiserror::Error)]
pub enum ClipEncodeError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("clip {clip}: {source}")]
    Align { clip: String, source: AlignError },
    #[error("clip {clip} ({seconds:.2} s): no window of the encoder's length has video or IMU")]
    Empty { clip: String, seconds: f64 },
    #[error("clip {clip}: {source}")]
    Encode { clip: String, source: EncodeError },
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

/// The cache key of a clip: its id plus a fingerprint of its list entry and sensor file.
pub fn clip_key(clip: &Clip) -> String {
    let e = clip.entry();
    let mut h = Sha256::new();
    h.update(
        format!(
            "{} {} {} {}",
            e.label,
            e.num_frames,
            e.num_sensor_rows,
            clip.split().name()
        )
        .as_bytes(),
    );
    match std::fs::read(clip.sensor_path()) {
        Ok(bytes) => h.update(&bytes),
        Err(_) => h.update(b"no sensor"),
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}@{hex}", clip.id())
}

/// The variants encoded for a clip of `split`.
pub fn variants_for(split: Split) -> &'static [Variant] {
    match split {
        Split::Test => &Variant::ALL,
        _ => &[Variant::All],
    }
}

/// The non-empty fixed windows of a clip (frames decoded only at the sampled indices).
pub fn clip_windows(clip: &Clip, spec: &WindowSpec) -> Result<Vec<Window>, ClipEncodeError> {
    let imu = clip.load_imu()?;
    let video = clip.video()?;
    let times = video.as_ref().map(|v| v.frame_times());
    let align = |source| ClipEncodeError::Align {
        clip: clip.id().to_string(),
        source,
    };
    let plans = clip_window_plans(spec, imu.as_deref(), times.as_deref()).map_err(align)?;
    let mut windows = Vec::with_capacity(plans.len());
    for plan in plans {
        let frames = match (&video, &plan.frame_indices) {
            (Some(v), Some(indices)) => v.decode_many(indices)?,
            _ => Vec::new(),
        };
        let window = plan.into_window(frames).map_err(align)?;
        if !window.is_empty() {
            windows.push(window);
        }
    }
    if windows.is_empty() {
        return Err(ClipEncodeError::Empty {
            clip: clip.id().to_string(),
            seconds: clip.duration_secs(),
        });
    }
    Ok(windows)
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
/// returns the number of windows encoded.
fn encode_clip(
    clip: &Clip,
    key: &str,
    spec: &WindowSpec,
    encoder: &mut dyn Encoder,
    cache: &mut EmbeddingCache,
) -> Result<usize, ClipEncodeError> {
    let windows = clip_windows(clip, spec)?;
    let mut encoded = 0;
    for &variant in variants_for(clip.split()) {
        let inputs: Vec<Window> = windows
            .iter()
            .filter_map(|w| variant_window(w, variant))
            .collect();
        if inputs.is_empty() {
            continue;
        }
        let outputs = encoder
            .encode(&inputs)
            .map_err(|source| ClipEncodeError::Encode {
                clip: clip.id().to_string(),
                source,
            })?;
        encoded += inputs.len();
        let embedding = mean(
            outputs.iter().map(|e| e.embedding.as_slice()),
            encoder.contract().dim,
        )
        .map_err(|e| ClipEncodeError::Mean {
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

/// The element-wise mean of equally long vectors, as a checked embedding.
fn mean<'a>(
    rows: impl Iterator<Item = &'a [f32]>,
    dim: usize,
) -> Result<Embedding, EmbeddingError> {
    let mut sum = vec![0f64; dim];
    let mut n = 0usize;
    for row in rows {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
        n += 1;
    }
    let n = n.max(1) as f64;
    Embedding::new(sum.into_iter().map(|s| (s / n) as f32).collect(), dim)
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
    let spec = clip_spec(window)?;
    let clips = dataset.clips();
    let mut summary = EmbedSummary {
        clips: clips.len(),
        ..EmbedSummary::default()
    };
    for (i, clip) in clips.iter().enumerate() {
        let key = clip_key(clip);
        summary.keys.push(key.clone());
        if is_cached(cache, &key) {
            summary.reused += 1;
        } else {
            match encode_clip(clip, &key, &spec, encoder, cache) {
                Ok(n) => {
                    summary.encoded += 1;
                    summary.windows += n;
                }
                Err(e) => summary.failed.push(FailedClip {
                    clip: clip.id().to_string(),
                    error: e.to_string(),
                }),
            }
            if summary.encoded % commit_every.max(1) == 0 {
                cache.commit()?;
            }
        }
        progress(i + 1, clips.len());
    }
    cache.commit()?;
    Ok(summary)
}
