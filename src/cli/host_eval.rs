//! `mmcl host eval --device ID --testset DIR --db URL --out REPORT_DIR`: every stored
//! snapshot of the device, in time order, scored on the test set's test split, embedded
//! through the embedding cache `bench cl` shares (`TESTSET/.mmcl-cache`) with the encoder
//! the profile or `--model` names, which must be the one the snapshots were learned with
//! (checked before anything is encoded); writes report.json and report.html.

use super::host::EvalArgs;
use super::profile_args::{encoder_error, offline_dataset};
use super::{diag, print_json, print_line, CliError};
use crate::dataset::{Dataset, Split};
use crate::encode::cache::{EmbeddingCache, LoadStatus, Variant};
use crate::encode::dataset::embed_dataset;
use crate::encode::Encoder;
use crate::host::history;
use crate::host::report::{self, HostReport, ReportError, TestClip, HOST_REPORT_FORMAT};
use anyhow::anyhow;

pub fn run(args: EvalArgs) -> Result<(), CliError> {
    crate::uplink::check_device_id(&args.device).map_err(|e| CliError::Input(e.into()))?;
    let settings = args.profile.offline_settings(|raw| {
        offline_dataset(raw, &args.testset);
        args.encoder.apply(&mut raw.encoder);
    })?;
    let storage = args.db.open()?;
    let mut encoder = settings.open_encoder().map_err(encoder_error)?;
    let sha = encoder.contract().sha256.clone();
    // Refuse a wrong encoder before encoding a test set with it.
    history::load(storage.as_ref(), &args.device, &sha).map_err(history_error)?;
    let dataset = Dataset::open(&args.testset).map_err(|e| CliError::Input(e.into()))?;
    let cache_dir = args
        .cache
        .clone()
        .unwrap_or_else(|| args.testset.join(".mmcl-cache"));
    let test = test_clips(&dataset, encoder.as_mut(), settings.window(), &cache_dir)?;
    if test.is_empty() {
        return Err(CliError::Input(anyhow!(
            "--testset {}: no test-split clip could be embedded",
            args.testset.display()
        )));
    }
    let device =
        report::evaluate(storage.as_ref(), &args.device, &sha, &test).map_err(report_error)?;
    let fleet = report::fleet_summary(storage.as_ref(), &sha, &test).map_err(report_error)?;
    let report = HostReport {
        format: HOST_REPORT_FORMAT,
        testset: args.testset.display().to_string(),
        encoder_sha256: sha,
        test_samples: test.len(),
        device,
        fleet,
    };
    let written = report::write(&args.out, &report).map_err(report_error)?;
    if args.json {
        return print_json(&report);
    }
    summarize(&report, &written)
}

fn history_error(e: history::HistoryError) -> CliError {
    match e {
        history::HistoryError::EncoderMismatch { .. } => CliError::Input(e.into()),
        other => CliError::Runtime(other.into()),
    }
}

fn report_error(e: ReportError) -> CliError {
    match e {
        ReportError::History(h) => history_error(h),
        ReportError::Eval(crate::host::eval::HostEvalError::NoSnapshots { .. }) => {
            CliError::Input(e.into())
        }
        other => CliError::Runtime(other.into()),
    }
}

/// Encodes what the cache lacks, then the test split's clips with their class folders.
fn test_clips(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    window: &crate::align::WindowSpec,
    cache_dir: &std::path::Path,
) -> Result<Vec<TestClip>, CliError> {
    let (sha, dim) = (encoder.contract().sha256.clone(), encoder.contract().dim);
    let (mut cache, status) =
        EmbeddingCache::load(cache_dir, &sha, dim).map_err(|e| CliError::Runtime(e.into()))?;
    if let LoadStatus::Replaced { reason } = &status {
        diag(&reason.to_string());
    }
    let summary = embed_dataset(dataset, encoder, window, &mut cache, 200, &mut |_, _| {})
        .map_err(|e| CliError::Runtime(e.into()))?;
    for f in &summary.failed {
        diag(&format!("skipped {}: {}", f.clip, f.error));
    }
    Ok(dataset
        .clips()
        .iter()
        .zip(&summary.keys)
        .filter(|(clip, _)| clip.split() == Split::Test)
        .filter_map(|(clip, key)| {
            cache.get(key, Variant::All).map(|e| TestClip {
                folder: clip.class_name().to_string(),
                embedding: e.embedding.clone(),
            })
        })
        .collect())
}

fn summarize(report: &HostReport, written: &[std::path::PathBuf]) -> Result<(), CliError> {
    let d = &report.device;
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.1}%", v * 100.0));
    print_line(&format!(
        "device {}: {} snapshots, {} tasks; final {}, average incremental {}, forgetting {}, BWT {}",
        d.device_id,
        d.snapshots.len(),
        d.tasks.len(),
        pct(Some(d.final_accuracy)),
        pct(Some(d.avg_incremental_accuracy)),
        pct(d.forgetting),
        pct(d.bwt)
    ))?;
    for path in written {
        print_line(&format!("wrote {}", path.display()))?;
    }
    Ok(())
}
