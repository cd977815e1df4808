//! `mmcl demo`: the main job on embedded defaults, with no data and no hardware.
//!
//! Generates (or reuses) a small synthetic dataset in the UESTC-MMEA-CL layout, then
//! plays its clips through the daemon's pipeline (replay source thread -> bounded
//! channel -> aligner -> encoder -> learner), enrolling activities task by task. After
//! each task it prints live predictions and the accuracy on every class so far; at the
//! end the accuracy matrix and forgetting, and where the state and report were written.

use super::encoder_args::EncoderArgs;
use super::{print_json, CliError};
use crate::align::{WindowParams, WindowSpec};
use crate::dataset::synth::{generate, Knobs, RawParams, SynthParams};
use crate::dataset::{Clip, Dataset, Split};
use crate::embedding::Embedding;
use crate::encode::dataset::window_params;
use crate::encode::Encoder;
use crate::eval::metrics::{backward_transfer, final_average_accuracy, forgetting, AccuracyMatrix};
use crate::eval::{Protocol, ProtocolConfig};
use crate::learn::{self, ClassId, Learner, LearnerConfig};
use crate::pipeline::{ChannelPolicy, SourceFeed, WindowStream};
use crate::sensor::replay::{Pacing, ReplaySource};
use crate::store::SnapshotStore;
use crate::time::Timestamp;
use anyhow::anyhow;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the dataset, learner state and report go.
    #[arg(long, default_value = "target/mmcl-demo")]
    pub out: PathBuf,
    /// Activities in the synthetic dataset.
    #[arg(long, default_value_t = 12)]
    pub classes: usize,
    /// Clips per activity (about 70 % enroll, 30 % evaluate).
    #[arg(long, default_value_t = 8)]
    pub clips_per_class: usize,
    /// Activities enrolled per task.
    #[arg(long, default_value_t = 4)]
    pub increment: usize,
    /// Learner strategy.
    #[arg(long, default_value = "proto")]
    pub strategy: String,
    /// Seed of the synthetic dataset.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Seconds between window starts.
    #[arg(long, default_value_t = 2.5)]
    pub stride_seconds: f64,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Print the final summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The encoded windows of one clip, with its true class.
struct ClipWindows {
    clip: String,
    class: ClassId,
    embeddings: Vec<Embedding>,
}

#[derive(serde::Serialize)]
struct Summary {
    strategy: String,
    classes: usize,
    tasks: usize,
    accuracy_matrix: Vec<Vec<f64>>,
    final_accuracy: f64,
    forgetting: Option<f64>,
    bwt: Option<f64>,
    learner_bytes: usize,
    budget_bytes: usize,
    windows_enrolled: usize,
    windows_evaluated: usize,
    state: PathBuf,
    report: PathBuf,
}

