//! Prediction latency while learning (not a test): one thread predicts in a loop while
//! another enrolls classes, on a `SharedLearner` and, for contrast, on a learner behind one
//! `Mutex` (what a daemon without `SharedLearner` would do), against the same loop with no
//! learning; side by side in one run.
//!
//! Two loops: `closed` predicts back to back (the time of one prediction; a prediction that
//! waits for a whole learn call counts once, however long it waits), `open` predicts one
//! window per `MMCL_BENCH_PERIOD_US` (default 1000 µs), sleeping in between, and measures
//! from the window's arrival, as the daemon's predictor sees it: waiting counts for every
//! window that arrives meanwhile. `preempt/1k`: the predictor thread's involuntary context
//! switches per 1000 predictions (Linux `/proc/thread-self/status`), which tell waiting for
//! a CPU (on a machine shared with other jobs) from waiting for the learner.
//!
//! Run: `cargo bench --bench learn_latency` (release build). Environment: `MMCL_BENCH_DIM`
//! (default 2184, the default encoder's D), `MMCL_BENCH_STRATEGIES` (comma list, default
//! `proto,analytic`), `MMCL_BENCH_CLASSES` (enrollments timed, default 16, after 4 untimed
//! ones). Each enrollment is one `learn` call of one new class of 200 windows, made on both
//! learners (so they stay in the same state). Before it, the predictor runs alone for as long
//! as the previous enrollment took (idle); then while the shared learner learns (shared), then
//! while the locked one does (locked). Idle and shared see the same published learner, since a
//! `SharedLearner` swaps in the new one only when the call ends. Data: the class-structured
//! synthetic embeddings of `benches/learn.rs`.

mod learn_support;

use learn_support::{env, quantile, Synth};
use mmcl::embedding::Embedding;
use mmcl::learn::{build, ClassId, Learner, LearnerConfig, SharedLearner, Strategy};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOWS: usize = 200;
const UNTIMED: usize = 4;

/// A learner that one thread predicts with while another learns.
trait Served: Sync {
    fn predict(&self, e: &Embedding);
    fn learn(&self, x: &[Embedding], y: &[ClassId]);
}

impl Served for SharedLearner {
    fn predict(&self, e: &Embedding) {
        std::hint::black_box(SharedLearner::predict(self, e).expect("predict"));
    }
    fn learn(&self, x: &[Embedding], y: &[ClassId]) {
        SharedLearner::learn(self, x, y).expect("learn");
    }
}

/// The baseline: every call takes the one lock, so a prediction waits for a whole learn.
struct Locked(Mutex<Box<dyn Learner>>);

impl Served for Locked {
    fn predict(&self, e: &Embedding) {
        let learner = self.0.lock().expect("not poisoned");
        std::hint::black_box(learner.predict(e).expect("predict"));
    }
    fn learn(&self, x: &[Embedding], y: &[ClassId]) {
        self.0
            .lock()
            .expect("not poisoned")
            .learn(x, y)
            .expect("learn");
    }
}

/// How predictions are issued: back to back, or one arrival per period.
#[derive(Clone, Copy)]
enum Arrivals {
    Closed,
    Open(Duration),
}

/// Latencies in µs and the predictor's involuntary context switches while measuring them.
#[derive(Default)]
struct Samples {
    micros: Vec<f64>,
    preempted: u64,
}

/// This thread's involuntary context switches so far (0 where `/proc` is missing).
fn preemptions() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Predicts on `probes` round-robin until `done()`, appending each latency in µs (from the
/// call, or from the window's arrival).
fn predict_until(
    served: &dyn Served,
    probes: &[Embedding],
    arrivals: Arrivals,
    done: impl Fn() -> bool,
    out: &mut Samples,
) {
    let before = preemptions();
    let begin = Instant::now();
    let mut i = 0u32;
    while !done() {
        let start = match arrivals {
            Arrivals::Closed => Instant::now(),
            Arrivals::Open(period) => {
                let arrival = begin + period * i;
                std::thread::sleep(arrival.saturating_duration_since(Instant::now()));
                arrival
            }
        };
        served.predict(&probes[i as usize % probes.len()]);
        out.micros.push(start.elapsed().as_secs_f64() * 1e6);
        i += 1;
    }
    out.preempted += preemptions() - before;
}

/// Predicts while another thread makes one learn call; returns how long the call took.
fn during_learn(
    served: &dyn Served,
    probes: &[Embedding],
    arrivals: Arrivals,
    (x, y): (&[Embedding], &[ClassId]),
    out: &mut Samples,
) -> Duration {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let learner = s.spawn(|| {
            let start = Instant::now();
            served.learn(x, y);
            done.store(true, Ordering::Release);
            start.elapsed()
        });
        predict_until(
            served,
            probes,
            arrivals,
            || done.load(Ordering::Acquire),
            out,
        );
        learner.join().expect("learner thread")
    })
}

