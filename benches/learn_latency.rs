//! Prediction latency while learning (not a test): one thread predicts in a loop on a
//! `SharedLearner` while another enrolls classes, against the same loop with no learning,
//! side by side in one run.
//!
//! Run: `cargo bench --bench learn_latency` (release build). Environment: `MMCL_BENCH_DIM`
//! (default 2184, the default encoder's D), `MMCL_BENCH_STRATEGIES` (comma list, default
//! `proto,analytic`), `MMCL_BENCH_CLASSES` (enrollments timed, default 12, after 4 untimed
//! ones). Each enrollment is one `learn` call of one new class of 200 windows. Before it, the
//! predictor runs alone for as long as the previous enrollment took (idle); then during it
//! (concurrent): both phases see the same published learner, since a `SharedLearner` only
//! swaps in the new one when the call ends. Data: the class-structured synthetic embeddings
//! of `benches/learn.rs`.

mod learn_support;

use learn_support::{env, quantile, Synth};
use mmcl::embedding::Embedding;
use mmcl::learn::{build, LearnerConfig, SharedLearner, Strategy};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const WINDOWS: usize = 200;
const UNTIMED: usize = 4;

/// Predicts on `probes` round-robin until `done()`, appending each latency in µs.
fn predict_until(
    shared: &SharedLearner,
    probes: &[Embedding],
    done: impl Fn() -> bool,
    out: &mut Vec<f64>,
) {
    let mut i = 0;
    while !done() {
        let start = Instant::now();
        let p = shared.predict(&probes[i % probes.len()]).expect("predict");
        out.push(start.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(p);
        i += 1;
    }
}

struct Row {
    idle: Vec<f64>,
    busy: Vec<f64>,
    learn_ms: Vec<f64>,
}

fn run(strategy: Strategy, dim: usize, enrollments: usize) -> Row {
    let classes = UNTIMED + enrollments;
    let mut synth = Synth::new(dim, classes, 7);
    let probes: Vec<Embedding> = (0..64).map(|i| synth.window(i % UNTIMED)).collect();
    let learner = build(dim, &LearnerConfig::for_strategy(strategy, dim)).expect("builds");
    let shared = SharedLearner::new(learner);
    let mut last = Duration::from_millis(100);
    for c in 0..UNTIMED {
        let (x, y) = synth.class(c, WINDOWS);
        let start = Instant::now();
        shared.learn(&x, &y).expect("learn");
        last = start.elapsed();
    }
    let mut row = Row {
        idle: Vec::new(),
        busy: Vec::new(),
        learn_ms: Vec::new(),
    };
    for c in UNTIMED..classes {
        let (x, y) = synth.class(c, WINDOWS);
        let until = Instant::now() + last;
        predict_until(&shared, &probes, || Instant::now() >= until, &mut row.idle);
        let done = AtomicBool::new(false);
        last = std::thread::scope(|s| {
            let learner = s.spawn(|| {
                let start = Instant::now();
                shared.learn(&x, &y).expect("learn");
                done.store(true, Ordering::Release);
                start.elapsed()
            });
            let mut busy = Vec::new();
            predict_until(&shared, &probes, || done.load(Ordering::Acquire), &mut busy);
            row.busy.extend(busy);
            learner.join().expect("learner thread")
        });
        row.learn_ms.push(last.as_secs_f64() * 1e3);
    }
    row
}

fn main() {
    let dim = env("MMCL_BENCH_DIM", 2184);
    let enrollments = env("MMCL_BENCH_CLASSES", 12);
    let chosen = std::env::var("MMCL_BENCH_STRATEGIES").unwrap_or_else(|_| "proto,analytic".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "predict latency (µs) on a SharedLearner, idle vs while another thread enrolls a class of \
         {WINDOWS} windows; D = {dim}, {enrollments} enrollments after {UNTIMED}, {cores} cores"
    );
    println!(
        "{:>9}  {:>9} {:>9}  {:>9} {:>9}  {:>9}  {:>9} {:>9}  {:>8}",
        "strategy",
        "idle p50",
        "idle p99",
        "conc p50",
        "conc p99",
        "p99 ratio",
        "n idle",
        "n conc",
        "learn ms"
    );
    for strategy in Strategy::ALL {
        if !chosen.split(',').any(|c| c == strategy.name()) {
            continue;
        }
        let mut row = run(strategy, dim, enrollments);
        let (i50, i99) = (quantile(&mut row.idle, 0.5), quantile(&mut row.idle, 0.99));
        let (b50, b99) = (quantile(&mut row.busy, 0.5), quantile(&mut row.busy, 0.99));
        println!(
            "{strategy:>9}  {i50:9.1} {i99:9.1}  {b50:9.1} {b99:9.1}  {:9.2}  {:>9} {:>9}  {:8.1}",
            b99 / i99,
            row.idle.len(),
            row.busy.len(),
            quantile(&mut row.learn_ms, 0.5)
        );
    }
}