pub fn run(args: Args) -> Result<(), CliError> {
    check_args(&args)?;
    let say = |line: String| {
        if !args.json {
            println!("{line}");
        }
    };
    let dataset = prepare_dataset(&args, &say)?;
    let mut encoder = args.encoder.open(&args.out)?;
    let spec = window_spec(encoder.as_ref(), args.stride_seconds)?;
    let backend = encoder.backend();
    say(format!(
        "encoder {} ({}, {} on {}), {}-d embeddings; windows {:.2} s every {:.2} s",
        encoder.contract().name,
        &encoder.contract().sha256[..12],
        backend.name,
        backend.execution_provider,
        encoder.contract().dim,
        spec.len_ns() as f64 * 1e-9,
        args.stride_seconds
    ));
    let protocol = Protocol::new(&ProtocolConfig {
        classes: args.classes,
        initial: args.increment,
        increment: args.increment,
        ..ProtocolConfig::default()
    })
    .map_err(|e| CliError::Input(e.into()))?;
    let dim = encoder.contract().dim;
    let mut learner = learn::build(dim, &LearnerConfig::for_strategy(&args.strategy, dim))
        .map_err(|e| CliError::Input(e.into()))?;
    let eval_clips = encode_split(
        &dataset,
        &[Split::Val, Split::Test],
        encoder.as_mut(),
        &spec,
    )?;
    let mut rows = Vec::new();
    let mut enrolled = 0;
    for (task, classes) in protocol.tasks().iter().enumerate() {
        say(format!(
            "\ntask {}/{}: enrolling {}",
            task + 1,
            protocol.tasks().len(),
            names(classes)
        ));
        enrolled += enroll(
            &dataset,
            classes,
            encoder.as_mut(),
            &spec,
            learner.as_mut(),
            &say,
        )?;
        show_predictions(&eval_clips, classes, learner.as_ref(), &say);
        let row = evaluate(&eval_clips, &protocol, task, learner.as_ref());
        let seen = seen_accuracy(&eval_clips, &protocol, task, learner.as_ref());
        say(format!(
            "after task {}: accuracy on the {} activities so far {:.1} %  (per task: {})",
            task + 1,
            protocol.tasks()[..=task]
                .iter()
                .map(Vec::len)
                .sum::<usize>(),
            100.0 * seen,
            row.iter()
                .map(|a| format!("{:.0} %", 100.0 * a))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        rows.push(row);
    }
    finish(
        &args,
        &protocol,
        rows,
        learner.as_ref(),
        encoder.as_ref(),
        enrolled,
        &eval_clips,
        &say,
    )
}

fn check_args(args: &Args) -> Result<(), CliError> {
    if !learn::STRATEGIES.contains(&args.strategy.as_str()) {
        return Err(CliError::Input(anyhow!(
            "--strategy {:?}: unknown (known: {})",
            args.strategy,
            learn::STRATEGIES.join(", ")
        )));
    }
    if !(args.stride_seconds > 0.0 && args.stride_seconds <= 60.0) {
        return Err(CliError::Input(anyhow!(
            "--stride-seconds {}: must be in (0, 60]",
            args.stride_seconds
        )));
    }
    Ok(())
}

/// Generates the demo dataset unless the same parameters already produced it.
fn prepare_dataset(args: &Args, say: &dyn Fn(String)) -> Result<Dataset, CliError> {
    let dir = args.out.join("dataset");
    // The stamp names everything that shapes the data, the generator's knobs included,
    // so a newer mmcl with other defaults regenerates rather than reusing stale clips.
    let stamp = format!(
        "classes={} clips={} seed={} knobs={:?}\n",
        args.classes,
        args.clips_per_class,
        args.seed,
        Knobs::default()
    );
    let stamp_path = args.out.join("dataset.params");
    if std::fs::read_to_string(&stamp_path).ok().as_deref() != Some(stamp.as_str()) {
        let params = SynthParams::new(RawParams {
            classes: Some(args.classes),
            clips_per_class: Some(args.clips_per_class),
            like: None,
            seed: args.seed,
            size: 64,
            knobs: Knobs::default(),
        })
        .map_err(|e| CliError::Input(e.into()))?;
        say(format!(
            "writing a synthetic dataset to {} ...",
            dir.display()
        ));
        let summary = generate(&params, &dir, true).map_err(|e| CliError::Runtime(e.into()))?;
        say(format!(
            "  {} files, {} KiB",
            summary.files,
            summary.bytes / 1024
        ));
        std::fs::write(&stamp_path, &stamp)
            .map_err(|e| CliError::Runtime(anyhow!("write {}: {e}", stamp_path.display())))?;
    } else {
        say(format!(
            "reusing the synthetic dataset in {}",
            dir.display()
        ));
    }
    Dataset::open(&dir).map_err(|e| CliError::Runtime(e.into()))
}

fn window_spec(encoder: &dyn Encoder, stride_seconds: f64) -> Result<WindowSpec, CliError> {
    let c = encoder.contract();
    let params = window_params(c);
    WindowSpec::new(WindowParams {
        stride_seconds: stride_seconds.min(params.seconds),
        ..params
    })
    .map_err(|e| CliError::Input(anyhow!("window for encoder {}: {e}", c.name)))
}

/// Plays `clips` through the pipeline and encodes every non-empty window.
fn stream_embeddings(
    clips: Vec<Clip>,
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<Embedding>, CliError> {
    // Silence between clips longer than a window: no window mixes two clips.
    let gap = spec.len_ns() + spec.stride_ns();
    let source = ReplaySource::new(clips, Timestamp::ZERO, gap, Pacing::Unpaced);
    let feed = SourceFeed::spawn(Box::new(source), 256, ChannelPolicy::Block);
    let stream = WindowStream::new(feed, spec.clone(), Timestamp::ZERO)
        .map_err(|e| CliError::Runtime(e.into()))?;
    let mut windows = Vec::new();
    for w in stream {
        let w = w.map_err(|e| CliError::Runtime(e.into()))?;
        if !w.is_empty() {
            windows.push(w);
        }
    }
    let encoded = encoder
        .encode(&windows)
        .map_err(|e| CliError::Runtime(e.into()))?;
    Ok(encoded.into_iter().map(|e| e.embedding).collect())
}

fn encode_split(
    dataset: &Dataset,
    splits: &[Split],
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
) -> Result<Vec<ClipWindows>, CliError> {
    let mut out = Vec::new();
    for clip in dataset
        .clips()
        .iter()
        .filter(|c| splits.contains(&c.split()))
    {
        out.push(ClipWindows {
            clip: clip.id().to_string(),
            class: clip.label(),
            embeddings: stream_embeddings(vec![clip.clone()], encoder, spec)?,
        });
    }
    Ok(out)
}

/// Enrolls each class of a task from its training clips; returns windows learned.
fn enroll(
    dataset: &Dataset,
    classes: &[ClassId],
    encoder: &mut dyn Encoder,
    spec: &WindowSpec,
    learner: &mut dyn Learner,
    say: &dyn Fn(String),
) -> Result<usize, CliError> {
    let mut total = 0;
    for &class in classes {
        let clips: Vec<Clip> = dataset
            .split(Split::Train)
            .filter(|c| c.label() == class)
            .cloned()
            .collect();
        let n_clips = clips.len();
        let embeddings = stream_embeddings(clips, encoder, spec)?;
        if embeddings.is_empty() {
            say(format!("  {}: no usable window, skipped", name(class)));
            continue;
        }
        let labels = vec![class; embeddings.len()];
        let report = learner
            .learn(&embeddings, &labels)
            .map_err(|e| CliError::Runtime(e.into()))?;
        say(format!(
            "  enrolled {:<20} {:>3} windows from {} clips  (learner {} / {} bytes)",
            name(class),
            embeddings.len(),
            n_clips,
            report.memory_bytes,
            learner.budget_bytes()
        ));
        total += embeddings.len();
    }
    Ok(total)
}

/// Prints the live prediction of the first window of one evaluation clip per class.
fn show_predictions(
    clips: &[ClipWindows],
    classes: &[ClassId],
    learner: &dyn Learner,
    say: &dyn Fn(String),
) {
    for &class in classes {
        let Some(c) = clips
            .iter()
            .find(|c| c.class == class && !c.embeddings.is_empty())
        else {
            continue;
        };
        if let Ok(p) = learner.predict(&c.embeddings[0]) {
            let mark = if p.class == class { "ok" } else { "WRONG" };
            say(format!(
                "  live: {} -> {} ({:.2}) {mark}",
                c.clip,
                name(p.class),
                p.confidence
            ));
        }
    }
}

/// Window accuracy on the evaluation clips of each task seen so far.
fn evaluate(
    clips: &[ClipWindows],
    protocol: &Protocol,
    last: usize,
    learner: &dyn Learner,
) -> Vec<f64> {
    (0..=last)
        .map(|task| {
            let in_task = |c: &&ClipWindows| protocol.task_of(c.class) == Some(task);
            accuracy(clips.iter().filter(in_task), learner)
        })
        .collect()
}

fn seen_accuracy(
    clips: &[ClipWindows],
    protocol: &Protocol,
    last: usize,
    learner: &dyn Learner,
) -> f64 {
    let seen = |c: &&ClipWindows| protocol.task_of(c.class).is_some_and(|t| t <= last);
    accuracy(clips.iter().filter(seen), learner)
}

fn accuracy<'a>(clips: impl Iterator<Item = &'a ClipWindows>, learner: &dyn Learner) -> f64 {
    let (mut right, mut all) = (0usize, 0usize);
    for c in clips {
        for e in &c.embeddings {
            all += 1;
            right += usize::from(learner.predict(e).is_ok_and(|p| p.class == c.class));
        }
    }
    if all == 0 {
        0.0
    } else {
        right as f64 / all as f64
    }
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

#[allow(clippy::too_many_arguments)]
fn finish(
    args: &Args,
    protocol: &Protocol,
    rows: Vec<Vec<f64>>,
    learner: &dyn Learner,
    encoder: &dyn Encoder,
    enrolled: usize,
    eval_clips: &[ClipWindows],
    say: &dyn Fn(String),
) -> Result<(), CliError> {
    let matrix = AccuracyMatrix::new(rows.clone()).map_err(|e| CliError::Runtime(e.into()))?;
    let state = save_state(&args.out.join("state"), encoder, learner)?;
    let summary = Summary {
        strategy: args.strategy.clone(),
        classes: args.classes,
        tasks: protocol.tasks().len(),
        accuracy_matrix: rows,
        final_accuracy: final_average_accuracy(&matrix),
        forgetting: forgetting(&matrix),
        bwt: backward_transfer(&matrix),
        learner_bytes: learner.memory_bytes(),
        budget_bytes: learner.budget_bytes(),
        windows_enrolled: enrolled,
        windows_evaluated: eval_clips.iter().map(|c| c.embeddings.len()).sum(),
        state,
        report: args.out.join("demo-report.json"),
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| CliError::Runtime(e.into()))?;
    std::fs::write(&summary.report, json + "\n")
        .map_err(|e| CliError::Runtime(anyhow!("write {}: {e}", summary.report.display())))?;
    if args.json {
        return print_json(&summary);
    }
    say(format!(
        "\naccuracy matrix (row i: after task i; column j: task j)\n{}",
        matrix_text(&summary.accuracy_matrix)
    ));
    say(format!(
        "final average accuracy {:.1} %, forgetting {}, BWT {}; learner {} of {} bytes",
        100.0 * summary.final_accuracy,
        percent(summary.forgetting),
        percent(summary.bwt),
        summary.learner_bytes,
        summary.budget_bytes
    ));
    say(format!(
        "state: {}\nreport: {}",
        summary.state.display(),
        summary.report.display()
    ));
    Ok(())
}

fn save_state(
    dir: &Path,
    encoder: &dyn Encoder,
    learner: &dyn Learner,
) -> Result<PathBuf, CliError> {
    let store = SnapshotStore::open(dir, 3).map_err(|e| CliError::Runtime(e.into()))?;
    let seq = store
        .commit(&encoder.contract().sha256, &learner.save())
        .map_err(|e| CliError::Runtime(e.into()))?;
    Ok(store.path_of(seq))
}

fn matrix_text(rows: &[Vec<f64>]) -> String {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|a| format!("{:>6.1}", 100.0 * a))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{:.1} points", 100.0 * x))
}
