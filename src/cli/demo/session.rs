//! One demo run: the learner, the encoder and the evaluation windows, task by task.

use super::Args;
use crate::align::WindowSpec;
use crate::cli::CliError;
use crate::config::Settings;
use crate::dataset::{Clip, Dataset, Split};
use crate::embedding::Embedding;
use crate::encode::Encoder;
use crate::eval::{Protocol, ProtocolConfig};
use crate::learn::{self, ClassId, Learner};
use crate::pipeline::replay_encoded;

/// The encoded windows of one evaluation clip, with its true class.
pub struct ClipWindows {
    pub clip: String,
    pub class: ClassId,
    pub embeddings: Vec<Embedding>,
}

pub struct Session<'a> {
    pub dataset: Dataset,
    pub encoder: Box<dyn Encoder>,
    pub spec: WindowSpec,
    pub protocol: Protocol,
    pub learner: Box<dyn Learner>,
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
            classes: args.classes,
            initial: args.increment,
            increment: args.increment,
            ..ProtocolConfig::default()
        })
        .map_err(|e| CliError::Input(e.into()))?;
        let learner =
            learn::build(c.dim, settings.learner()).map_err(|e| CliError::Input(e.into()))?;
        let eval_clips = encode_eval_clips(&dataset, encoder.as_mut(), &spec)?;
        Ok(Session {
            dataset,
            encoder,
            spec,
            protocol,
            learner,
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
        let per_task: Vec<String> = row.iter().map(|a| format!("{:.0} %", 100.0 * a)).collect();
        (self.say)(format!(
            "after task {}: accuracy on the {seen_classes} activities so far {:.1} %  (per task: {})",
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
        let embeddings = stream_embeddings(clips, self.encoder.as_mut(), &self.spec)?;
        if embeddings.is_empty() {
            (self.say)(format!("  {}: no usable window, skipped", name(class)));
            return Ok(());
        }
        let labels = vec![class; embeddings.len()];
        let report = self
            .learner
            .learn(&embeddings, &labels)
            .map_err(|e| CliError::Runtime(e.into()))?;
        (self.say)(format!(
            "  enrolled {:<20} {:>3} windows from {} clips  (learner {} / {} bytes)",
            name(class),
            embeddings.len(),
            n_clips,
            report.memory_bytes,
            self.learner.budget_bytes()
        ));
        self.enrolled += embeddings.len();
        Ok(())
    }

    /// Prints the live prediction of the first window of one evaluation clip per class.
    fn show_predictions(&self, classes: &[ClassId]) {
        for &class in classes {
            let first = self.eval_clips.iter().find_map(|c| {
                (c.class == class)
                    .then(|| c.embeddings.first().map(|e| (c, e)))
                    .flatten()
            });
            let Some((c, e)) = first else { continue };
            if let Ok(p) = self.learner.predict(e) {
                let mark = if p.class == class { "ok" } else { "WRONG" };
                (self.say)(format!(
                    "  live: {} -> {} ({:.2}) {mark}",
                    c.clip,
                    name(p.class),
                    p.confidence
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
        let (mut right, mut all) = (0usize, 0usize);
        let clips = self
            .eval_clips
            .iter()
            .filter(|c| self.protocol.task_of(c.class).is_some_and(&keep));
        for c in clips {
            for e in &c.embeddings {
                all += 1;
                right += usize::from(self.learner.predict(e).is_ok_and(|p| p.class == c.class));
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
fn stream_embeddings(
    clips: Vec<Clip>,
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<Embedding>, CliError> {
    let encoded = replay_encoded(clips, spec, encoder).map_err(|e| CliError::Runtime(e.into()))?;
    Ok(encoded.into_iter().map(|e| e.encoded.embedding).collect())
}

/// The val and test clips, each played and encoded on its own.
fn encode_eval_clips(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<ClipWindows>, CliError> {
    let mut out = Vec::new();
    for clip in dataset.clips().iter().filter(|c| c.split() != Split::Train) {
        out.push(ClipWindows {
            clip: clip.id().to_string(),
            class: clip.label(),
            embeddings: stream_embeddings(vec![clip.clone()], encoder, spec)?,
        });
    }
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
