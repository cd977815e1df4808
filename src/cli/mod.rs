//! The `mmcl` command line: one file per command, one flat `match` to dispatch.
//!
//! Commands return `Result<(), CliError>`; this module alone turns that into an
//! exit code and prints the error chain on stderr.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod bench_cl;
mod bench_daemon;
mod config_check;
mod dataset_check;
mod demo;
mod embed;
mod model_inspect;
mod profile_args;
mod run;
mod sensors;
mod synth;

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
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Report a model's inputs, outputs, metadata and contract problems.
    Inspect(model_inspect::Args),
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
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

/// Parses `std::env::args`, runs the command, prints errors, returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let inner = match &e {
                CliError::Input(a) | CliError::Runtime(a) => a,
            };
            eprintln!("error: {inner:#}");
            ExitCode::from(e.exit_code())
        }
    }
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
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Runtime(e.into()))?;
    println!("{text}");
    Ok(())
}
