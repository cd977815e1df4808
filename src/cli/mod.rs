//! The `mmcl` command line: one file per command, one flat `match` to dispatch.
//!
//! Commands return `Result<(), CliError>`; this module alone turns that into an
//! exit code and prints the error chain on stderr. It also owns the one path by
//! which commands print to stdout (`print_out`, `print_line`, `print_json`): a
//! stdout whose reader has gone (`mmcl dataset check D --json | head -c 10`) ends
//! the command quietly with exit 0, as ripgrep does, instead of `println!`'s panic.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

mod bench_cl;
mod bench_daemon;
mod bench_host;
mod checkpoint;
mod classes;
mod config_check;
mod control_client;
mod dataset_check;
mod demo;
mod embed;
mod enroll;
mod forget;
mod host;
#[cfg(feature = "host")]
mod host_eval;
mod model_inspect;
mod profile_args;
mod progress;
mod rename;
mod run;
mod sensors;
mod snapshot;
mod status;
mod sync;
mod synth;
mod watch;

#[derive(Debug, Parser)]
#[command(
    name = "mmcl",
    version,
    about = "On-device multimodal continual learning"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the main job on embedded defaults: synthetic data, the pipeline, the learner.
    Demo(demo::Args),
    /// Check a device profile and print the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check a UESTC-MMEA-CL layout dataset.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Write a synthetic dataset in the UESTC-MMEA-CL layout.
    Synth(synth::Args),
    /// Encode every clip of a dataset into the embedding cache.
    Embed(embed::Args),
    /// Run the daemon: the pipeline, predictions, enrollment, state (as systemd runs it).
    Run(run::Args),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Inspect an ONNX encoder against the encoder contract.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Teach the running daemon a class: capture windows for LABEL, then learn them.
    Enroll(enroll::Args),
    /// The running daemon's state.
    Status(status::Args),
    /// The classes the running daemon knows.
    Classes(classes::Args),
    /// The running daemon's predictions, live.
    Watch(watch::Args),
    /// Make the running daemon forget a class.
    Forget(forget::Args),
    /// Rename a class of the running daemon.
    Rename(rename::Args),
    /// Make the running daemon write a snapshot now.
    Checkpoint(checkpoint::Args),
    /// The running daemon's snapshots.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Queue the state directory's snapshots for the host; `--now` pushes them.
    Sync(sync::Args),
    /// The host devices sync to: serve, tokens, evaluation.
    #[command(subcommand)]
    Host(host::Command),
    /// List the profile's live sources (opened briefly) and the machine's sensors.
    Sensors(sensors::Args),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a TOML profile; print the effective config or every error.
    Check(config_check::Args),
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Count clips, classes, frames and sensor rows; list every malformed line or file.
    Check(dataset_check::Args),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The continual-learning protocol for every strategy on the same cached embeddings.
    Cl(bench_cl::Args),
    /// The daemon on a replayed dataset for some minutes: windows/s, latency, memory, CPU.
    Daemon(bench_daemon::Args),
    /// The host's API under N devices pushing bundles at once: bundles/s, upload p50/p99.
    Host(bench_host::Args),
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Report a model's inputs, outputs, metadata and contract problems.
    Inspect(model_inspect::Args),
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Copy the running daemon's newest snapshot file to --out.
    Export(snapshot::ExportArgs),
}

