//! Stream cost of the encoder stage: CPU milliseconds per second of stream,
//! for the `desktop-replay` profile's window and stride, tract, one thread,
//! with the default encoder. Two columns in one run: "whole" forces the
//! whole-window path (a frame cache of capacity 0: every window encodes its
//! T frames, as the stream did before the frame cache), "cached" is what the
//! encoder stage runs now (`FrameCache::for_spec`). The stream is cut into
//! chunks of CHUNK windows and the columns take turns chunk by chunk, so a
//! change in machine load hits both alike. CPU time is this process's
//! (`CLOCK_PROCESS_CPUTIME_ID`: the encoding thread and, with `--threads 2`,
//! the scoped threads the frames are split across; the bench runs nothing
//! else), so other processes on a shared machine inflate it far less than
//! wall time, which is printed beside it.
//!
//! ```text
//! cargo bench --bench stream [-- --seconds 60] [--threads 1] [--fps 25]
//! ```
//! The stream: frames at `--fps` (formula pixels at the model's size, so no
//! resize is timed) and IMU at the model's rate, both present throughout,
//! cut by `Aligner` as the daemon cuts it.

use mmcl::align::{Aligner, WindowSpec};
use mmcl::config::{Config, WindowShape};
use mmcl::encode::{
    self, Backend, Encoded, Encoder, EncoderOptions, FrameCache, FrameCounts, ModelContract,
};
use mmcl::sample::{Frame, ImuSample, Modality, Sample};
use mmcl::time::Timestamp;
use mmcl::window::Window;
use std::path::Path;
use std::time::Instant;

/// Windows per turn of a column.
const CHUNK: usize = 5;
/// Windows encoded by each column before timing (plans built, caches warm).
const WARMUP: usize = 3;

struct Args {
    seconds: u64,
    threads: usize,
    fps: u64,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| {
        argv.iter()
            .position(|a| a == name)
            .and_then(|i| argv.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Args {
        seconds: value("--seconds", 60),
        threads: value("--threads", 1) as usize,
        fps: value("--fps", 25),
    }
}

/// The desktop-replay profile's window for the encoder of `c`.
fn profile_spec(c: &ModelContract) -> WindowSpec {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-config/desktop-replay.toml");
    let config = Config::load(&profile).expect("the desktop-replay profile loads");
    let params = config
        .window()
        .params_for(&WindowShape::of(c), &c.name)
        .expect("the profile fits the default encoder");
    let size = Some((c.width as u32, c.height as u32));
    WindowSpec::new(mmcl::align::WindowParams {
        frame_size: size,
        ..params
    })
    .expect("a valid window")
}

/// Frame `i` at the model's size: a moving gradient, different every frame.
fn frame(i: u64, t: u64, c: &ModelContract) -> Frame {
    let (w, h) = (c.width, c.height);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let v = (x * 3 + y * 5) as u64 + i * 7;
            rgb.extend([
                (v % 256) as u8,
                ((v / 2) % 256) as u8,
                ((v * 3) % 256) as u8,
            ]);
        }
    }
    Frame::new(Timestamp(t), w as u32, h as u32, rgb).expect("a whole frame")
}

/// `seconds` of stream cut into windows by the aligner.
fn stream_windows(spec: &WindowSpec, c: &ModelContract, a: &Args) -> Vec<Window> {
    let end = a.seconds * 1_000_000_000;
    let frame_ns = 1_000_000_000 / a.fps.max(1);
    let imu_ns = (1e9 / f64::from(c.imu_rate_hz)) as u64;
    let mut samples: Vec<Sample> = (0..end / frame_ns)
        .map(|i| Sample::Frame(frame(i, i * frame_ns, c)))
        .collect();
    samples.extend((0..end / imu_ns).map(|i| {
        let v = (i as f32 * 0.21).sin();
        Sample::Imu(ImuSample {
            t: Timestamp(i * imu_ns),
            acc: [v, 0.3, 1.0],
            gyro: [30.0 * v, 0.0, -10.0],
        })
    }));
    samples.sort_by_key(Sample::t);
    let modalities = [Modality::Video, Modality::Imu];
    let mut aligner = Aligner::new(spec.clone(), Timestamp::ZERO, &modalities).expect("aligner");
    let mut windows = Vec::new();
    for s in samples {
        aligner.push(s).expect("a valid sample");
        windows.extend(aligner.pop_ready());
    }
    // Only windows the stream covers whole, as a live stream would have them.
    windows.retain(|w| w.video.is_some() && w.imu.is_some());
    windows
}

/// This process's CPU time in milliseconds, all its threads.
fn process_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 * 1e-6
}

struct Column {
    label: &'static str,
    encoder: Box<dyn Encoder>,
    cache: FrameCache,
    cpu_ms: f64,
    wall_ms: f64,
    windows: usize,
    out: Vec<Encoded>,
}

impl Column {
    fn open(label: &'static str, model: &Path, threads: usize, cache: FrameCache) -> Column {
        let options = EncoderOptions {
            backend: Backend::Tract,
            threads,
            batch_size: 1,
            ..EncoderOptions::default()
        };
        Column {
            label,
            encoder: encode::open(model, &options).expect("the default encoder opens"),
            cache,
            cpu_ms: 0.0,
            wall_ms: 0.0,
            windows: 0,
            out: Vec::new(),
        }
    }

