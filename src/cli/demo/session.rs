//! One demo run: the class model, the encoder and the evaluation windows, task by task.
//!
//! The demo is a client of the library's classes: each activity's windows become an
//! `Enrollment` applied to the `ClassModel` as a `Change`, exactly as the daemon applies
//! an enrollment from the control socket; predictions and accuracies read the published
//! model by class name.

use super::Args;
use crate::align::WindowSpec;
use crate::classes::{Applied, Change, ChangeKind, ClassModel, ClassName, Enrollment};
use crate::cli::CliError;
use crate::config::Settings;
use crate::dataset::{Clip, Dataset, Split};
use crate::embedding::Embedding;
use crate::encode::Encoder;
use crate::eval::{Protocol, ProtocolConfig};
use crate::learn::{self, ClassId};
use crate::pipeline::{replay_encoded, EncodedWindow};
use std::time::{SystemTime, UNIX_EPOCH};

/// The encoded windows of one evaluation clip, with its true class.
pub struct ClipWindows {
    pub clip: String,
    /// The dataset's label of the clip's activity.
    pub class: ClassId,
    /// The activity's name, as enrolled in the class book.
    pub name: String,
    pub embeddings: Vec<Embedding>,
}

pub struct Session<'a> {
    pub dataset: Dataset,
    pub encoder: Box<dyn Encoder>,
    pub spec: WindowSpec,
    pub protocol: Protocol,
    pub model: ClassModel,
    /// Val and test clips, encoded once and re-scored after every task.
    pub eval_clips: Vec<ClipWindows>,
    /// `rows[i][j]`: window accuracy on task j after task i.
    pub rows: Vec<Vec<f64>>,
    pub enrolled: usize,
    pub say: &'a dyn Fn(String),
}

