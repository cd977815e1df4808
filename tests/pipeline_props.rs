//! Incremental equals batch, through real threads: three sources at different
//! rates (replayed JPEG frames at 25 fps, the real mobgap IMU recording at 100
//! Hz, a synthetic 8 kHz tone in 20 ms chunks) run through the pipeline graph
//! with random per-sample delays, random bursts, random channel capacities and a
//! consumer that stalls at random; the windows must equal those of one
//! `Aligner` fed every sample in time order, then `finish`ed.
//!
//! Skew condition (docs/align.md, docs/pipeline.md): no sample may reach the
//! aligner `stall + lateness` (here 3.2 s) or more of data time behind one
//! already pushed in another modality. The sources are paced on one shared clock
//! at 4x, so a sample is produced at most (its delay + burst wait + scheduling
//! delay) x 4 after it is due; the aligner sorts what is queued, so queues add at
//! most their capacity in data time (at most 0.4 s here). The worst delays drawn
//! (20 ms, bursts of 16 IMU readings = 160 ms of data) stay far below the bound.

mod pipeline_support;

use mmcl::align::{Aligner, WindowParams, WindowSpec};
use mmcl::pipeline::{reduce_frame, ChannelPolicy, ChannelSettings, Pipeline, PipelineSettings};
use mmcl::sample::{Modality, Sample};
use mmcl::sensor::replay::{Playlist, ReplaySource};
use mmcl::sensor::{Pacing, Source};
use mmcl::shutdown::Shutdown;
use mmcl::time::{Clock, MonotonicClock, Timestamp};
use mmcl::window::Window;
use pipeline_support::*;
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const SPEED: f64 = 4.0;
const FRAME_SIZE: (u32, u32) = (16, 12);

fn spec() -> WindowSpec {
    WindowSpec::new(WindowParams {
        seconds: 2.0,
        stride_seconds: 0.5,
        imu_rate_hz: 50.0,
        frames: 4,
        stall_seconds: 3.0,
        lateness_seconds: 0.2,
        audio_rate_hz: pipeline_support::AUDIO_RATE,
        ..WindowParams::default()
    })
    .unwrap()
}

/// An 8 s video-only clip of 32x24 JPEGs, written once for every case.
fn clip() -> &'static (tempfile::TempDir, mmcl::dataset::Clip) {
    static CLIP: OnceLock<(tempfile::TempDir, mmcl::dataset::Clip)> = OnceLock::new();
    CLIP.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let clip = video_clip(root.path(), "walk", 200, (32, 24));
        (root, clip)
    })
}

fn video(pacing: Pacing) -> ReplaySource {
    let gap = spec().len_ns() + spec().stride_ns();
    ReplaySource::new(
        Playlist::once(vec![clip().1.clone()]),
        Timestamp::ZERO,
        gap,
        pacing,
    )
    .with_name("video")
    .only(&[Modality::Video])
}

/// The batch oracle: every sample (frames reduced as the pipeline reduces them)
/// in time order into one aligner, then `finish`.
fn oracle() -> &'static Vec<Window> {
    static WINDOWS: OnceLock<Vec<Window>> = OnceLock::new();
    WINDOWS.get_or_init(|| {
        let mut all = collect(video(Pacing::Unpaced));
        all.extend(collect(imu_source(Pacing::Unpaced)));
        all.extend(collect(ToneSource::new(12, Pacing::Unpaced)));
        all.sort_by_key(Sample::t);
        let spec = WindowSpec::new(WindowParams {
            frame_size: Some(FRAME_SIZE),
            ..spec().params().clone()
        })
        .unwrap();
        let mut aligner = Aligner::new(spec, Timestamp::ZERO, &Modality::ALL).unwrap();
        for s in all {
            let s = match s {
                Sample::Frame(f) => Sample::Frame(reduce_frame(f, FRAME_SIZE)),
                other => other,
            };
            aligner.push(s).unwrap();
        }
        let mut windows = aligner.pop_ready();
        windows.extend(aligner.finish());
        windows
    })
}

