//! `mmcl bench daemon`: the daemon in this process on a profile whose sources are replaced
//! by a replay of a dataset, at real time (or `--speed`) for `--minutes`, with enrollments
//! during the run. Prints windows/s, end-to-end latency (window end -> prediction) p50/p99,
//! peak RSS, CPU per window and per second of stream, the real-time factor (stride over
//! CPU per window: how many times faster than real time a continuous stream is handled),
//! and, for each enrollment, the windows it captured against those predicted meanwhile.

use super::profile_args::{absolute, print_settings, settings_error, EncoderArgs};
use super::{print_json, CliError};
use crate::config::raw::{RawReplay, RawSources};
use crate::config::{Config, RawConfig, Settings};
use crate::control::ControlTarget;
use crate::daemon::{self, peak_rss_bytes, Daemon, Notifier, StartOptions};
use crate::shutdown::Shutdown;
use anyhow::anyhow;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A dataset in the UESTC-MMEA-CL layout to replay (e.g. `mmcl synth --out D`).
    #[arg(long)]
    pub dataset: PathBuf,
    /// The profile whose encoder, window, learner and channels are measured; its sources
    /// are replaced by the replay [default: the built-in profile].
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Minutes of wall time to run.
    #[arg(long, default_value_t = 3.0)]
    pub minutes: f64,
    /// Replay speed (1 = real time).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Enrollments made during the run, each of `--enroll-seconds` of stream.
    #[arg(long, default_value_t = 2)]
    pub enrollments: u32,
    #[arg(long, default_value_t = 10.0)]
    pub enroll_seconds: f64,
    /// The split replayed.
    #[arg(long, default_value = "train")]
    pub split: String,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    #[arg(long)]
    pub print_config: bool,
    #[arg(long)]
    pub json: bool,
}

/// The figures (`--json` prints them).
#[derive(Debug, serde::Serialize)]
struct Report {
    profile: String,
    backend: String,
    threads: u32,
    stride_seconds: f64,
    wall_seconds: f64,
    stream_seconds: f64,
    windows: u64,
    windows_per_s: f64,
    latency_ms: crate::control::api::Latency,
    peak_rss_bytes: u64,
    cpu_seconds: f64,
    cpu_ms_per_stream_second: f64,
    /// CPU per window predicted (encoding, alignment, replay decoding, prediction).
    cpu_ms_per_window: f64,
    /// How many times faster than real time a continuous stream (one window per stride)
    /// is handled: stride / CPU per window. Replay's silences between clips do not count.
    real_time_factor: f64,
    enrollments: Vec<EnrollFigures>,
    dropped: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, serde::Serialize)]
struct EnrollFigures {
    label: String,
    windows_captured: usize,
    windows_predicted_meanwhile: u64,
    learn_ms: f64,
}

pub fn run(args: Args) -> Result<(), CliError> {
    check(&args)?;
    let state = StateDir::new()?;
    let settings = settings(&args, &state.0)?;
    if args.print_config {
        return print_settings(&settings);
    }
    let (threads, stride) = (
        settings.config().encoder().threads(),
        settings.config().window().stride_seconds(),
    );
    let options = StartOptions {
        notifier: Notifier::none(),
    };
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let running = daemon::start(settings, options, Shutdown::new())
        .map_err(|e| CliError::Runtime(e.into()))?;
    let d = running.daemon().clone();
    let enrollments = enroll_during(&args, &d)?;
    let total = Duration::from_secs_f64(args.minutes * 60.0);
    while started.elapsed() < total {
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = d.status();
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let windows = d.windows();
    running.stop().map_err(|e| CliError::Runtime(e.into()))?;
    let stream = wall * args.speed;
    let report = Report {
        profile: status.profile,
        backend: format!("{} ({})", status.backend, status.execution_provider),
        threads,
        stride_seconds: stride,
        wall_seconds: wall,
        stream_seconds: stream,
        windows,
        windows_per_s: windows as f64 / wall,
        latency_ms: status.latency_ms,
        peak_rss_bytes: peak_rss_bytes(),
        cpu_seconds: cpu,
        cpu_ms_per_stream_second: 1e3 * cpu / stream,
        cpu_ms_per_window: 1e3 * cpu / windows.max(1) as f64,
        real_time_factor: stride * windows as f64 / cpu.max(1e-9),
        enrollments,
        dropped: status.dropped,
    };
    match args.json {
        true => print_json(&report),
        false => {
            print_human(&report);
            Ok(())
        }
    }
}

fn check(args: &Args) -> Result<(), CliError> {
    let bad = |flag: &str, v: f64, rule: &str| Err(CliError::Input(anyhow!("{flag} {v}: {rule}")));
    if !(args.minutes.is_finite() && args.minutes > 0.0 && args.minutes <= 600.0) {
        return bad("--minutes", args.minutes, "must be > 0 and <= 600");
    }
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1000.0) {
        return bad("--speed", args.speed, "must be > 0 and <= 1000");
    }
    if !(args.enroll_seconds.is_finite() && args.enroll_seconds > 0.0) {
        return bad("--enroll-seconds", args.enroll_seconds, "must be > 0");
    }
    Ok(())
}

