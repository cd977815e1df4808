//! `mmcl bench daemon`: the daemon in this process on a profile whose sources are replaced
//! by a replay of a dataset, at real time (or `--speed`) for `--minutes`, with enrollments
//! during the run. Prints windows/s, end-to-end latency (window end -> prediction) p50/p99,
//! peak RSS, CPU per window and per second of stream, the real-time factor (stride over
//! CPU per window: how many times faster than real time a continuous stream is handled),
//! and, for each enrollment (each of a class not enrolled before in the run), the windows it
//! captured against those predicted and dropped meanwhile. `--abuse` runs the second half
//! under control-socket abuse (`abuse`) and prints both halves side by side (`phase`).

use super::profile_args::{absolute, print_settings, settings_error, EncoderArgs};
use super::{print_json, print_out, CliError};
use crate::config::raw::{RawReplay, RawSources};
use crate::config::{Config, RawConfig, Settings};
use crate::control::ControlTarget;
use crate::daemon::{self, peak_rss_bytes, Daemon, Notifier, StartOptions};
use crate::shutdown::Shutdown;
use anyhow::anyhow;
use phase::{Bench, Latencies, PhaseFigures};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod abuse;
mod cpu;
mod phase;

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
    /// Run the second half under control-socket abuse (50 status clients, garbage, 100 MB
    /// lines, clients that never read) and print both halves side by side.
    #[arg(long)]
    pub abuse: bool,
    #[arg(long)]
    pub print_config: bool,
    #[arg(long)]
    pub json: bool,
}

/// The figures (`--json` prints them): the whole run, and each phase.
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
    /// The daemon's CPU over the run (the abuser threads' taken out).
    cpu_seconds: f64,
    cpu_ms_per_stream_second: f64,
    /// CPU per window predicted (encoding, alignment, replay decoding, prediction).
    cpu_ms_per_window: f64,
    /// How many times faster than real time a continuous stream (one window per stride)
    /// is handled: stride / CPU per window. Replay's silences between clips do not count.
    real_time_factor: f64,
    /// What the pipeline dropped while enrollments captured (goal 0).
    enrollment_windows_dropped: u64,
    dropped: std::collections::BTreeMap<String, u64>,
    phases: Vec<PhaseFigures>,
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
    // The daemon is called directly; the socket (in the run's own state directory) is
    // served only for the abuse.
    let options = StartOptions {
        notifier: Notifier::none(),
        control_socket: args.abuse,
    };
    let cpu0 = cpu::process_seconds();
    let started = Instant::now();
    let running = daemon::start(settings, options, Shutdown::new())
        .map_err(|e| CliError::Runtime(e.into()))?;
    let d = running.daemon().clone();
    let measured = measure(&args, &d, stride, &state.0);
    let status = d.status();
    let (wall, cpu) = (
        started.elapsed().as_secs_f64(),
        cpu::process_seconds() - cpu0,
    );
    let windows = d.windows();
    running.stop().map_err(|e| CliError::Runtime(e.into()))?;
    let phases = measured.map_err(CliError::Runtime)?;
    let cpu = cpu
        - phases
            .iter()
            .filter_map(|p| p.abuse.as_ref())
            .map(|a| a.abuser_cpu_seconds)
            .sum::<f64>();
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
        enrollment_windows_dropped: enrollment_windows_dropped(&phases),
        dropped: status.dropped,
        phases,
    };
    match args.json {
        true => print_json(&report),
        false => print_out(&human(&report)),
    }
}

/// The phases: the whole run quiet, or (`--abuse`) its first half quiet and its second
/// half under abuse, the enrollments shared between them.
fn measure(
    args: &Args,
    d: &Daemon,
    stride_seconds: f64,
    state: &std::path::Path,
) -> anyhow::Result<Vec<PhaseFigures>> {
    let latencies = Latencies::collect(d.subscribe())?;
    let mut bench = Bench {
        daemon: d,
        latencies: &latencies,
        speed: args.speed,
        stride_seconds,
        enroll_seconds: args.enroll_seconds,
        enrolled: Vec::new(),
    };
    let total = Duration::from_secs_f64(args.minutes * 60.0);
    if !args.abuse {
        return Ok(vec![bench.phase("quiet", total, args.enrollments, None)?]);
    }
    let half = total / 2;
    let first = args.enrollments.div_ceil(2);
    let socket = abuse::socket_of(state);
    Ok(vec![
        bench.phase("quiet", half, first, None)?,
        bench.phase("abused", half, args.enrollments - first, Some(&socket))?,
    ])
}