#[derive(Default)]
struct Latencies {
    idle: Samples,
    shared: Samples,
    locked: Samples,
    learn_ms: Vec<f64>,
}

fn run(strategy: Strategy, dim: usize, enrollments: usize, arrivals: Arrivals) -> Latencies {
    let classes = UNTIMED + enrollments;
    let mut synth = Synth::new(dim, classes, 7);
    let probes: Vec<Embedding> = (0..64).map(|i| synth.window(i % UNTIMED)).collect();
    let config = LearnerConfig::for_strategy(strategy, dim);
    let shared = SharedLearner::new(build(dim, &config).expect("builds"));
    let locked = Locked(Mutex::new(build(dim, &config).expect("builds")));
    let mut last = Duration::ZERO;
    for c in 0..UNTIMED {
        let (x, y) = synth.class(c, WINDOWS);
        let start = Instant::now();
        Served::learn(&shared, &x, &y);
        last = start.elapsed();
        Served::learn(&locked, &x, &y);
    }
    let mut out = Latencies::default();
    for c in UNTIMED..classes {
        let (x, y) = synth.class(c, WINDOWS);
        let until = Instant::now() + last;
        let idle_done = || Instant::now() >= until;
        predict_until(&shared, &probes, arrivals, idle_done, &mut out.idle);
        last = during_learn(&shared, &probes, arrivals, (&x, &y), &mut out.shared);
        during_learn(&locked, &probes, arrivals, (&x, &y), &mut out.locked);
        out.learn_ms.push(last.as_secs_f64() * 1e3);
    }
    out
}

fn line(strategy: Strategy, mode: &str, s: &mut Samples, idle_p99: f64) -> f64 {
    let xs = &mut s.micros;
    let p99 = quantile(xs, 0.99);
    println!(
        "{strategy:>9} {mode:>13}  {:9.1} {:9.1} {p99:9.1} {:10.1}  {:8.2}  {:>7}  {:>10.1}",
        quantile(xs, 0.5),
        quantile(xs, 0.9),
        quantile(xs, 1.0),
        p99 / idle_p99,
        xs.len(),
        1000.0 * s.preempted as f64 / xs.len() as f64
    );
    p99
}

fn main() {
    let dim = env("MMCL_BENCH_DIM", 2184);
    let enrollments = env("MMCL_BENCH_CLASSES", 16);
    let chosen = std::env::var("MMCL_BENCH_STRATEGIES").unwrap_or_else(|_| "proto,analytic".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "predict latency (µs), idle vs while another thread enrolls a class of {WINDOWS} windows; \
         D = {dim}, {enrollments} enrollments after {UNTIMED}, {cores} cores"
    );
    println!(
        "{:>9} {:>13}  {:>9} {:>9} {:>9} {:>10}  {:>8}  {:>7}  {:>10}",
        "strategy", "loop learner", "p50", "p90", "p99", "max", "p99/idle", "n", "preempt/1k"
    );
    let period = Duration::from_micros(env("MMCL_BENCH_PERIOD_US", 1000) as u64);
    for strategy in Strategy::ALL {
        if !chosen.split(',').any(|c| c == strategy.name()) {
            continue;
        }
        for (name, arrivals) in [
            ("closed", Arrivals::Closed),
            ("open", Arrivals::Open(period)),
        ] {
            let mut l = run(strategy, dim, enrollments, arrivals);
            let idle = quantile(&mut l.idle.micros, 0.99);
            line(strategy, &format!("{name} idle"), &mut l.idle, idle);
            line(strategy, &format!("{name} shared"), &mut l.shared, idle);
            line(strategy, &format!("{name} locked"), &mut l.locked, idle);
            let learn = quantile(&mut l.learn_ms, 0.5);
            println!("{strategy:>9} {name:>6} loop: learn call median {learn:.1} ms");
        }
    }
}