impl<'a> Session<'a> {
    /// Builds the protocol and the learner and encodes the evaluation clips.
    pub fn start(
        args: &Args,
        settings: &Settings,
        dataset: Dataset,
        mut encoder: Box<dyn Encoder>,
        say: &'a dyn Fn(String),
    ) -> Result<Session<'a>, CliError> {
        let spec = settings.window().clone();
        let c = encoder.contract();
        let backend = encoder.backend();
        say(format!(
            "encoder {} ({}, {} on {}), {}-d embeddings; windows {:.2} s every {:.2} s",
            c.name,
            &c.sha256[..12],
            backend.name,
            backend.execution_provider,
            c.dim,
            spec.len_ns() as f64 * 1e-9,
            spec.stride_ns() as f64 * 1e-9
        ));
        let protocol = Protocol::new(&ProtocolConfig {
            classes: usize::from(args.classes),
            initial: usize::from(args.increment),
            increment: usize::from(args.increment),
            ..ProtocolConfig::default()
        })
        .map_err(|e| CliError::Input(e.into()))?;
        let learner =
            learn::build(c.dim, settings.learner()).map_err(|e| CliError::Input(e.into()))?;
        let model = ClassModel::new(learner);
        let eval_clips = encode_eval_clips(&dataset, encoder.as_mut(), &spec)?;
        Ok(Session {
            dataset,
            encoder,
            spec,
            protocol,
            model,
            eval_clips,
            rows: Vec::new(),
            enrolled: 0,
            say,
        })
    }

    pub fn tasks(&self) -> usize {
        self.protocol.tasks().len()
    }

    /// Enrolls task `task`'s classes, shows live predictions, records its accuracy row.
    pub fn run_task(&mut self, task: usize) -> Result<(), CliError> {
        let classes = self.protocol.tasks()[task].clone();
        (self.say)(format!(
            "\ntask {}/{}: enrolling {}",
            task + 1,
            self.tasks(),
            names(&classes)
        ));
        for &class in &classes {
            self.enroll(class)?;
        }
        self.show_predictions(&classes);
        let row = self.task_accuracies(task);
        let seen = self.accuracy(|t| t <= task);
        let seen_classes: usize = self.protocol.tasks()[..=task].iter().map(Vec::len).sum();
        let per_task: Vec<String> = row.iter().map(|a| format!("{:.1} %", 100.0 * a)).collect();
        (self.say)(format!(
            "after task {}: accuracy on all windows of the {seen_classes} activities so far {:.1} % \
             (final_accuracy_weighted); per task: {}",
            task + 1,
            100.0 * seen,
            per_task.join(", ")
        ));
        self.rows.push(row);
        Ok(())
    }

    /// Enrolls one class from its training clips, streamed through the pipeline.
    fn enroll(&mut self, class: ClassId) -> Result<(), CliError> {
        let clips: Vec<Clip> = self
            .dataset
            .split(Split::Train)
            .filter(|c| c.label() == class)
            .cloned()
            .collect();
        let n_clips = clips.len();
        let windows = stream_windows(clips, self.encoder.as_mut(), &self.spec)?;
        let Some(enrollment) = enrollment(class, windows)? else {
            (self.say)(format!("  {}: no usable window, skipped", name(class)));
            return Ok(());
        };
        let windows = enrollment.embeddings.len();
        let change = Change {
            at_ms: now_ms(),
            kind: ChangeKind::Enroll(enrollment),
        };
        let applied = self
            .model
            .apply(&change)
            .map_err(|e| CliError::Runtime(e.into()))?;
        let memory = match applied {
            Applied::Enrolled { report, .. } => report.memory_bytes,
            _ => self.model.current().learner().memory_bytes(),
        };
        (self.say)(format!(
            "  enrolled {:<20} {:>3} windows from {} clips  (learner memory {} of {} bytes)",
            name(class),
            windows,
            n_clips,
            memory,
            self.model.current().learner().budget_bytes()
        ));
        self.enrolled += windows;
        Ok(())
    }

    /// Prints the live prediction of the first window of one evaluation clip per class.
    fn show_predictions(&self, classes: &[ClassId]) {
        let model = self.model.current();
        for &class in classes {
            let first = self.eval_clips.iter().find_map(|c| {
                (c.class == class)
                    .then(|| c.embeddings.first().map(|e| (c, e)))
                    .flatten()
            });
            let Some((c, e)) = first else { continue };
            if let Ok(p) = model.predict(e) {
                let mark = if p.name == c.name { "ok" } else { "WRONG" };
                (self.say)(format!(
                    "  live: {} -> {} (confidence {:.2}) {mark}",
                    c.clip, p.name, p.confidence
                ));
            }
        }
    }

    /// Window accuracy on the evaluation clips of each task up to `last`.
    fn task_accuracies(&self, last: usize) -> Vec<f64> {
        (0..=last)
            .map(|task| self.accuracy(|t| t == task))
            .collect()
    }

    /// Window accuracy on the evaluation clips whose task passes `keep`.
    pub fn accuracy(&self, keep: impl Fn(usize) -> bool) -> f64 {
        let model = self.model.current();
        let (mut right, mut all) = (0usize, 0usize);
        let clips = self
            .eval_clips
            .iter()
            .filter(|c| self.protocol.task_of(c.class).is_some_and(&keep));
        for c in clips {
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
}

/// Plays `clips` through the pipeline and encodes every window.
fn stream_windows(
    clips: Vec<Clip>,
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<EncodedWindow>, CliError> {
    replay_encoded(clips, spec, encoder).map_err(|e| CliError::Runtime(e.into()))
}

/// The enrollment of `class` from its encoded windows; `None` when there are none.
fn enrollment(class: ClassId, windows: Vec<EncodedWindow>) -> Result<Option<Enrollment>, CliError> {
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok(None);
    };
    let span = (first.start, last.end);
    let label = ClassName::new(&name(class)).map_err(|e| CliError::Runtime(e.into()))?;
    Ok(Some(Enrollment {
        label,
        span,
        source: format!(
            "replay of the demo dataset's training clips of {}",
            name(class)
        ),
        embeddings: windows.into_iter().map(|w| w.encoded.embedding).collect(),
    }))
}

/// Unix milliseconds now (0 if the clock is before 1970).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The val and test clips, each played and encoded on its own.
fn encode_eval_clips(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<ClipWindows>, CliError> {
    let clips: Vec<&Clip> = (dataset.clips().iter())
        .filter(|c| c.split() != Split::Train)
        .collect();
    // On stderr, drawn only on a terminal (indicatif hides it otherwise).
    let bar = indicatif::ProgressBar::new(clips.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "encoding the evaluation clips [{bar:30}] {pos}/{len} {elapsed} (eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut out = Vec::new();
    for clip in bar.wrap_iter(clips.into_iter()) {
        let windows = stream_windows(vec![clip.clone()], encoder, spec)?;
        out.push(ClipWindows {
            clip: clip.id().to_string(),
            class: clip.label(),
            name: name(clip.label()),
            embeddings: windows.into_iter().map(|w| w.encoded.embedding).collect(),
        });
    }
    bar.finish_and_clear();
    Ok(out)
}

fn name(class: ClassId) -> String {
    crate::dataset::layout::CLASS_NAMES
        .get(class as usize)
        .map_or_else(|| format!("class {class}"), |n| n.to_string())
}

fn names(classes: &[ClassId]) -> String {
    classes
        .iter()
        .map(|c| name(*c))
        .collect::<Vec<_>>()
        .join(", ")
}