#[test]
fn the_oracle_has_teeth() {
    let w = oracle();
    let all = w.iter().filter(|w| w.present().len() == 3).count();
    let no_video = w
        .iter()
        .filter(|w| !w.is_present(Modality::Video) && w.imu.is_some())
        .count();
    // 8 s of video, 12 s of IMU and audio, 2 s windows every 0.5 s.
    assert!(all >= 10, "{all} windows with all three modalities");
    assert!(no_video >= 5, "{no_video} windows after the video ended");
    let frames = w
        .iter()
        .filter_map(|w| w.video.as_ref())
        .flat_map(|v| &v.frames);
    assert!(frames
        .into_iter()
        .all(|f| (f.width, f.height) == FRAME_SIZE));
}

#[derive(Debug, Clone)]
struct Case {
    video: Jitter,
    imu: Jitter,
    audio: Jitter,
    capacities: [usize; 3],
    window_capacity: usize,
    consumer_seed: u64,
}

fn jitter(max_chunk: usize) -> impl Strategy<Value = Jitter> {
    (any::<u64>(), 5u32..40, 0u64..=20, 1usize..=max_chunk).prop_map(
        |(seed, one_in, max_delay_ms, max_chunk)| Jitter {
            seed,
            one_in,
            max_delay_ms,
            max_chunk,
        },
    )
}

fn case() -> impl Strategy<Value = Case> {
    (
        jitter(4),
        jitter(16),
        jitter(8),
        // At most 0.32 s of video, 0.4 s of IMU, 0.4 s of audio queued.
        (1usize..=8, 1usize..=40, 1usize..=20),
        1usize..=8,
        any::<u64>(),
    )
        .prop_map(
            |(video, imu, audio, (v, i, a), window_capacity, consumer_seed)| Case {
                video,
                imu,
                audio,
                capacities: [v, i, a],
                window_capacity,
                consumer_seed,
            },
        )
}

fn settings(c: &Case) -> PipelineSettings {
    let block = |capacity| ChannelSettings {
        capacity,
        policy: ChannelPolicy::Block,
    };
    PipelineSettings {
        video: block(c.capacities[0]),
        imu: block(c.capacities[1]),
        audio: block(c.capacities[2]),
        window_capacity: c.window_capacity,
        frame_size: Some(FRAME_SIZE),
        ..PipelineSettings::default()
    }
}

fn run(c: &Case) -> (Vec<Window>, String) {
    // One clock for all three: the sample timeline and the clock both start at 0.
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let pacing = Pacing::Clock {
        clock,
        speed: SPEED,
        origin: Timestamp::ZERO,
    };
    let sources: Vec<Box<dyn Source>> = vec![
        Box::new(Jittery::new(video(pacing.clone()), c.video)),
        Box::new(Jittery::new(imu_source(pacing.clone()), c.imu)),
        Box::new(Jittery::new(ToneSource::new(12, pacing), c.audio)),
    ];
    let shutdown = Shutdown::new();
    let p = Pipeline::start_windows(sources, &spec(), Timestamp::ZERO, &settings(c), &shutdown)
        .unwrap();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(c.consumer_seed);
    let mut windows = Vec::new();
    for (k, w) in p.output().iter().enumerate() {
        assert_eq!(w.seq, k as u64);
        windows.push(w.window);
        if rand::Rng::random_range(&mut rng, 0..10) == 0 {
            std::thread::sleep(Duration::from_millis(rand::Rng::random_range(
                &mut rng,
                0..15,
            )));
        }
    }
    let stats = p.health().aligner.stats;
    p.join().into_result().unwrap();
    let late = format!(
        "late dropped: video {}, imu {}, audio {}",
        stats.video.late_dropped, stats.imu.late_dropped, stats.audio.late_dropped
    );
    (windows, late)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn threaded_windows_equal_the_batch_oracle(c in case()) {
        let (windows, late) = run(&c);
        let oracle = oracle();
        prop_assert_eq!(windows.len(), oracle.len(), "{}", late);
        for (k, (got, want)) in windows.iter().zip(oracle).enumerate() {
            prop_assert!(got == want, "window {} differs (start {:?}, present {:?} vs {:?}); {}",
                k, got.start, got.present(), want.present(), late);
        }
    }
}
