//! `mmcl bench cl --dataset DIR --out REPORT_DIR`: the continual-learning protocol
//! (UESTC-MMEA-CL style: seeded class order, tasks of `increment` classes) for every
//! strategy on the same cached embeddings, at one byte budget; writes report.json,
//! report.md and SVG plots, and prints the table. The encoder, window rules and
//! budget come from `--config` (or the built-in profile) with flags applied; the learners
//! get the encoder's modality blocks. The classes are those the train list holds (or
//! `--classes`); `--sweep-val` runs the hyper-parameter sweep on the val split instead.

use super::profile_args::{
    encoder_error, offline_dataset, print_settings, EncoderArgs, ProfileArgs,
};
use super::{diag, print_json, print_line, print_out, progress, CliError};
use crate::align::WindowSpec;
use crate::config::raw::RawBytes;
use crate::dataset::Dataset;
use crate::encode::cache::{EmbeddingCache, LoadStatus, Variant};
use crate::encode::dataset::{embed_dataset, EmbedSummary};
use crate::encode::Encoder;
use crate::eval::{
    default_seeds, run_seeds, sweep, write_report, BenchReport, EncoderRecord, FeatureSet,
    Labelled, ProgressEvent, Protocol, ProtocolConfig, RunOptions, Scenario, StrategyRun,
};
use crate::learn::{self, LearnerConfig, Strategy};
use crate::time::MonotonicClock;
use anyhow::anyhow;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A dataset in the UESTC-MMEA-CL layout (real or `mmcl synth`).
    #[arg(long)]
    pub dataset: PathBuf,
    /// Where report.json, report.md and the plots go.
    #[arg(long)]
    pub out: PathBuf,
    /// Comma-separated strategies, or `all`.
    #[arg(long, default_value = "all")]
    pub strategies: String,
    /// Number of seeds (class orders 1993, 1994, ...).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub seeds: u16,
    /// Classes per task after the first.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub increment: u16,
    /// Classes in the first task (default: the increment).
    #[arg(long)]
    pub initial: Option<usize>,
    /// Learner byte budget, e.g. 1398016 or 1.5MiB [default: the profile's, else 160 f32
    /// exemplars of the encoder's embedding].
    #[arg(long, value_parser = parse_budget)]
    pub budget: Option<u64>,
    /// class-il, task-il, domain-il or modality-dynamic (class-IL whose tasks are enrolled
    /// with the camera off, then the IMU off, in turn).
    #[arg(long, default_value = "class-il")]
    pub scenario: Scenario,
    /// Comma-separated class labels to benchmark [default: every label of the train list].
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<u32>>,
    /// Instead of the benchmark on test: the hyper-parameter sweep (eval::sweep) scored on the
    /// val split, the one the learner's defaults are chosen from.
    #[arg(long)]
    pub sweep_val: bool,
    /// With `--sweep-val`: only these comma-separated settings (e.g.
    /// `ncm-shrinkage-0.1,analytic-relu-false-ridge-10`) [default: every one].
    #[arg(long, value_delimiter = ',', requires = "sweep_val")]
    pub sweep_settings: Vec<String>,
    /// Embedding cache directory (default: DATASET/.mmcl-cache).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Print report.json on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