/// Windows an enrollment lost: every window the predictor sees while a capture runs joins
/// it (`daemon::service`), so the loss is what the pipeline dropped meanwhile.
fn enrollment_windows_dropped(phases: &[PhaseFigures]) -> u64 {
    let all = phases.iter().flat_map(|p| &p.enrollments);
    all.map(|e| e.dropped_meanwhile).sum()
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
        raw.control.socket = Some(abuse::socket_of(state));
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

/// The report as text lines for `print_out`: the run, then the phases side by side.
fn human(r: &Report) -> String {
    let mut out = String::new();
    out += &format!(
        "daemon benchmark: profile {}, {} with {} thread(s), stride {} s\n",
        r.profile, r.backend, r.threads, r.stride_seconds
    );
    out += &format!(
        "  ran {:.0} s of wall time = {:.0} s of stream\n",
        r.wall_seconds, r.stream_seconds
    );
    out += &format!(
        "  windows predicted      {} ({:.2} per second)\n",
        r.windows, r.windows_per_s
    );
    out += &format!(
        "  latency (end -> pred)  p50 {}, p99 {}\n",
        ms(r.latency_ms.p50),
        ms(r.latency_ms.p99)
    );
    out += &format!(
        "  peak RSS               {:.1} MiB\n",
        r.peak_rss_bytes as f64 / (1 << 20) as f64
    );
    out += &format!(
        "  CPU per stream second  {:.1} ms (real-time factor {:.1}x)\n",
        r.cpu_ms_per_stream_second, r.real_time_factor
    );
    for e in r.phases.iter().flat_map(|p| &p.enrollments) {
        out += &format!(
            "  enrolled {:<16} {} windows captured, {} predicted meanwhile, {} dropped, learned in {:.0} ms\n",
            e.label, e.windows_captured, e.windows_predicted_meanwhile, e.dropped_meanwhile, e.learn_ms
        );
    }
    out += &format!(
        "  enrollment windows dropped: {}; dropped by channel policies: {:?}\n",
        r.enrollment_windows_dropped, r.dropped
    );
    out += &phase_table(&r.phases);
    out
}

/// One table row: a label and how to show a phase's cell.
type Row<'a> = dyn Fn(&str, &dyn Fn(&PhaseFigures) -> String) -> String + 'a;

/// One row per thread group: its CPU ms per second of stream in each phase.
fn thread_rows(phases: &[PhaseFigures], row: &Row<'_>) -> String {
    let mut names: Vec<&String> = phases
        .iter()
        .flat_map(|p| p.cpu_seconds_by_thread.keys())
        .collect();
    names.sort();
    names.dedup();
    let mut out = String::new();
    for name in names {
        out += &row(&format!("CPU ms/s {name}"), &|p| {
            let s = p.cpu_seconds_by_thread.get(name).copied().unwrap_or(0.0);
            format!("{:.1}", 1e3 * s / (p.wall_seconds * p.stream_speed))
        });
    }
    out
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0} ms"))
}

/// The phases in columns, one figure a row.
fn phase_table(phases: &[PhaseFigures]) -> String {
    let row = |label: &str, cell: &dyn Fn(&PhaseFigures) -> String| {
        let cells: String = phases.iter().map(|p| format!("{:>14}", cell(p))).collect();
        format!("  {label:<24}{cells}\n")
    };
    let mut out = row("phase", &|p| p.name.to_string());
    out += &row("wall seconds", &|p| format!("{:.0}", p.wall_seconds));
    out += &row("windows", &|p| p.windows.to_string());
    out += &row("windows/s", &|p| format!("{:.3}", p.windows_per_s));
    out += &row("latency p50", &|p| ms(p.latency_ms.p50));
    out += &row("latency p99", &|p| ms(p.latency_ms.p99));
    out += &row("CPU ms / stream s", &|p| {
        format!("{:.1}", p.cpu_ms_per_stream_second)
    });
    out += &row("real-time factor", &|p| {
        format!("{:.1}x", p.real_time_factor)
    });
    out += &row("dropped", &|p| p.dropped.to_string());
    out += &thread_rows(phases, &row);
    let abuse = |p: &PhaseFigures, f: fn(&phase::AbuseFigures) -> String| {
        p.abuse.as_ref().map_or("-".into(), f)
    };
    out += &row("abuse: status answers", &|p| {
        abuse(p, |a| a.status_answers.to_string())
    });
    out += &row("abuse: errors answered", &|p| {
        abuse(p, |a| a.error_answers.to_string())
    });
    out += &row("abuse: 100 MB refused", &|p| {
        abuse(p, |a| a.huge_lines_refused.to_string())
    });
    out += &row("abuse: stalled clients", &|p| {
        abuse(p, |a| a.stalled_connections.to_string())
    });
    out += &row("abuse: clients' CPU s", &|p| {
        abuse(p, |a| format!("{:.1}", a.abuser_cpu_seconds))
    });
    out
}
