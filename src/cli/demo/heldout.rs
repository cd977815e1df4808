//! The held-out clips (val and test) the accuracy matrix is measured on: encoded once by
//! the demo itself, before the daemon starts, then re-scored after every task on the
//! learner the daemon exports through its control socket (`snapshot export`), as
//! `bench cl` scores a learner after each task.

use crate::align::WindowSpec;
use crate::classes::Model;
use crate::cli::CliError;
use crate::dataset::{Clip, Dataset, Split};
use crate::embedding::Embedding;
use crate::encode::Encoder;
use crate::eval::Protocol;
use crate::learn::ClassId;
use crate::pipeline::replay_encoded;

/// The encoded windows of one held-out clip, with its true class.
pub struct HeldOutClip {
    /// The dataset's label of the clip's activity.
    pub class: ClassId,
    /// The activity's name as the daemon knows it (`daemon::truth_name`).
    pub name: String,
    pub embeddings: Vec<Embedding>,
}

/// The val and test clips, each played through the pipeline and encoded on its own,
/// with a progress bar on stderr (drawn only on a terminal).
pub fn encode(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<HeldOutClip>, CliError> {
    let clips: Vec<&Clip> = (dataset.clips().iter())
        .filter(|c| c.split() != Split::Train)
        .collect();
    let bar = indicatif::ProgressBar::new(clips.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "encoding the held-out clips [{bar:30}] {pos}/{len} {elapsed} (eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut out = Vec::new();
    for clip in bar.wrap_iter(clips.into_iter()) {
        let windows = replay_encoded(vec![clip.clone()], spec, encoder)
            .map_err(|e| CliError::Runtime(e.into()))?;
        out.push(HeldOutClip {
            class: clip.label(),
            name: crate::daemon::truth_name(clip),
            embeddings: windows.into_iter().map(|w| w.encoded.embedding).collect(),
        });
    }
    bar.finish_and_clear();
    Ok(out)
}

/// Window accuracy of `model` on the clips whose task passes `keep` (0 when none).
pub fn accuracy(
    model: &Model,
    clips: &[HeldOutClip],
    protocol: &Protocol,
    keep: impl Fn(usize) -> bool,
) -> f64 {
    let (mut right, mut all) = (0usize, 0usize);
    let kept = clips
        .iter()
        .filter(|c| protocol.task_of(c.class).is_some_and(&keep));
    for c in kept {
        for e in &c.embeddings {
            all += 1;
            right += usize::from(model.predict(e).is_ok_and(|p| p.name == c.name));
        }
    }
    if all == 0 {
        0.0
    } else {
        right as f64 / all as f64
    }
}

/// Row `last` of the accuracy matrix: the accuracy on each task `0..=last`.
pub fn row(model: &Model, clips: &[HeldOutClip], protocol: &Protocol, last: usize) -> Vec<f64> {
    (0..=last)
        .map(|task| accuracy(model, clips, protocol, |t| t == task))
        .collect()
}

/// Windows over every held-out clip.
pub fn windows(clips: &[HeldOutClip]) -> usize {
    clips.iter().map(|c| c.embeddings.len()).sum()
}