/// How a command failed; decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage or bad input (exit 2): the user can fix it.
    #[error(transparent)]
    Input(anyhow::Error),
    /// A runtime failure (exit 1): I/O, a backend, the machine.
    #[error(transparent)]
    Runtime(anyhow::Error),
    /// A failure whose `--json` document the command already printed (a report that
    /// lists its own errors, as `config check` does): the edge prints no second one.
    #[error(transparent)]
    Reported(Box<CliError>),
    /// stdout is a pipe whose reader has gone: nobody wants the rest of the output,
    /// which is not a failure of the command (exit 0, no message).
    #[error("stdout is closed")]
    StdoutClosed,
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Runtime(_) => 1,
            CliError::Reported(inner) => inner.exit_code(),
            CliError::StdoutClosed => 0,
        }
    }

    /// The `kind` of the `--json` error document.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Input(_) => "input",
            CliError::Runtime(_) => "runtime",
            CliError::Reported(inner) => inner.kind(),
            CliError::StdoutClosed => "stdout_closed",
        }
    }

    /// The same failure, marked as already in the command's `--json` report.
    pub fn reported(self) -> CliError {
        CliError::Reported(Box::new(self))
    }

    /// The causes to print; none for a closed stdout (nobody is listening).
    fn chain(&self) -> Option<&anyhow::Error> {
        match self {
            CliError::Input(a) | CliError::Runtime(a) => Some(a),
            CliError::Reported(inner) => inner.chain(),
            CliError::StdoutClosed => None,
        }
    }
}

/// Parses `std::env::args`, runs the command, prints errors, returns the exit code.
/// Errors go to stderr, each cause once; with `--json` anywhere on the command line
/// stdout also gets exactly one `{"error": {"kind", "message", "exit_code"}}` document
/// (unless the command's own report already holds the error), so a script that parses
/// stdout always reads JSON.
pub fn main() -> ExitCode {
    let json = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            if json {
                print_error_json("usage", &e.kind().to_string(), &e.render().to_string(), 2);
            }
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(()) | Err(CliError::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            let Some(chain) = e.chain() else {
                return ExitCode::from(e.exit_code());
            };
            let message = format!("{chain:#}");
            // Not `eprintln!`: a closed stderr must not turn an error into a panic.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            if json && !matches!(e, CliError::Reported(_)) {
                print_error_json(e.kind(), "", &message, e.exit_code());
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// The `--json` error document on stdout. `detail` (clap's error kind) is left out
/// when empty.
fn print_error_json(kind: &str, detail: &str, message: &str, exit_code: u8) {
    let mut error = serde_json::json!({
        "kind": kind,
        "message": message.trim_end(),
        "exit_code": exit_code,
    });
    if !detail.is_empty() {
        error["detail"] = serde_json::Value::from(detail);
    }
    // Nothing more can be said when stdout itself is gone.
    let _ = print_line(&serde_json::json!({ "error": error }).to_string());
}

/// Dispatches one command.
pub fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Config(ConfigCommand::Check(args)) => config_check::run(args),
        Command::Dataset(DatasetCommand::Check(args)) => dataset_check::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Model(ModelCommand::Inspect(args)) => model_inspect::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Embed(args) => embed::run(args),
        Command::Bench(BenchCommand::Cl(args)) => bench_cl::run(args),
        Command::Sensors(args) => sensors::run(args),
        Command::Bench(BenchCommand::Daemon(args)) => bench_daemon::run(args),
        Command::Bench(BenchCommand::Host(args)) => bench_host::run(args),
        Command::Enroll(args) => enroll::run(args),
        Command::Status(args) => status::run(args),
        Command::Classes(args) => classes::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Forget(args) => forget::run(args),
        Command::Rename(args) => rename::run(args),
        Command::Checkpoint(args) => checkpoint::run(args),
        Command::Snapshot(SnapshotCommand::Export(args)) => snapshot::export(args),
        Command::Sync(args) => sync::run(args),
        Command::Host(command) => host::run(command),
    }
}

/// Writes `text` to stdout as is and flushes it: every command prints through here.
/// A closed pipe is `CliError::StdoutClosed`; any other write error is a runtime error.
pub fn print_out(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::StdoutClosed,
            _ => CliError::Runtime(anyhow::anyhow!("cannot write to stdout: {e}")),
        })
}

/// A diagnostic line (warning, skipped clip) on stderr. Not `eprintln!`: a closed
/// stderr is ignored rather than turned into a panic.
pub fn diag(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `print_out` of `line` and a newline.
pub fn print_line(line: &str) -> Result<(), CliError> {
    print_out(&format!("{line}\n"))
}

/// Prints `value` as pretty JSON on stdout.
/// A closed pipe (`mmcl ... --json | head`) is a runtime failure, not a panic.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Runtime(e.into()))?;
    print_line(&text)
}
