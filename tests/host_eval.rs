#![cfg(feature = "host")]
//! Host eval reproduces `mmcl bench cl`'s numbers: a learner trained through the protocol
//! path bench cl runs (`eval::run_seed_observed`), a bundle written after each task,
//! stored in the host's storage and read back, evaluated by `host::eval` on the same test
//! samples (by class name) gives the same accuracy matrix, average incremental accuracy,
//! forgetting and BWT within 1e-6, for several strategies, on every storage backend.

mod host_support;

use mmcl::embedding::Embedding;
use mmcl::eval::{run_seed_observed, FeatureSet, Labelled, Protocol, ProtocolConfig, RunOptions};
use mmcl::host::auth::token_hash;
use mmcl::host::eval::{evaluate_device, Sample};
use mmcl::host::storage::{BundleMeta, Storage};
use mmcl::learn::{self, ClassId, LearnerConfig, Strategy};
use mmcl::time::MonotonicClock;
use mmcl::uplink::bench::bench_bundle;
use mmcl::uplink::{content_hash, Bundle};
use rand::{Rng, SeedableRng};

const DIM: usize = 8;
const CLASSES: usize = 6;
const ENCODER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Overlapping clusters, so accuracies are neither 0 nor 1 and forgetting shows.
fn features(seed: u64) -> FeatureSet {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut split = |per_class: usize| -> Vec<Labelled> {
        let mut out = Vec::new();
        for class in 0..CLASSES as ClassId {
            for _ in 0..per_class {
                let v: Vec<f32> = (0..DIM)
                    .map(|d| {
                        let centre = if d == class as usize % DIM { 1.0 } else { 0.0 };
                        centre + rng.random_range(-0.9f32..0.9)
                    })
                    .collect();
                out.push(Labelled {
                    embedding: Embedding::new(v, DIM).unwrap(),
                    class,
                });
            }
        }
        out
    };
    let train = split(20);
    let test = split(15);
    FeatureSet {
        dim: DIM,
        train,
        test,
        ..FeatureSet::default()
    }
}

fn name(class: ClassId) -> String {
    format!("activity-{class}")
}

fn upload(s: &dyn Storage, bundle: &Bundle) {
    let bytes = bundle.encode();
    let meta = BundleMeta {
        content_hash: content_hash(&bytes),
        device_id: bundle.device_id.clone(),
        snapshot_seq: bundle.snapshot_seq,
        journal_seq: 0,
        encoder_sha256: ENCODER.into(),
        created_at_ms: bundle.created_at_ms,
        received_at_ms: 0,
        bytes: bytes.len() as u64,
        classes: 0,
    };
    s.put_bundle(&meta, &bytes).unwrap();
}

fn stored_bundles(s: &dyn Storage, device: &str) -> Vec<Bundle> {
    s.history(device)
        .unwrap()
        .iter()
        .map(|m| Bundle::decode(&s.bundle_bytes(&m.content_hash).unwrap().unwrap()).unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6
}

#[test]
fn host_eval_reproduces_the_bench_matrix_for_each_strategy() {
    let dir = tempfile::tempdir().unwrap();
    for backend in host_support::backends::backends(dir.path()) {
        eprintln!("backend {}", backend.name);
        reproduces_the_bench_matrix(backend.open().as_ref());
    }
}

fn reproduces_the_bench_matrix(s: &dyn Storage) {
    let features = features(7);
    let protocol = Protocol::new(&ProtocolConfig {
        classes: CLASSES,
        initial: 2,
        increment: 2,
        ..Default::default()
    })
    .unwrap();
    let test: Vec<Sample> = features
        .test
        .iter()
        .map(|l| Sample {
            class: name(l.class),
            embedding: l.embedding.clone(),
        })
        .collect();
    for strategy in [Strategy::Ncm, Strategy::Finetune, Strategy::Er] {
        let device = format!("bench-{}", strategy.name());
        s.add_token(&device, &token_hash(&device), 0).unwrap();
        let factory = || learn::build(DIM, &LearnerConfig::for_strategy(strategy, DIM));
        let clock = MonotonicClock::new();
        let options = RunOptions {
            clock: &clock,
            batch: None,
        };
        let mut bundles = Vec::new();
        let run = run_seed_observed(
            &features,
            &protocol,
            &factory,
            options,
            &mut |_| {},
            &mut |task, learner| {
                bundles.push(bench_bundle(&device, task, learner, &name, ENCODER).unwrap());
            },
        )
        .unwrap();
        for b in &bundles {
            upload(s, b);
        }
        let eval = evaluate_device(&device, &stored_bundles(s, &device), &test).unwrap();
        let bench = run.accuracy_matrix.rows();
        assert_eq!(eval.accuracy_matrix.len(), bench.len(), "{device}");
        for (i, (h, b)) in eval.accuracy_matrix.iter().zip(bench).enumerate() {
            assert_eq!(h.len(), b.len());
            assert!(
                h.iter().zip(b).all(|(x, y)| close(*x, *y)),
                "{device} row {i}: host {h:?} bench {b:?}"
            );
        }
        let task_names: Vec<Vec<String>> = protocol
            .tasks()
            .iter()
            .map(|t| t.iter().map(|&c| name(c)).collect())
            .collect();
        let mut host_tasks = eval.tasks.clone();
        host_tasks.iter_mut().for_each(|t| t.sort());
        let mut bench_tasks = task_names;
        bench_tasks.iter_mut().for_each(|t| t.sort());
        assert_eq!(host_tasks, bench_tasks, "{device}: tasks as they arrived");
        let m = &run.metrics;
        assert!(close(eval.final_accuracy, m.final_accuracy), "{device}");
        assert!(
            close(eval.avg_incremental_accuracy, m.avg_incremental_accuracy),
            "{device}"
        );
        assert_eq!(
            eval.forgetting.map(|f| (f * 1e6).round()),
            m.forgetting.map(|f| (f * 1e6).round()),
            "{device}"
        );
        assert_eq!(
            eval.bwt.map(|f| (f * 1e6).round()),
            m.bwt.map(|f| (f * 1e6).round()),
            "{device}"
        );
        let per_class: Vec<(String, f64)> = eval
            .per_class_accuracy
            .iter()
            .map(|c| (c.name.clone(), c.accuracy))
            .collect();
        for c in &run.per_class_accuracy {
            let host = per_class
                .iter()
                .find(|(n, _)| *n == name(c.class))
                .expect("class");
            assert!(close(host.1, c.accuracy), "{device} class {}", c.class);
        }
        eprintln!(
            "{device}: matrix {:?} forgetting {:?}",
            eval.accuracy_matrix, eval.forgetting
        );
    }
}
