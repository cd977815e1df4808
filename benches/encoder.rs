//! Encoder benchmark: one run prints tract and ONNX Runtime CPU, each with 1
//! and 2 threads, side by side: per-window latency at batch 1 (min, median
//! and p90 over RUNS runs after WARMUP; on a shared machine the min is the
//! least disturbed), throughput at batch 8, achieved GFLOP/s and
//! the tract/ort ratios. Latency covers `Encoder::encode` (preprocessing of
//! model-sized frames plus inference). The columns are timed in turn, run by
//! run, so a change in machine load hits them all alike, each run after a
//! short pause so no column pays for another's spinning threads. For a model with a
//! frame stage it also times one frame through it and one fuse (the cost of a
//! window when its other frames are cached).
//!
//! ```text
//! cargo bench --bench encoder --features ort [-- MODEL.onnx] [--profile]
//! ```
//! MODEL defaults to models/encoder.onnx, else the tiny test fixture; ONNX
//! Runtime comes from ORT_DYLIB_PATH or python3's onnxruntime. The ort columns
//! are skipped, with the reason printed, when the binary is built without
//! `--features ort` or when no library is found. `--profile` adds tract's time
//! per operator kind (batch 1, one thread).

#[path = "../tests/encode_support/mod.rs"]
mod encode_support;

use mmcl::encode::{
    self, Backend, Batch, Encoder, EncoderOptions, ExecutionProvider, ModelContract, ModelFile,
};
use mmcl::window::Window;
use std::path::{Path, PathBuf};
use std::time::Instant;

const WARMUP: usize = 5;
const RUNS: usize = 30;
const BATCH: usize = 8;
const BATCH_RUNS: usize = 10;
const PROFILE_RUNS: usize = 5;
/// Idle time before each timed run: ONNX Runtime's and rayon's worker threads
/// spin for a while after a run, which would be charged to the next column.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(25);

/// One backend configuration, opened twice (batch 1 and batch 8).
struct Column {
    label: &'static str,
    single: Box<dyn Encoder>,
    batched: Box<dyn Encoder>,
    latency_ms: Vec<f64>,
    batch_ms: Vec<f64>,
}

struct Measured {
    label: &'static str,
    min_ms: f64,
    median_ms: f64,
    p90_ms: f64,
    batch_windows_per_s: f64,
}

fn model_path() -> PathBuf {
    let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    match arg {
        Some(path) => PathBuf::from(path),
        None if default.is_file() => default,
        None => encode_support::tiny(),
    }
}

fn configurations() -> Vec<(&'static str, EncoderOptions)> {
    let tract = |threads| EncoderOptions {
        backend: Backend::Tract,
        threads,
        ..EncoderOptions::default()
    };
    let mut configs = vec![("tract 1t", tract(1)), ("tract 2t", tract(2))];
    let library = mmcl::encode::ort_locate::locate(None).map(|f| f.path().to_path_buf());
    match (cfg!(feature = "ort"), library) {
        (false, _) => println!("ort columns skipped: built without `--features ort`"),
        (true, None) => {
            println!("ort columns skipped: no ONNX Runtime (set ORT_DYLIB_PATH or pip install onnxruntime)")
        }
        (true, Some(lib)) => {
            for (label, threads) in [("ort cpu 1t", 1), ("ort cpu 2t", 2)] {
                let options = EncoderOptions {
                    backend: Backend::Ort,
                    threads,
                    execution_providers: vec![ExecutionProvider::Cpu],
                    ort_library: Some(lib.clone()),
                    batch_size: 1,
                };
                configs.push((label, options));
            }
        }
    }
    configs
}

fn open_column(
    label: &'static str,
    options: &EncoderOptions,
    path: &Path,
) -> Result<Column, encode::EncodeError> {
    let with_batch = |batch_size| EncoderOptions {
        batch_size,
        ..options.clone()
    };
    Ok(Column {
        label,
        single: encode::open(path, &with_batch(1))?,
        batched: encode::open(path, &with_batch(BATCH))?,
        latency_ms: Vec::new(),
        batch_ms: Vec::new(),
    })
}

