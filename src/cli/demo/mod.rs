//! `mmcl demo`: the main job on embedded defaults, with no data and no hardware.
//!
//! Generates (or reuses) a small synthetic dataset in the UESTC-MMEA-CL layout, encodes
//! its held-out clips, then starts the real daemon (`mmcl run` as a child, `service`) on
//! a replay of the training clips, sped up, with its own state directory and control
//! socket, and acts as a user would through that socket (`user`): enrolls each activity
//! while it plays, task by task, watches the live predictions and the online accuracy,
//! scores the exported learner on the held-out clips after each task, stops the daemon
//! with SIGTERM and restarts it on the same state to show it still knows every class.
//! Its settings come from the built-in profile (with the demo's stride) or `--config`,
//! with flags applied, like every other command's.

mod heldout;
mod service;
mod session;
mod summary;
mod user;

use super::profile_args::{absolute, encoder_error, print_settings, EncoderArgs, ProfileArgs};
use super::CliError;
use crate::config::raw::{RawConfig, RawReplay, RawSources};
use crate::config::Settings;
use crate::dataset::synth::{generate, Knobs, RawParams, SynthParams};
use crate::dataset::Dataset;
use crate::eval::{Protocol, ProtocolConfig};
use crate::learn;
use anyhow::anyhow;
use session::Session;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the dataset, the daemon's profile, log and state, and the report go.
    #[arg(long, default_value = "target/mmcl-demo")]
    pub out: PathBuf,
    /// Activities in the synthetic dataset, 2 to 32.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u16).range(2..=32))]
    pub classes: u16,
    /// Clips per activity (about 70 % play for enrollment, 30 % are held out).
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
    /// How much faster than real time the daemon plays the clips, 0.1 to 100.
    #[arg(long, default_value_t = DEMO_SPEED, value_parser = speed)]
    pub speed: f64,
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

/// The replay speed: fast enough for the minute the README promises, slow enough that
/// one core of a loaded 2-core machine encodes every window in time.
const DEMO_SPEED: f64 = 32.0;

/// Windows queued before the encoder: a sped-up replay on a loaded machine fills the
/// queue, and each window holds its frames (~5 MB), so the default 64 cost the daemon
/// ~380 MiB; with 8 the aligner waits and the replay's oldest frames drop instead.
const DEMO_WINDOW_CAPACITY: i64 = 8;

/// Windows encoded at once for the held-out clips: one, as the daemon encodes them as
/// they arrive; a batch of 8 holds ~160 MB of activations in tract.
const DEMO_BATCH: usize = 1;

fn speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.1..=100.0).contains(&s) => Ok(s),
        _ => Err(format!("{text:?} is not a speed from 0.1 to 100")),
    }
}

/// Which clips the daemon plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Playlist {
    /// Every training clip, class by class in the protocol's order (enrollment).
    Train,
    /// One held-out (test) clip per class (after the restart).
    HeldOut,
}

pub fn run(args: Args) -> Result<(), CliError> {
    if args.increment > args.classes {
        return Err(CliError::Input(anyhow!(
            "--increment {} is more than --classes {}: a task cannot enroll more activities \
             than the dataset has",
            args.increment,
            args.classes
        )));
    }
    let protocol = protocol(&args)?;
    let order = class_order(&protocol);
    let settings = settings(&args, &order, Playlist::Train)?;
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
    let mut encoder = settings
        .open_encoder_batched(DEMO_BATCH)
        .map_err(encoder_error)?;
    let dataset = prepare_dataset(&args, &say)?;
    say(describe(encoder.as_ref(), &settings));
    let heldout = heldout::encode(&dataset, encoder.as_mut(), settings.window())?;
    // The daemon opens its own encoder; this one is not needed any more.
    drop(encoder);
    clear_state(&settings)?;
    let mut session = Session {
        protocol,
        heldout,
        rows: Vec::new(),
        tasks: Vec::new(),
        activities: Vec::new(),
        say: &say,
    };
    let stopped = session.learn(&settings, &dataset, &args.out)?;
    let again = settings_held_out(&args, &order, &dataset)?;
    let restart = session.restart(&again.0, &args.out, &stopped, &again.1)?;
    summary::finish(&args, &settings, session, restart)
}

