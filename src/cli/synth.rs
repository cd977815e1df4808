//! `mmcl synth --out DIR`: writes a synthetic dataset in the UESTC-MMEA-CL layout
//! (docs/synth.md). Bad flags, unreadable `--like` lists and a non-empty `--out` without
//! `--force` are usage errors (exit 2); a failed write is a runtime error (exit 1).

use super::{print_json, print_line, progress, CliError};
use crate::dataset::synth::{self, Knobs, RawParams, SynthParams, DEFAULT_SIZE};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset root to write (refused if it exists and is not empty, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of activities, the first N of the 32 [default: 32].
    #[arg(long)]
    pub classes: Option<usize>,
    /// Clips per activity, split ~70/10/20 into train/val/test; at least 3 [default: 10].
    #[arg(long)]
    pub clips_per_class: Option<usize>,
    /// Seed of every random choice; the same arguments write byte-identical files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Frame width and height in pixels (16..=512).
    #[arg(long, default_value_t = DEFAULT_SIZE)]
    pub size: u32,
    /// Mirror the clips, labels, splits and durations of DIR/{train,val,test}.txt.
    #[arg(long, value_name = "DIR")]
    pub like: Option<PathBuf>,
    /// Sensor noise, bias and drift scale (0..=10).
    #[arg(long, default_value_t = Knobs::default().noise)]
    pub noise: f32,
    /// Pull of class signatures toward their family mean (0 distinct .. 1 identical).
    #[arg(long, default_value_t = Knobs::default().overlap)]
    pub overlap: f32,
    /// Probability that a clip lacks its video or its sensor file.
    #[arg(long, default_value_t = Knobs::default().missing_rate)]
    pub missing_rate: f32,
    /// Probability that a clip holds a stuck-sensor run.
    #[arg(long, default_value_t = Knobs::default().dropout_rate)]
    pub dropout_rate: f32,
    /// Frames per second of clip time (sensor rows are always 25 per second).
    #[arg(long, default_value_t = Knobs::default().video_fps)]
    pub video_fps: f32,
    /// Write into a non-empty --out, overwriting only the files this run writes.
    #[arg(long)]
    pub force: bool,
    /// Print the counts as JSON instead of one line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let knobs = Knobs {
        noise: args.noise,
        overlap: args.overlap,
        missing_rate: args.missing_rate,
        dropout_rate: args.dropout_rate,
        video_fps: args.video_fps,
    };
    let raw = RawParams {
        classes: args.classes,
        clips_per_class: args.clips_per_class,
        like: args.like,
        seed: args.seed,
        size: args.size,
        knobs,
    };
    let params = SynthParams::new(raw).map_err(|e| CliError::Input(e.into()))?;
    let bar = progress::bar(0, "writing clips", args.json);
    let on_clip = |done: usize, of: usize| {
        bar.set_length(of as u64);
        bar.set_position(done as u64);
    };
    let written = synth::generate_observed(&params, &args.out, args.force, &on_clip);
    bar.finish_and_clear();
    let summary = written.map_err(|e| match e.is_input() {
        true => CliError::Input(e.into()),
        false => CliError::Runtime(e.into()),
    })?;
    if args.json {
        print_json(&summary)
    } else {
        print_line(&summary.line())
    }
}