fn time_ms(encoder: &mut dyn Encoder, windows: &[Window]) -> f64 {
    std::thread::sleep(SETTLE);
    let start = Instant::now();
    let out = encoder.encode(windows).expect("encode");
    std::hint::black_box(out);
    start.elapsed().as_secs_f64() * 1e3
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

/// Every column timed in turn, run by run.
fn measure(columns: &mut [Column], windows: &[Window]) -> Vec<Measured> {
    for col in columns.iter_mut() {
        for w in windows.iter().cycle().take(WARMUP) {
            time_ms(col.single.as_mut(), std::slice::from_ref(w));
        }
        time_ms(col.batched.as_mut(), &windows[..BATCH]);
    }
    for w in windows.iter().cycle().take(RUNS) {
        for col in columns.iter_mut() {
            let ms = time_ms(col.single.as_mut(), std::slice::from_ref(w));
            col.latency_ms.push(ms);
        }
    }
    for _ in 0..BATCH_RUNS {
        for col in columns.iter_mut() {
            let ms = time_ms(col.batched.as_mut(), &windows[..BATCH]);
            col.batch_ms.push(ms);
        }
    }
    columns.iter_mut().map(summarize).collect()
}

fn summarize(col: &mut Column) -> Measured {
    col.latency_ms.sort_by(f64::total_cmp);
    col.batch_ms.sort_by(f64::total_cmp);
    Measured {
        label: col.label,
        min_ms: percentile(&col.latency_ms, 0.0),
        median_ms: percentile(&col.latency_ms, 0.5),
        p90_ms: percentile(&col.latency_ms, 0.9),
        batch_windows_per_s: BATCH as f64 / (percentile(&col.batch_ms, 0.5) / 1e3),
    }
}

/// FLOPs per window: tract's count of the graph, else the model's declaration.
fn flops(model: &ModelFile, contract: &ModelContract) -> Option<f64> {
    let counted = encode::flops_per_window(model, contract);
    let declared = contract.flops_per_window;
    match (&counted, declared) {
        (Ok(c), Some(d)) => println!("FLOPs/window: {:.4e} counted by tract (Conv/MatMul MACs x 2); model declares {d:.4e}", c),
        (Ok(c), None) => println!("FLOPs/window: {c:.4e} counted by tract (Conv/MatMul MACs x 2)"),
        (Err(e), Some(d)) => println!("FLOPs/window: {d:.4e} declared by mmcl.flops_per_window (tract count unavailable: {e})"),
        (Err(e), None) => println!("FLOPs/window: unknown ({e})"),
    }
    counted.ok().or(declared)
}

fn print_table(rows: &[Measured], flops: Option<f64>) {
    println!(
        "\n{:<12} {:>9} {:>9} {:>9} {:>14} {:>12} {:>12}",
        "backend", "min ms", "p50 ms", "p90 ms", "b8 windows/s", "GFLOP/s b1", "GFLOP/s b8"
    );
    for r in rows {
        let g1 = flops.map_or("-".into(), |f| {
            format!("{:.2}", f / (r.median_ms / 1e3) / 1e9)
        });
        let g8 = flops.map_or("-".into(), |f| {
            format!("{:.2}", f * r.batch_windows_per_s / 1e9)
        });
        println!(
            "{:<12} {:>9.3} {:>9.3} {:>9.3} {:>14.1} {:>12} {:>12}",
            r.label, r.min_ms, r.median_ms, r.p90_ms, r.batch_windows_per_s, g1, g8
        );
    }
    let find = |label: &str| rows.iter().find(|r| r.label == label);
    for threads in ["1t", "2t"] {
        let pair = (
            find(&format!("tract {threads}")),
            find(&format!("ort cpu {threads}")),
        );
        if let (Some(tract), Some(ort)) = pair {
            println!(
                "tract / ort, {threads}: latency (batch 1) {:.2}x (min {:.2}x), time per window (batch {BATCH}) {:.2}x",
                tract.median_ms / ort.median_ms,
                tract.min_ms / ort.min_ms,
                ort.batch_windows_per_s / tract.batch_windows_per_s
            );
        }
    }
}

/// One frame through the frame stage and one fuse: a window's cost when the
/// other frames' features are cached.
fn frame_stage_costs(path: &Path, windows: &[Window]) {
    let Ok(mut enc) = encode::open(path, &EncoderOptions::default()) else {
        return;
    };
    let Some(stage) = enc.frame_stage() else {
        println!("\nframe stage: the model declares none (whole windows only)");
        return;
    };
    let w = &windows[0];
    let frames = &w.video.as_ref().expect("formula windows have video").frames;
    let features = stage.encode_frames(frames).expect("encode frames");
    let (mut frame_ms, mut fuse_ms) = (Vec::new(), Vec::new());
    for i in 0..RUNS + WARMUP {
        let start = Instant::now();
        let one = stage
            .encode_frames(&frames[i % frames.len()..][..1])
            .expect("frame");
        std::hint::black_box(one);
        frame_ms.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let fused = stage.fuse(Some(&features), w.imu.as_ref()).expect("fuse");
        std::hint::black_box(fused);
        fuse_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let median = |v: &mut Vec<f64>| {
        v.drain(..WARMUP);
        v.sort_by(f64::total_cmp);
        percentile(v, 0.5)
    };
    let (frame, fuse) = (median(&mut frame_ms), median(&mut fuse_ms));
    println!(
        "\ntract 1t frame stage: one frame {frame:.3} ms, fuse {fuse:.3} ms: a window with one new frame costs {:.3} ms",
        frame + fuse
    );
}

fn print_profile(model: &ModelFile, contract: &ModelContract, windows: &[Window]) {
    let batch = Batch::from_windows(&windows[..1], contract, 0).expect("a batch");
    let options = EncoderOptions::default();
    match encode::profile_ops(model, contract.clone(), &options, &batch, PROFILE_RUNS) {
        Ok(ops) => {
            let total: f64 = ops.iter().map(|o| o.ms).sum();
            println!(
                "\ntract 1t, batch 1, by operator ({PROFILE_RUNS} runs, {total:.2} ms in all):"
            );
            for o in ops.iter().filter(|o| o.ms >= 0.05) {
                let share = 100.0 * o.ms / total;
                println!(
                    "  {:<28} x{:<4} {:>8.2} ms {share:>5.1} %",
                    o.op, o.nodes, o.ms
                );
            }
        }
        Err(e) => println!("\nprofile: {e}"),
    }
}

fn main() {
    let path = model_path();
    let model = ModelFile::read(&path).expect("read the model");
    let contract = encode::check_contract(&model).expect("a model that follows the contract");
    println!(
        "model {} ({}, sha256 {})",
        path.display(),
        contract.name,
        &contract.sha256[..16]
    );
    println!(
        "window: {} frames {}x{}, IMU {} x 6; D = {}",
        contract.frames, contract.width, contract.height, contract.imu_len, contract.dim
    );
    let flops = flops(&model, &contract);
    let windows: Vec<Window> = (0..BATCH.max(RUNS))
        .map(|n| encode_support::formula_window(n, &contract))
        .collect();
    let mut columns = Vec::new();
    for (label, options) in configurations() {
        match open_column(label, &options, &path) {
            Ok(col) => columns.push(col),
            Err(e) => println!("{label}: skipped: {e}"),
        }
    }
    let rows = measure(&mut columns, &windows);
    print_table(&rows, flops);
    frame_stage_costs(&path, &windows);
    if std::env::args().any(|a| a == "--profile") {
        print_profile(&model, &contract, &windows);
    }
}