/// The profile with its sources replaced by a looping replay of the dataset.
fn settings(args: &Args, state: &std::path::Path) -> Result<Settings, CliError> {
    let config = Config::load_with(args.config.as_deref(), |raw: &mut RawConfig| {
        raw.state_dir = Some(state.to_path_buf());
        raw.control.socket = Some(state.join("control.sock"));
        raw.sources = RawSources {
            replay: Some(RawReplay {
                dataset: Some(absolute(&args.dataset)),
                split: Some(args.split.clone()),
                speed: Some(args.speed),
                looping: Some(true),
                ..RawReplay::default()
            }),
            ..RawSources::default()
        };
        args.encoder.apply(&mut raw.encoder);
    })
    .map_err(|e| CliError::Input(e.into()))?;
    Settings::resolve(config).map_err(settings_error)
}

/// Enrolls the class now playing, `enrollments` times spread over the first half of the run.
fn enroll_during(args: &Args, d: &Daemon) -> Result<Vec<EnrollFigures>, CliError> {
    let mut out = Vec::new();
    let gap =
        Duration::from_secs_f64(args.minutes * 60.0 / (2.0 * f64::from(args.enrollments.max(1))));
    for _ in 0..args.enrollments {
        std::thread::sleep(gap);
        let label = d
            .status()
            .replay
            .and_then(|r| r.true_class)
            .unwrap_or_else(|| "activity".into());
        let start = d
            .enroll_start(&label, Some(args.enroll_seconds))
            .map_err(|e| CliError::Runtime(e.into()))?;
        let before = d.windows();
        loop {
            let p = d
                .enroll_progress(start.id)
                .map_err(|e| CliError::Runtime(e.into()))?;
            if p.state != "capturing" {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let meanwhile = d.windows() - before;
        let outcome = d
            .enroll_stop(start.id)
            .map_err(|e| CliError::Runtime(e.into()))?;
        out.push(EnrollFigures {
            label,
            windows_captured: outcome.windows,
            windows_predicted_meanwhile: meanwhile,
            learn_ms: outcome.learn_ms,
        });
    }
    Ok(out)
}

/// A fresh state directory for the run, removed afterwards: the benchmark measures a
/// daemon that starts from nothing and leaves nothing behind.
struct StateDir(PathBuf);

impl StateDir {
    fn new() -> Result<StateDir, CliError> {
        let dir = std::env::temp_dir().join(format!("mmcl-bench-daemon-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::Runtime(anyhow!("create {}: {e}", dir.display())))?;
        Ok(StateDir(dir))
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0;
    if !ok {
        return 0.0;
    }
    // SAFETY: initialised by the successful call above.
    let u = unsafe { usage.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

fn print_human(r: &Report) {
    println!(
        "daemon benchmark: profile {}, {} with {} thread(s), stride {} s",
        r.profile, r.backend, r.threads, r.stride_seconds
    );
    println!(
        "  ran {:.0} s of wall time = {:.0} s of stream",
        r.wall_seconds, r.stream_seconds
    );
    println!(
        "  windows predicted      {} ({:.2} per second)",
        r.windows, r.windows_per_s
    );
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0} ms"));
    println!(
        "  latency (end -> pred)  p50 {}, p99 {}",
        ms(r.latency_ms.p50),
        ms(r.latency_ms.p99)
    );
    println!(
        "  peak RSS               {:.1} MiB",
        r.peak_rss_bytes as f64 / (1 << 20) as f64
    );
    println!(
        "  CPU per stream second  {:.1} ms (real-time factor {:.1}x)",
        r.cpu_ms_per_stream_second, r.real_time_factor
    );
    for e in &r.enrollments {
        println!(
            "  enrolled {:<16} {} windows captured, {} predicted meanwhile, learned in {:.0} ms",
            e.label, e.windows_captured, e.windows_predicted_meanwhile, e.learn_ms
        );
    }
    println!("  dropped by channel policies: {:?}", r.dropped);
}