fn parse_budget(text: &str) -> Result<u64, String> {
    match crate::config::parse_bytes(text)? {
        0 => Err("the budget must be more than 0 bytes".into()),
        n => Ok(n),
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let strategies = parse_strategies(&args.strategies)?;
    check_out(&args.out)?;
    let settings = args.profile.offline_settings(|raw| {
        offline_dataset(raw, &args.dataset);
        args.encoder.apply(&mut raw.encoder);
        if let Some(budget) = args.budget {
            raw.learner.budget_bytes =
                Some(RawBytes::Count(i64::try_from(budget).unwrap_or(i64::MAX)));
        }
    })?;
    if args.profile.print_config {
        return print_settings(&settings);
    }
    let dataset = Dataset::open(&args.dataset).map_err(|e| CliError::Input(e.into()))?;
    let cache_dir = args
        .cache
        .clone()
        .unwrap_or_else(|| args.dataset.join(".mmcl-cache"));
    let mut encoder = settings.open_encoder().map_err(encoder_error)?;
    let (all, val, embedded) = cached_features(
        &dataset,
        encoder.as_mut(),
        settings.window(),
        &cache_dir,
        args.json,
    )?;
    let class_ids = args.classes.clone().unwrap_or_else(|| all.train_classes());
    let features = all.restricted(&class_ids);
    let protocol = Protocol::new(&ProtocolConfig {
        classes: class_ids.len(),
        class_ids,
        initial: args.initial.unwrap_or(usize::from(args.increment)),
        increment: usize::from(args.increment),
        scenario: args.scenario,
        ..ProtocolConfig::default()
    })
    .map_err(|e| CliError::Input(e.into()))?;
    let seeds = default_seeds(usize::from(args.seeds));
    // The budget every bounded learner runs with: the flag, else the profile's, else the default.
    let budget = settings.learner().budget_bytes;
    let plan = Plan {
        features: &features,
        protocol: &protocol,
        seeds: &seeds,
        quiet: args.json,
    };
    let runs = if args.sweep_val {
        sweep_val(&plan, &strategies, budget, val, &args.sweep_settings)?
    } else {
        let mut runs = Vec::new();
        for strategy in strategies {
            let config = base_config(strategy, &features, budget);
            runs.push(run_strategy(&plan, strategy.name(), &config)?);
        }
        runs
    };
    let budget = budget as u64;
    let report = BenchReport::new(
        args.dataset.display().to_string(),
        &protocol,
        seeds,
        Some(budget),
        runs,
    )
    .with_encoder(embedded);
    let written = write_report(&args.out, &report).map_err(|e| CliError::Runtime(e.into()))?;
    if args.json {
        let json: serde_json::Value =
            serde_json::from_str(&report.to_json().map_err(|e| CliError::Runtime(e.into()))?)
                .map_err(|e| CliError::Runtime(e.into()))?;
        return print_json(&json);
    }
    print_out(&report.to_markdown())?;
    for path in written {
        print_line(&format!("wrote {}", path.display()))?;
    }
    Ok(())
}

/// The `--strategies` list, each named once; refused before any work starts.
fn parse_strategies(list: &str) -> Result<Vec<Strategy>, CliError> {
    if list == "all" {
        return Ok(Strategy::ALL.to_vec());
    }
    let strategies: Vec<Strategy> = list
        .split(',')
        .map(|s| s.trim().parse::<Strategy>())
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::Input(anyhow!("--strategies: {e}, or all")))?;
    for (i, s) in strategies.iter().enumerate() {
        if strategies[..i].contains(s) {
            return Err(CliError::Input(anyhow!(
                "--strategies names {} twice; give each strategy once",
                s.name()
            )));
        }
    }
    Ok(strategies)
}

/// `--out` must be a directory or not exist yet: checked before the benchmark runs,
/// not after.
fn check_out(out: &std::path::Path) -> Result<(), CliError> {
    match std::fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(CliError::Input(anyhow!(
            "--out {} exists and is not a directory; the report needs a directory",
            out.display()
        ))),
        _ => Ok(()),
    }
}

/// What every strategy's run shares.
struct Plan<'a> {
    features: &'a FeatureSet,
    protocol: &'a Protocol,
    seeds: &'a [u32],
    quiet: bool,
}

/// A strategy's defaults with the benchmark's budget and the encoder's modality blocks.
fn base_config(strategy: Strategy, features: &FeatureSet, budget: usize) -> LearnerConfig {
    let mut config = LearnerConfig::for_embedding(strategy, features.dim, &features.modality_dims);
    // joint is the unbounded upper bound: it keeps everything whatever the budget.
    if strategy != Strategy::Joint {
        config.budget_bytes = budget;
    }
    config
}

/// Every setting of `eval::sweep` for each strategy (those named in `only`, if any), trained on
/// train and scored on val.
fn sweep_val(
    plan: &Plan,
    strategies: &[Strategy],
    budget: usize,
    val: Vec<Labelled>,
    only: &[String],
) -> Result<Vec<StrategyRun>, CliError> {
    let all = strategies
        .iter()
        .flat_map(|s| sweep::settings(*s, &base_config(*s, plan.features, budget)))
        .collect();
    let settings =
        sweep::select(all, only).map_err(|e| CliError::Input(anyhow!("--sweep-settings: {e}")))?;
    let classes = plan.protocol.order();
    let val: Vec<Labelled> = val
        .into_iter()
        .filter(|s| classes.contains(&s.class))
        .collect();
    if val.is_empty() {
        return Err(CliError::Input(anyhow!(
            "--sweep-val: the dataset has no val clip of the benchmarked classes"
        )));
    }
    let on_val = plan.features.tested_on(val);
    let plan = Plan {
        features: &on_val,
        ..*plan
    };
    settings
        .iter()
        .map(|setting| run_strategy(&plan, &setting.name, &setting.config))
        .collect()
}

