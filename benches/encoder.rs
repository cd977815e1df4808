//! Encoder benchmark: one run prints tract, ONNX Runtime CPU with 1 thread and
//! with 2 threads side by side: per-window latency at batch 1 (median and p90
//! over RUNS runs after WARMUP), throughput at batch 8, achieved GFLOP/s and
//! the tract/ort ratio. Latency covers `Encoder::encode` (preprocessing of
//! model-sized frames plus inference).
//!
//! ```text
//! cargo bench --bench encoder --features ort [-- MODEL.onnx]   (ONNX Runtime from ORT_DYLIB_PATH or python3's onnxruntime)
//! ```
//! MODEL defaults to models/encoder.onnx, else the tiny test fixture. The ort
//! columns are skipped, with the reason printed, when the binary is built
//! without `--features ort` or when no ONNX Runtime library is found.

#[path = "../tests/encode_support/mod.rs"]
mod encode_support;

use mmcl::encode::{
    self, Backend, Encoder, EncoderOptions, ExecutionProvider, ModelContract, ModelFile,
};
use mmcl::window::Window;
use std::path::PathBuf;
use std::time::Instant;

const WARMUP: usize = 5;
const RUNS: usize = 30;
const BATCH: usize = 8;
const BATCH_RUNS: usize = 10;

struct Column {
    label: &'static str,
    options: EncoderOptions,
}

struct Measured {
    label: &'static str,
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

fn columns() -> Vec<Column> {
    let tract = |threads| EncoderOptions {
        backend: Backend::Tract,
        threads,
        ..EncoderOptions::default()
    };
    let mut cols = vec![
        Column {
            label: "tract 1t",
            options: tract(1),
        },
        Column {
            label: "tract 2t",
            options: tract(2),
        },
    ];
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
                cols.push(Column { label, options });
            }
        }
    }
    cols
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn time_ms(encoder: &mut dyn Encoder, windows: &[Window]) -> f64 {
    let start = Instant::now();
    let out = encoder.encode(windows).expect("encode");
    std::hint::black_box(out);
    start.elapsed().as_secs_f64() * 1e3
}

fn measure(
    col: &Column,
    path: &std::path::Path,
    windows: &[Window],
) -> Result<Measured, encode::EncodeError> {
    let mut single = encode::open(
        path,
        &EncoderOptions {
            batch_size: 1,
            ..col.options.clone()
        },
    )?;
    for w in windows.iter().cycle().take(WARMUP) {
        time_ms(single.as_mut(), std::slice::from_ref(w));
    }
    let mut lat: Vec<f64> = windows
        .iter()
        .cycle()
        .take(RUNS)
        .map(|w| time_ms(single.as_mut(), std::slice::from_ref(w)))
        .collect();
    lat.sort_by(f64::total_cmp);
    let mut batched = encode::open(
        path,
        &EncoderOptions {
            batch_size: BATCH,
            ..col.options.clone()
        },
    )?;
    time_ms(batched.as_mut(), &windows[..BATCH]);
    let mut batch_ms: Vec<f64> = (0..BATCH_RUNS)
        .map(|_| time_ms(batched.as_mut(), &windows[..BATCH]))
        .collect();
    batch_ms.sort_by(f64::total_cmp);
    Ok(Measured {
        label: col.label,
        median_ms: percentile(&lat, 0.5),
        p90_ms: percentile(&lat, 0.9),
        batch_windows_per_s: BATCH as f64 / (percentile(&batch_ms, 0.5) / 1e3),
    })
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
        "\n{:<12} {:>10} {:>10} {:>14} {:>12} {:>12}",
        "backend", "p50 ms", "p90 ms", "b8 windows/s", "GFLOP/s b1", "GFLOP/s b8"
    );
    for r in rows {
        let g1 = flops.map_or("-".into(), |f| {
            format!("{:.2}", f / (r.median_ms / 1e3) / 1e9)
        });
        let g8 = flops.map_or("-".into(), |f| {
            format!("{:.2}", f * r.batch_windows_per_s / 1e9)
        });
        println!(
            "{:<12} {:>10.3} {:>10.3} {:>14.1} {:>12} {:>12}",
            r.label, r.median_ms, r.p90_ms, r.batch_windows_per_s, g1, g8
        );
    }
    if let (Some(tract), Some(ort1)) = (
        rows.iter().find(|r| r.label == "tract 1t"),
        rows.iter().find(|r| r.label == "ort cpu 1t"),
    ) {
        println!(
            "\ntract / ort latency (1 thread, batch 1): {:.2}x",
            tract.median_ms / ort1.median_ms
        );
        println!(
            "tract / ort throughput time (batch {BATCH}): {:.2}x",
            ort1.batch_windows_per_s / tract.batch_windows_per_s
        );
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
    let mut rows = Vec::new();
    for col in columns() {
        match measure(&col, &path, &windows) {
            Ok(m) => rows.push(m),
            Err(e) => println!("{}: skipped: {e}", col.label),
        }
    }
    print_table(&rows, flops);
}