    /// One turn: the windows one at a time, as the encoder stage takes a steady stream.
    fn turn(&mut self, windows: &[Window]) {
        let (cpu, wall) = (process_cpu_ms(), Instant::now());
        for w in windows {
            let encoded = (self.cache)
                .encode(self.encoder.as_mut(), std::slice::from_ref(w))
                .expect("encode");
            self.out.extend(encoded);
        }
        self.cpu_ms += process_cpu_ms() - cpu;
        self.wall_ms += wall.elapsed().as_secs_f64() * 1e3;
        self.windows += windows.len();
    }
}

fn max_diff(a: &[Encoded], b: &[Encoded]) -> f32 {
    let pairs = a.iter().zip(b);
    let d = pairs.flat_map(|(x, y)| {
        let (x, y) = (x.embedding.as_slice(), y.embedding.as_slice());
        x.iter().zip(y).map(|(p, q)| (p - q).abs())
    });
    d.fold(0.0, f32::max)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn report(col: &Column, stream_s: f64, counts: FrameCounts) {
    let frames = counts.frames_encoded as f64 / counts.windows_fused.max(1) as f64;
    let frames = match counts.windows_fused {
        0 => "T (whole windows)".to_string(),
        _ => format!("{frames:.2}"),
    };
    println!(
        "{:<8} {:>14.1} {:>15.1} {:>12.1} {:>17}",
        col.label,
        col.cpu_ms / stream_s,
        col.wall_ms / stream_s,
        col.cpu_ms / col.windows.max(1) as f64,
        frames
    );
}

/// CPU ms per call of each piece of the cached path, `REPS` calls each:
/// where a cached window's time goes.
fn breakdown(model: &Path, threads: usize, windows: &[Window]) {
    const REPS: usize = 10;
    let mut col = Column::open("parts", model, threads, FrameCache::new(0));
    let Some(stage) = col.encoder.frame_stage() else {
        return println!("the model has no frame stage: no breakdown");
    };
    let Some(w) = windows.first() else { return };
    let frames = w.video.as_ref().map_or(&[][..], |v| v.frames.as_slice());
    let features = stage.encode_frames(frames).expect("frames");
    let time = |what: &str, job: &mut dyn FnMut()| {
        job();
        let cpu = process_cpu_ms();
        for _ in 0..REPS {
            job();
        }
        let ms = (process_cpu_ms() - cpu) / REPS as f64;
        println!("  {what:<28} {ms:>7.2} cpu ms");
    };
    println!("where a cached window's time goes (cpu ms per call, {REPS} calls each):");
    for n in [1, 2, 8] {
        let part = &frames[..n.min(frames.len())];
        time(&format!("encode_frames({n})"), &mut || {
            std::hint::black_box(stage.encode_frames(part).expect("frames"));
        });
    }
    time("fuse (video + imu)", &mut || {
        std::hint::black_box(stage.fuse(Some(&features), w.imu.as_ref()).expect("fuse"));
    });
}

fn main() {
    let a = args();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    let probe = Column::open("probe", &model, a.threads, FrameCache::new(0));
    let c = probe.encoder.contract().clone();
    drop(probe);
    let spec = profile_spec(&c);
    let windows = stream_windows(&spec, &c, &a);
    let mut whole = Column::open("whole", &model, a.threads, FrameCache::new(0));
    let mut cached = Column::open("cached", &model, a.threads, FrameCache::for_spec(&spec));
    let (warm, timed) = windows.split_at(WARMUP.min(windows.len()));
    whole.turn(warm);
    cached.turn(warm);
    let (first_whole, first_cached) = (
        std::mem::take(&mut whole.out),
        std::mem::take(&mut cached.out),
    );
    let warm_counts = cached.cache.counts();
    for col in [&mut whole, &mut cached] {
        (col.cpu_ms, col.wall_ms, col.windows) = (0.0, 0.0, 0);
    }
    let load_before = load_average();
    for chunk in timed.chunks(CHUNK) {
        whole.turn(chunk);
        cached.turn(chunk);
    }
    // Stream seconds covered by the timed windows: one stride each.
    let stream_s = timed.len() as f64 * spec.stride_ns() as f64 * 1e-9;
    let mut counts = cached.cache.counts();
    counts.frames_encoded -= warm_counts.frames_encoded;
    counts.frames_reused -= warm_counts.frames_reused;
    counts.windows_fused -= warm_counts.windows_fused;
    println!(
        "stream cost of the encoder stage: {} ({}), tract {} thread(s), window {} s every {} s, T = {}, {} fps",
        c.name,
        model.display(),
        a.threads,
        spec.params().seconds,
        spec.params().stride_seconds,
        c.frames,
        a.fps
    );
    println!(
        "{} windows timed ({:.0} s of stream) after {} warm-up windows, columns alternating every {CHUNK} windows; frame cache capacity {}",
        timed.len(),
        stream_s,
        warm.len(),
        cached.cache.capacity()
    );
    println!(
        "load average before {load_before}, after {}",
        load_average()
    );
    println!(
        "{:<8} {:>14} {:>15} {:>12} {:>17}",
        "path", "cpu ms / s", "wall ms / s", "cpu ms / win", "frames enc / win"
    );
    report(&whole, stream_s, FrameCounts::default());
    report(&cached, stream_s, counts);
    println!(
        "whole / cached: {:.2}x less CPU per second of stream ({:.2}x wall)",
        whole.cpu_ms / cached.cpu_ms.max(1e-9),
        whole.wall_ms / cached.wall_ms.max(1e-9)
    );
    let d = max_diff(&whole.out, &cached.out).max(max_diff(&first_whole, &first_cached));
    println!("max |embedding difference| between the paths: {d:.2e}");
    breakdown(&model, a.threads, timed);
}