/// The class-incremental protocol of `--classes` and `--increment` (class order seed 1993).
fn protocol(args: &Args) -> Result<Protocol, CliError> {
    Protocol::new(&ProtocolConfig {
        classes: usize::from(args.classes),
        initial: usize::from(args.increment),
        increment: usize::from(args.increment),
        ..ProtocolConfig::default()
    })
    .map_err(|e| CliError::Input(e.into()))
}

/// Every class's name in the protocol's order.
fn class_order(protocol: &Protocol) -> Vec<String> {
    (protocol.tasks().iter().flatten())
        .map(|&c| session::name(c))
        .collect()
}

/// The restart's settings, and the classes its playlist plays, in order.
fn settings_held_out(
    args: &Args,
    order: &[String],
    dataset: &Dataset,
) -> Result<(Settings, Vec<String>), CliError> {
    let settings = settings(args, order, Playlist::HeldOut)?;
    let played: Vec<String> = (settings.config().sources().replay())
        .map(|r| crate::daemon::playlist_clips(dataset, r))
        .unwrap_or_default()
        .iter()
        .map(crate::daemon::truth_name)
        .collect();
    Ok((settings, played))
}

/// The daemon's profile: the built-in one (or `--config`) with the demo's replay of its
/// dataset, state directory, socket and flags applied.
fn settings(args: &Args, order: &[String], playlist: Playlist) -> Result<Settings, CliError> {
    args.profile.offline_settings(|raw: &mut RawConfig| {
        raw.sources = RawSources {
            replay: Some(replay(args, order, playlist)),
            ..RawSources::default()
        };
        raw.state_dir = Some(absolute(&args.out.join("state")));
        raw.control.socket = Some(absolute(&args.out.join("control.sock")));
        if args.profile.config.is_none() && raw.window.stride_seconds.is_none() {
            raw.window.stride_seconds = Some(DEMO_STRIDE_SECONDS);
        }
        if args.profile.config.is_none() && raw.channels.window_capacity.is_none() {
            raw.channels.window_capacity = Some(DEMO_WINDOW_CAPACITY);
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

fn replay(args: &Args, order: &[String], playlist: Playlist) -> RawReplay {
    let (split, clips_per_class) = match playlist {
        Playlist::Train => ("train", None),
        Playlist::HeldOut => ("test", Some(1)),
    };
    RawReplay {
        dataset: Some(absolute(&args.out.join("dataset"))),
        split: Some(split.to_string()),
        speed: Some(args.speed),
        // Looping: the activity after the last one is the first again, which ends the
        // demo's watching of the last one.
        looping: Some(true),
        order: Some("by-class".to_string()),
        classes: Some(order.to_vec()),
        clips_per_class,
    }
}

fn describe(encoder: &dyn crate::encode::Encoder, settings: &Settings) -> String {
    let c = encoder.contract();
    let backend = encoder.backend();
    let spec = settings.window();
    format!(
        "encoder {} ({}, {} on {}), {}-d embeddings; windows {:.2} s every {:.2} s",
        c.name,
        c.sha256.get(..12).unwrap_or(&c.sha256),
        backend.name,
        backend.execution_provider,
        c.dim,
        spec.len_ns() as f64 * 1e-9,
        spec.stride_ns() as f64 * 1e-9
    )
}

/// A previous demo's state goes: the daemon starts knowing no class.
fn clear_state(settings: &Settings) -> Result<(), CliError> {
    let dir = settings.config().state_dir();
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::Runtime(anyhow!(
            "clear the previous demo's state {}: {e}",
            dir.display()
        ))),
    }
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
