//! Soak: a real IMU recording and a real video replayed as live sources (the
//! profile's `csv-file` IMU and `file` camera, both looping) through the
//! builder and `Pipeline::start_windows` at real time, with the default
//! encoder's window (5.12 s, 8 frames of 112x112, IMU at 25 Hz). Ignored by
//! default (it runs for minutes); run it with
//!
//! ```sh
//! MMCL_SOAK_SECONDS=600 cargo test --release --features mp4 --test sensor_soak -- --ignored --nocapture
//! ```
//!
//! Optional: `MMCL_SOAK_IMU=/path/to/recording.csv` and `MMCL_SOAK_IMU_HZ`
//! (default: the checked-in 12 s mobgap excerpt at 100 Hz), `MMCL_SOAK_VIDEO`
//! and `MMCL_SOAK_FPS` (default: the 40-frame vtest fixture at 25 fps).
//!
//! Checks: no IMU sample lost anywhere (every reading the recording holds for
//! the elapsed time was delivered, none dropped by a channel or refused by
//! the aligner), video frames dropped are counted (and printed with where),
//! and resident memory grows less than 1 % from the end of the first fifth
//! of the run (2 of 10 minutes) to its end. Figures are printed.

use mmcl::align::WindowSpec;
use mmcl::config::Config;
use mmcl::pipeline::{Pipeline, PipelineHealth, PipelineSettings};
use mmcl::sample::Modality;
use mmcl::sensor::live::{self, LiveContext};
use mmcl::shutdown::Shutdown;
use mmcl::time::{Clock, MonotonicClock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

/// Resident set size in bytes (`/proc/self/statm`, pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no memory effects.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

/// Data rows of a CSV recording (lines that start with a digit or a sign).
fn rows(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit() || c == '-'))
        .count() as u64
}

fn profile(dir: &Path, imu: &str, imu_hz: &str, video: &str, fps: &str) -> PathBuf {
    let text = format!(
        "profile = \"soak\"\nstate_dir = \"state\"\n\n[sources.camera]\nfile = \"{video}\"\nloop = true\nfps = {fps}\n\n\
         [sources.imu]\nkind = \"csv-file\"\npath = \"{imu}\"\nrate_hz = {imu_hz}\nloop = true\n"
    );
    let path = dir.join("soak.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn imu_delivered(h: &PipelineHealth) -> u64 {
    h.source("imu").map_or(0, |s| s.samples_delivered)
}

#[test]
#[ignore = "runs for minutes at real time: see the module docs"]
fn real_recordings_replayed_live_lose_no_imu_sample_and_hold_memory() {
    let seconds: u64 = env_or("MMCL_SOAK_SECONDS", "600").parse().unwrap();
    let imu_path = env_or(
        "MMCL_SOAK_IMU",
        &data("tests/data/imu/mobgap_HA001_Test11_3500-4699.csv"),
    );
    let imu_hz: f64 = env_or("MMCL_SOAK_IMU_HZ", "100").parse().unwrap();
    let video = env_or(
        "MMCL_SOAK_VIDEO",
        &data("tests/data/dataset/vtest_baseline.mp4"),
    );
    let fps = env_or("MMCL_SOAK_FPS", "25");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(&profile(
        dir.path(),
        &imu_path,
        &imu_hz.to_string(),
        &video,
        &fps,
    ))
    .unwrap();

    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let ctx = LiveContext {
        clock: clock.clone(),
        frame_size: (112, 112),
    };
    let shutdown = Shutdown::new();
    let start = clock.now();
    let built = live::build(config.sources(), &ctx, &shutdown).expect("both recordings open");
    assert!(built.absent.is_empty());
    let settings = PipelineSettings {
        frame_size: Some((112, 112)),
        ..PipelineSettings::default()
    };
    let pipeline = Pipeline::start_windows(
        built.sources,
        &WindowSpec::default(),
        start,
        &settings,
        &shutdown,
    )
    .unwrap();

    // The consumer: takes every window as it comes and counts presence.
    let (windows, both) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let output = pipeline.output().clone();
    let (w, b) = (windows.clone(), both.clone());
    let consumer = std::thread::spawn(move || {
        for seq in output.iter() {
            w.fetch_add(1, Ordering::Relaxed);
            if seq.window.is_present(Modality::Video) && seq.window.is_present(Modality::Imu) {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let began = Instant::now();
    let warm = Duration::from_secs(seconds / 5);
    let mut rss_warm = None;
    let mut rss_max = 0;
    while began.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        let rss = rss_bytes();
        if began.elapsed() >= warm {
            rss_warm.get_or_insert(rss);
            rss_max = rss_max.max(rss);
        }
        if began.elapsed().as_secs() % 60 == 0 {
            let h = pipeline.health();
            eprintln!(
                "{:>4} s: rss {} KiB, imu {} delivered, video dropped {:?}, windows {}",
                began.elapsed().as_secs(),
                rss / 1024,
                imu_delivered(&h),
                h.dropped.get("video"),
                windows.load(Ordering::Relaxed)
            );
        }
    }
    let elapsed = clock.now().since(start) as f64 * 1e-9;
    let health = pipeline.health();
    let rss_end = rss_bytes();
    drop(pipeline.stop());
    consumer.join().unwrap();

    let imu = health.source("imu").unwrap();
    let video_src = health.source("camera").unwrap();
    let stats = &health.aligner.stats;
    let expected = (elapsed * imu_hz).floor() as u64;
    let rss_warm = rss_warm.unwrap_or(rss_end);
    let growth = (rss_end as f64 - rss_warm as f64) / rss_warm as f64;
    let growth_max = (rss_max as f64 - rss_warm as f64) / rss_warm as f64;
    println!(
        "soak {elapsed:.1} s: IMU {} ({} rows, {imu_hz} Hz), video {video} at {fps} fps",
        imu_path,
        rows(Path::new(&imu_path))
    );
    println!("imu: delivered {} of ~{expected} due, channel dropped {}, blocked {:.1} ms, aligner late {} duplicate {} rejected {} stale {}, gaps {}",
        imu.samples_delivered, imu.dropped, imu.blocked_ms, stats.imu.late_dropped, stats.imu.duplicates_dropped, stats.imu.rejected, stats.imu.stale_dropped, imu.modalities[0].gaps);
    println!(
        "video: delivered {}, channel dropped {}, aligner late {} stale {} rejected {}, gaps {}",
        video_src.samples_delivered,
        video_src.dropped,
        stats.video.late_dropped,
        stats.video.stale_dropped,
        stats.video.rejected,
        video_src.modalities[0].gaps
    );
    println!(
        "windows: {} emitted, {} with video and IMU",
        windows.load(Ordering::Relaxed),
        both.load(Ordering::Relaxed)
    );
    println!(
        "rss: {} KiB at {} s, {} KiB at the end ({:+.3} %), max after warm-up {} KiB ({:+.3} %)",
        rss_warm / 1024,
        warm.as_secs(),
        rss_end / 1024,
        growth * 100.0,
        rss_max / 1024,
        growth_max * 100.0
    );

    assert_eq!(
        (
            imu.dropped,
            stats.imu.late_dropped,
            stats.imu.duplicates_dropped,
            stats.imu.rejected
        ),
        (0, 0, 0, 0)
    );
    // Every reading due by the end was delivered: at most the few in flight at the stop are missing.
    assert!(
        imu.samples_delivered + 3 >= expected,
        "{} delivered, {expected} due",
        imu.samples_delivered
    );
    assert!(growth < 0.01, "RSS grew {:.3} %", growth * 100.0);
}
