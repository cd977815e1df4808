//! Encoding a whole dataset into the embedding cache: one whole-clip window per
//! clip (the aligner's `clip_plan`: IMU time-normalised to L points, T frames at
//! segment centres), plus, for test clips, the same window with video absent and
//! with IMU absent (modality-dynamic evaluation).
//!
//! Cache keys are `<clip id>@<fingerprint>`: the fingerprint hashes the clip's list
//! entry and its sensor file, so a dataset regenerated in place (another seed, the
//! same clip names) is re-encoded rather than served stale embeddings.

use super::cache::{CacheEntry, CacheError, EmbeddingCache, Variant};
use super::{EncodeError, Encoder, ModelContract};
use crate::align::{clip_plan, AlignError, WindowParams, WindowSpec};
use crate::dataset::{Clip, Dataset, DatasetError, Split};
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
    #[error("clip {clip}: neither video nor IMU covers the clip")]
    Empty { clip: String },
    #[error("clip {clip}: {source}")]
    Encode { clip: String, source: EncodeError },
    #[error(transparent)]
    Cache(#[from] CacheError),
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
}

#[derive(Debug, serde::Serialize)]
pub struct FailedClip {
    pub clip: String,
    pub error: String,
}

/// The window an encoder's contract asks for (length, IMU rate, frames), other
/// aligner settings at their defaults. The metadata's f32 values are rounded to
/// microseconds / micro-hertz so 5.12 s stays 5.12 s (not 5.1199998...).
pub fn window_params(c: &ModelContract) -> WindowParams {
    let exact = |v: f32| (f64::from(v) * 1e6).round() / 1e6;
    WindowParams {
        seconds: exact(c.window_seconds),
        imu_rate_hz: exact(c.imu_rate_hz),
        frames: c.frames,
        ..WindowParams::default()
    }
}

/// The window spec an encoder's contract implies for whole-clip windows.
pub fn clip_spec(encoder: &dyn Encoder) -> Result<WindowSpec, EmbedError> {
    WindowSpec::new(window_params(encoder.contract())).map_err(|e| EmbedError::Spec(e.to_string()))
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

/// The whole-clip window of a clip (frames decoded only at the sampled indices).
pub fn clip_window(clip: &Clip, spec: &WindowSpec) -> Result<Window, ClipEncodeError> {
    let imu = clip.load_imu()?;
    let video = clip.video()?;
    let times = video.as_ref().map(|v| v.frame_times());
    let align = |source| ClipEncodeError::Align {
        clip: clip.id().to_string(),
        source,
    };
    let plan = clip_plan(spec, imu.as_deref(), times.as_deref()).map_err(align)?;
    let frames = match (&video, &plan.frame_indices) {
        (Some(v), Some(indices)) => v.decode_many(indices)?,
        _ => Vec::new(),
    };
    let window = plan.into_window(frames).map_err(align)?;
    if window.is_empty() {
        return Err(ClipEncodeError::Empty {
            clip: clip.id().to_string(),
        });
    }
    Ok(window)
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

/// Encodes one clip's variants into `cache`; returns the number of windows encoded.
fn encode_clip(
    clip: &Clip,
    key: &str,
    spec: &WindowSpec,
    encoder: &mut dyn Encoder,
    cache: &mut EmbeddingCache,
) -> Result<usize, ClipEncodeError> {
    let window = clip_window(clip, spec)?;
    let (variants, windows): (Vec<Variant>, Vec<Window>) = variants_for(clip.split())
        .iter()
        .filter_map(|v| variant_window(&window, *v).map(|w| (*v, w)))
        .unzip();
    let encoded = encoder
        .encode(&windows)
        .map_err(|source| ClipEncodeError::Encode {
            clip: clip.id().to_string(),
            source,
        })?;
    for (variant, e) in variants.into_iter().zip(encoded) {
        let entry = CacheEntry {
            clip: key.to_string(),
            label: clip.label(),
            split: clip.split().name().to_string(),
            variant,
            embedding: e.embedding,
        };
        cache.insert(entry)?;
    }
    Ok(windows.len())
}

/// True when every variant a clip needs is cached (a variant that would be empty,
/// e.g. IMU-absent of an IMU-only clip, is never stored, so `All` decides).
fn is_cached(cache: &EmbeddingCache, key: &str) -> bool {
    cache.get(key, Variant::All).is_some()
}

/// Encodes every clip of `dataset` not yet in `cache`, committing every
/// `commit_every` clips so an interrupted run keeps its work. `progress(done, total)`.
pub fn embed_dataset(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    cache: &mut EmbeddingCache,
    commit_every: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EmbedSummary, EmbedError> {
    let spec = clip_spec(encoder)?;
    let clips = dataset.clips();
    let mut summary = EmbedSummary {
        clips: clips.len(),
        ..EmbedSummary::default()
    };
    for (i, clip) in clips.iter().enumerate() {
        let key = clip_key(clip);
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
