//! `mmcl bench host [--devices N] [--bundles M] [--db URL] [--blobs DIR|s3://…] [--json]`: the host's API
//! under N devices pushing M bundles each at once through the device's own client, on
//! loopback in this process (`host::load`). Prints bundles/s, upload latency p50/p99 and
//! the bytes per bundle. Without `--db` the bundles go to a fresh SQLite database in a
//! temporary directory, removed afterwards. Needs the `host` feature (`bench_host_enabled`;
//! a build without it says so).

use super::CliError;

#[cfg_attr(feature = "host", path = "bench_host_enabled.rs")]
#[cfg_attr(not(feature = "host"), path = "bench_host_disabled.rs")]
mod imp;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Devices pushing at the same time, each on its own thread and connection.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub devices: u32,
    /// Bundles each device pushes, one after another.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub bundles: u32,
    /// Classes in each bundle's learner (ncm: one mean of --dim floats each).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub classes: u32,
    /// Embedding dimension of the bundles' learner (the default encoder's: 2184).
    #[arg(long, default_value_t = 2184, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub dim: u32,
    /// The metadata database (`sqlite:PATH`, or a URL `host serve --db` takes)
    /// [default: a temporary SQLite database].
    #[arg(long)]
    pub db: Option<String>,
    #[command(flatten)]
    pub blobs: super::host::BlobArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    imp::run(args)
}
