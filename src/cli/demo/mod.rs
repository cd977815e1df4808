//! `mmcl demo`: the main job on embedded defaults, with no data and no hardware.
//!
//! Generates (or reuses) a small synthetic dataset in the UESTC-MMEA-CL layout, then
//! plays its clips through the daemon's pipeline (replay source thread -> bounded
//! channel -> aligner -> encoder -> learner), enrolling activities task by task. After
//! each task it prints live predictions and the accuracy on every class so far; at the
//! end the accuracy matrix and forgetting, and where the state and report were written.

mod session;
mod summary;

use super::encoder_args::EncoderArgs;
use super::CliError;
use crate::align::{WindowParams, WindowSpec};
use crate::dataset::synth::{generate, Knobs, RawParams, SynthParams};
use crate::dataset::Dataset;
use crate::encode::dataset::window_params;
use crate::encode::Encoder;
use crate::learn;
use anyhow::anyhow;
use session::Session;
use std::path::PathBuf;

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

pub fn run(args: Args) -> Result<(), CliError> {
    check_args(&args)?;
    let say = |line: String| {
        // A closed stdout silences the narration; the demo still finishes its work.
        if !args.json {
            let _ = super::print_line(&line);
        }
    };
    let dataset = prepare_dataset(&args, &say)?;
    let encoder = args.encoder.open(&args.out)?;
    let spec = window_spec(encoder.as_ref(), args.stride_seconds)?;
    let mut session = Session::start(&args, dataset, encoder, spec, &say)?;
    for task in 0..session.tasks() {
        session.run_task(task)?;
    }
    summary::finish(&args, session)
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
