//! `mmcl embed --dataset DIR [--out CACHE]`: encodes every clip once (the mean of its
//! fixed windows, see `encode::dataset`; test clips also with video absent and with
//! IMU absent) into the embedding cache the benchmark reads. Clips already cached for
//! this encoder are reused; a changed encoder starts a new cache. The encoder and
//! window rules come from `--config` (or the built-in profile) with flags applied.

use super::profile_args::{
    encoder_error, offline_dataset, print_settings, EncoderArgs, ProfileArgs,
};
use super::{diag, print_json, print_line, progress, CliError};
use crate::dataset::Dataset;
use crate::encode::cache::{EmbeddingCache, LoadStatus};
use crate::encode::dataset::embed_dataset;
use anyhow::anyhow;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A dataset in the UESTC-MMEA-CL layout.
    #[arg(long)]
    pub dataset: PathBuf,
    /// Cache directory (default: DATASET/.mmcl-cache).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    cache: PathBuf,
    encoder_sha256: String,
    backend: String,
    execution_provider: String,
    #[serde(flatten)]
    summary: crate::encode::dataset::EmbedSummary,
    seconds: f64,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let settings = args.profile.offline_settings(|raw| {
        offline_dataset(raw, &args.dataset);
        args.encoder.apply(&mut raw.encoder);
    })?;
    if args.profile.print_config {
        return print_settings(&settings);
    }
    let dataset = Dataset::open(&args.dataset).map_err(|e| CliError::Input(e.into()))?;
    for e in dataset.list_errors() {
        diag(&format!("skipping a bad list line: {e}"));
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| args.dataset.join(".mmcl-cache"));
    let mut encoder = settings.open_encoder().map_err(encoder_error)?;
    let (sha, dim) = (encoder.contract().sha256.clone(), encoder.contract().dim);
    let (mut cache, status) =
        EmbeddingCache::load(&dir, &sha, dim).map_err(|e| CliError::Runtime(e.into()))?;
    if let LoadStatus::Replaced { reason } = status {
        diag(&reason.to_string());
    }
    let bar = progress::bar(dataset.clips().len() as u64, "encoding clips", args.json);
    let started = std::time::Instant::now();
    let summary = embed_dataset(
        &dataset,
        encoder.as_mut(),
        settings.window(),
        &mut cache,
        200,
        &mut |done, _| bar.set_position(done as u64),
    )
    .map_err(|e| CliError::Runtime(e.into()))?;
    bar.finish_and_clear();
    let backend = encoder.backend();
    let report = Report {
        cache: cache.path().to_path_buf(),
        encoder_sha256: sha,
        backend: backend.name.to_string(),
        execution_provider: backend.execution_provider,
        seconds: started.elapsed().as_secs_f64(),
        summary,
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_human(&report)?;
    }
    let e = match report.summary.failed.len() {
        0 => return Ok(()),
        n => CliError::Input(anyhow!(
            "{n} clip(s) could not be encoded (listed above); the others are cached"
        )),
    };
    Err(if args.json { e.reported() } else { e })
}

fn print_human(r: &Report) -> Result<(), CliError> {
    let s = &r.summary;
    print_line(&format!(
        "{} clips: {} encoded ({} windows) in {:.1} s, {} already cached -> {}",
        s.clips,
        s.encoded,
        s.windows,
        r.seconds,
        s.reused,
        r.cache.display()
    ))?;
    if s.windows > 0 {
        print_line(&format!(
            "{:.1} ms per window on {} ({})",
            1e3 * r.seconds / s.windows as f64,
            r.backend,
            r.execution_provider
        ))?;
    }
    for f in &s.failed {
        print_line(&format!("failed {}: {}", f.clip, f.error))?;
    }
    Ok(())
}
