//! Dataset clips played through the graph, as the daemon's replay mode plays
//! them but unpaced and lossless: the demo and tools use it to turn clips into
//! windows or embeddings with exactly the live path's windowing.

use super::encode_stage::{encode_windows, EncodedWindow};
use super::graph::Pipeline;
use super::settings::PipelineSettings;
use super::stage::PipelineError;
use crate::align::WindowSpec;
use crate::dataset::Clip;
use crate::encode::{Encoder, FrameCache};
use crate::sensor::replay::{Playlist, ReplaySource};
use crate::sensor::{Pacing, Source};
use crate::shutdown::Shutdown;
use crate::time::Timestamp;
use crate::window::Window;

/// Plays `clips` back to back through a replay source, its channels and the
/// aligner; returns every window with at least one modality. Clips are separated
/// by more than a window of silence, so no window mixes two clips. Frames enter
/// at `spec.frame_size()` when it is set.
pub fn replay_windows(clips: Vec<Clip>, spec: &WindowSpec) -> Result<Vec<Window>, PipelineError> {
    let shutdown = Shutdown::new();
    let settings = PipelineSettings {
        frame_size: spec.frame_size(),
        ..PipelineSettings::lossless()
    };
    let pipeline = Pipeline::start_windows(
        vec![source(clips, spec)],
        spec,
        Timestamp::ZERO,
        &settings,
        &shutdown,
    )?;
    let windows = pipeline
        .output()
        .iter()
        .map(|w| w.window)
        .filter(|w| !w.is_empty())
        .collect();
    pipeline.join().into_result()?;
    Ok(windows)
}

/// Like `replay_windows`, with frames reduced to the encoder's input size and
/// every window encoded as it comes (a batch at a time, on the caller's thread,
/// so no more than a batch of windows is held).
pub fn replay_encoded(
    clips: Vec<Clip>,
    spec: &WindowSpec,
    encoder: &mut dyn Encoder,
) -> Result<Vec<EncodedWindow>, PipelineError> {
    let c = encoder.contract();
    let shutdown = Shutdown::new();
    let settings = PipelineSettings {
        frame_size: Some((c.width as u32, c.height as u32)),
        ..PipelineSettings::lossless()
    };
    let pipeline = Pipeline::start_windows(
        vec![source(clips, spec)],
        spec,
        Timestamp::ZERO,
        &settings,
        &shutdown,
    )?;
    let mut batch = Vec::new();
    let mut out = Vec::new();
    // One cache for the whole playlist: clips follow each other on one clock.
    let mut frames = FrameCache::for_spec(spec);
    for w in pipeline.output().iter().filter(|w| !w.window.is_empty()) {
        batch.push(w);
        if batch.len() >= encoder.batch_size().max(1) {
            let full = std::mem::take(&mut batch);
            out.extend(encode_windows(encoder, &mut frames, full)?);
        }
    }
    out.extend(encode_windows(encoder, &mut frames, batch)?);
    pipeline.join().into_result()?;
    Ok(out)
}

fn source(clips: Vec<Clip>, spec: &WindowSpec) -> Box<dyn Source> {
    let gap = spec.len_ns() + spec.stride_ns();
    Box::new(ReplaySource::new(
        Playlist::once(clips),
        Timestamp::ZERO,
        gap,
        Pacing::Unpaced,
    ))
}
