//! `mmcl demo`: the main job on embedded defaults, with no data and no hardware.
//!
//! Generates (or reuses) a small synthetic dataset in the UESTC-MMEA-CL layout, then
//! plays its clips through the daemon's pipeline (replay source thread -> bounded
//! channel -> aligner -> encoder -> learner), enrolling activities task by task. After
//! each task it prints live predictions and the accuracy on every class so far; at the
//! end the accuracy matrix and forgetting, and where the state and report were written.
//! Its settings come from the built-in profile (with the demo's stride) or `--config`,
//! with flags applied, like every other command's.

mod session;
mod summary;

use super::profile_args::{
    absolute, encoder_error, offline_dataset, print_settings, EncoderArgs, ProfileArgs,
};
use super::CliError;
use crate::config::raw::RawConfig;
use crate::config::Settings;
use crate::dataset::synth::{generate, Knobs, RawParams, SynthParams};
use crate::dataset::Dataset;
use crate::learn;
use anyhow::anyhow;
use session::Session;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the dataset, learner state and report go.
    #[arg(long, default_value = "target/mmcl-demo")]
    pub out: PathBuf,
    /// Activities in the synthetic dataset, 2 to 32.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u16).range(2..=32))]
    pub classes: u16,
    /// Clips per activity (about 70 % enroll, 30 % evaluate).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(2..=1000))]
    pub clips_per_class: u16,
    /// Activities enrolled per task, at least 1 and at most --classes.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub increment: u16,
    /// Learner strategy [default: the profile's, else the learner's default].
    #[arg(long)]
    pub strategy: Option<learn::Strategy>,
    /// Seed of the synthetic dataset.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Seconds between window starts [default: the profile's; 2.5 with the built-in profile].
    #[arg(long)]
    pub stride_seconds: Option<f64>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Print the final summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The demo's stride on the built-in profile: 2.5 s keeps the run under a minute
/// while each enrolled clip still gives several windows.
const DEMO_STRIDE_SECONDS: f64 = 2.5;

/// Windows encoded at once: one, as the daemon encodes them as they arrive; a batch of
/// 8 holds ~160 MB of activations in tract (`Settings::open_encoder_batched`).
const DEMO_BATCH: usize = 1;

pub fn run(args: Args) -> Result<(), CliError> {
    if args.increment > args.classes {
        return Err(CliError::Input(anyhow!(
            "--increment {} is more than --classes {}: a task cannot enroll more activities \
             than the dataset has",
            args.increment,
            args.classes
        )));
    }
    let settings = settings(&args)?;
    if args.profile.print_config {
        return print_settings(&settings);
    }
    let say = |line: String| {
        // A closed stdout silences the narration; the demo still finishes its work.
        if !args.json {
            let _ = super::print_line(&line);
        }
    };
    // The encoder first: a backend this build lacks is refused before any file is written.
    let encoder = settings
        .open_encoder_batched(DEMO_BATCH)
        .map_err(encoder_error)?;
    let dataset = prepare_dataset(&args, &say)?;
    let mut session = Session::start(&args, &settings, dataset, encoder, &say)?;
    for task in 0..session.tasks() {
        session.run_task(task)?;
    }
    summary::finish(&args, &settings, session)
}

/// The profile (built-in unless `--config`) with the demo's dataset, state
/// directory and flags applied.
fn settings(args: &Args) -> Result<Settings, CliError> {
    args.profile.offline_settings(|raw: &mut RawConfig| {
        offline_dataset(raw, &args.out.join("dataset"));
        raw.state_dir = Some(absolute(&args.out.join("state")));
        if args.profile.config.is_none() && raw.window.stride_seconds.is_none() {
            raw.window.stride_seconds = Some(DEMO_STRIDE_SECONDS);
        }
        if let Some(stride) = args.stride_seconds {
            raw.window.stride_seconds = Some(stride);
        }
        if let Some(strategy) = args.strategy {
            raw.learner.strategy = Some(strategy.name().to_string());
        }
        args.encoder.apply(&mut raw.encoder);
    })
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
            classes: Some(usize::from(args.classes)),
            clips_per_class: Some(usize::from(args.clips_per_class)),
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