/// Encodes what the cache lacks, then reads the features from it: train and test (with its
/// modality-absent variants), and the val split apart.
fn cached_features(
    dataset: &Dataset,
    encoder: &mut dyn Encoder,
    window: &WindowSpec,
    cache_dir: &Path,
    quiet: bool,
) -> Result<(FeatureSet, Vec<Labelled>, EncoderRecord), CliError> {
    let sha = encoder.contract().sha256.clone();
    let dim = encoder.contract().dim;
    let c = encoder.contract();
    let blocks = learn::modality_blocks(dim, c.video_dim, c.imu_dim);
    let (mut cache, status) =
        EmbeddingCache::load(cache_dir, &sha, dim).map_err(|e| CliError::Runtime(e.into()))?;
    if let LoadStatus::Replaced { reason } = &status {
        diag(&reason.to_string());
    }
    let bar = progress::bar(dataset.clips().len() as u64, "encoding clips", quiet);
    let summary = embed_dataset(dataset, encoder, window, &mut cache, 200, &mut |done, _| {
        bar.set_position(done as u64)
    })
    .map_err(|e| CliError::Runtime(e.into()))?;
    bar.finish_and_clear();
    report_embedding(&summary, &cache, quiet);
    let (mut features, val) = features_from_cache(dataset, &summary.keys, &cache, dim);
    features.modality_dims = blocks;
    let backend = encoder.backend();
    let record = EncoderRecord {
        sha256: sha,
        backend: backend.name.to_string(),
        execution_provider: backend.execution_provider,
        clips_encoded: summary.encoded,
        clips_from_cache: summary.reused,
    };
    Ok((features, val, record))
}

fn report_embedding(summary: &EmbedSummary, cache: &EmbeddingCache, quiet: bool) {
    if !quiet {
        diag(&format!(
            "embeddings: {} clips ({} encoded now, {} cached) in {}",
            summary.clips,
            summary.encoded,
            summary.reused,
            cache.path().display()
        ));
    }
    for f in &summary.failed {
        diag(&format!("skipped {}: {}", f.clip, f.error));
    }
}

/// Train = the train split; test = the test split, with its modality-absent variants; and
/// the val split. `keys` are the clips' cache keys in `Dataset::clips` order (from
/// `embed_dataset`).
fn features_from_cache(
    dataset: &Dataset,
    keys: &[String],
    cache: &EmbeddingCache,
    dim: usize,
) -> (FeatureSet, Vec<Labelled>) {
    let mut val = Vec::new();
    let mut f = FeatureSet {
        dim,
        test_video_absent: Some(Vec::new()),
        test_imu_absent: Some(Vec::new()),
        ..FeatureSet::default()
    };
    for (clip, key) in dataset.clips().iter().zip(keys) {
        let get = |v| {
            cache.get(key, v).map(|e| Labelled {
                embedding: e.embedding.clone(),
                class: clip.label(),
            })
        };
        match clip.split() {
            crate::dataset::Split::Train => f.train.extend(get(Variant::All)),
            crate::dataset::Split::Test => {
                f.test.extend(get(Variant::All));
                if let Some(v) = f.test_video_absent.as_mut() {
                    v.extend(get(Variant::VideoAbsent));
                }
                if let Some(v) = f.test_imu_absent.as_mut() {
                    v.extend(get(Variant::ImuAbsent));
                }
            }
            crate::dataset::Split::Val => val.extend(get(Variant::All)),
        }
    }
    (f, val)
}

/// Runs one learner config over every seed (the learner's seed follows the class order's);
/// the summary is called `name`.
fn run_strategy(plan: &Plan, name: &str, config: &LearnerConfig) -> Result<StrategyRun, CliError> {
    let dim = plan.features.dim;
    let factory = |seed: u64| {
        let config = LearnerConfig {
            seed,
            ..config.clone()
        };
        learn::build(dim, &config)
    };
    let steps = (plan.seeds.len() * plan.protocol.tasks().len()) as u64;
    let bar = progress::bar(steps, name, plan.quiet);
    let clock = MonotonicClock::new();
    let seed_cell = std::cell::Cell::new(0u64);
    let make = || factory(seed_cell.get());
    let mut run = run_seeds(
        plan.features,
        plan.protocol,
        plan.seeds,
        &make,
        RunOptions {
            clock: &clock,
            batch: None,
        },
        &mut |event| match event {
            ProgressEvent::SeedStarted { seed, .. } => seed_cell.set(u64::from(seed)),
            ProgressEvent::TaskEvaluated { seen_accuracy, .. } => {
                bar.inc(1);
                bar.set_message(format!("{name}: acc {:.3}", seen_accuracy));
            }
            _ => {}
        },
    )
    .map_err(|e| {
        if e.is_input() {
            CliError::Input(e.into())
        } else {
            CliError::Runtime(e.into())
        }
    })?;
    bar.finish_and_clear();
    run.name = name.to_string();
    Ok(run)
}
