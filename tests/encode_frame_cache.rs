//! The frame cache against the whole-window path, over streams with random
//! timings: frames with jitter, dropped frames and holes longer than max_gap,
//! an IMU with its own drops, random strides (overlapping windows and not),
//! and windows handed over in random bursts (as a backlog reaches the encoder
//! stage). Every window built from cached frames equals its whole-window
//! embedding within 1e-4; the ring never holds more than its capacity; and a
//! frame that the previous video window held is never encoded again (the
//! capacity, from window and stride, is enough).
#![cfg(feature = "tract")]

mod encode_support;

use encode_support::*;
use mmcl::align::{Aligner, WindowParams, WindowSpec};
use mmcl::encode::{
    self, BackendInfo, Batch, BatchOutputs, EncodeError, Encoded, Encoder, EncoderOptions,
    FrameCache, FrameFeatures, FrameStage, ModelContract,
};
use mmcl::sample::{Frame, ImuSample, Modality, Sample};
use mmcl::time::Timestamp;
use mmcl::window::{ImuBlock, Window};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::Path;

const MS: u64 = 1_000_000;

/// An encoder that records the time of every frame its frame stage encodes.
struct Counting {
    inner: Box<dyn Encoder>,
    encoded: Vec<Timestamp>,
}

impl Encoder for Counting {
    fn contract(&self) -> &ModelContract {
        self.inner.contract()
    }
    fn backend(&self) -> BackendInfo {
        self.inner.backend()
    }
    fn batch_size(&self) -> usize {
        self.inner.batch_size()
    }
    fn run(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        self.inner.run(batch)
    }
    fn frame_stage(&mut self) -> Option<&mut dyn FrameStage> {
        self.inner.frame_stage()?;
        Some(self)
    }
}

impl FrameStage for Counting {
    fn feature_len(&self) -> usize {
        0
    }
    fn encode_frames(&mut self, frames: &[Frame]) -> Result<Vec<FrameFeatures>, EncodeError> {
        self.encoded.extend(frames.iter().map(|f| f.t));
        let stage = self.inner.frame_stage().expect("checked in frame_stage");
        stage.encode_frames(frames)
    }
    fn fuse(
        &mut self,
        video: Option<&[FrameFeatures]>,
        imu: Option<&ImuBlock>,
    ) -> Result<Encoded, EncodeError> {
        let stage = self.inner.frame_stage().expect("checked in frame_stage");
        stage.fuse(video, imu)
    }
}

fn open(path: &Path) -> Box<dyn Encoder> {
    let options = EncoderOptions {
        batch_size: 4,
        threads: 1,
        ..EncoderOptions::default()
    };
    encode::open(path, &options).unwrap()
}

/// The aligner's spec for `c` (its window, rate and frames) at `stride_ms`.
fn spec(c: &ModelContract, stride_ms: u64) -> WindowSpec {
    WindowSpec::new(WindowParams {
        seconds: f64::from(c.window_seconds),
        stride_seconds: stride_ms as f64 / 1000.0,
        imu_rate_hz: f64::from(c.imu_rate_hz),
        frames: c.frames,
        frame_size: Some((c.width as u32, c.height as u32)),
        ..WindowParams::default()
    })
    .unwrap()
}

/// How a case's stream is timed.
#[derive(Debug, Clone)]
struct Timing {
    seed: u64,
    frame_ms: u64,
    jitter_ms: u64,
    /// Per mille of frames dropped one by one.
    drop: u32,
    /// Per mille of frames that start a hole of up to 1.5 s.
    hole: u32,
    stride_ms: u64,
    seconds: u64,
}

fn timing() -> impl Strategy<Value = Timing> {
    (
        any::<u64>(),
        20u64..200,
        0u64..=30,
        0u32..300,
        0u32..40,
        prop_oneof![150u64..2_000, 2_000u64..2_600],
        6u64..14,
    )
        .prop_map(
            |(seed, frame_ms, jitter, drop, hole, stride_ms, seconds)| Timing {
                seed,
                frame_ms,
                jitter_ms: jitter.min(frame_ms / 2),
                drop,
                hole,
                stride_ms,
                seconds,
            },
        )
}

/// A frame of seeded random pixels at the model's size.
fn frame(rng: &mut ChaCha8Rng, t: u64, c: &ModelContract) -> Frame {
    let rgb = (0..c.width * c.height * 3).map(|_| rng.random()).collect();
    Frame::new(Timestamp(t), c.width as u32, c.height as u32, rgb).unwrap()
}

/// The stream's samples in time order: frames as `timing` says, IMU at the
/// model's rate with its own drops.
fn samples(tm: &Timing, c: &ModelContract) -> Vec<Sample> {
    let mut rng = ChaCha8Rng::seed_from_u64(tm.seed);
    let end = tm.seconds * 1_000 * MS;
    let mut out = Vec::new();
    let mut t = rng.random_range(0..500) * MS;
    while t < end {
        if rng.random_range(0..1000) >= tm.drop {
            out.push(Sample::Frame(frame(&mut rng, t, c)));
        }
        if rng.random_range(0..1000) < tm.hole {
            t += rng.random_range(0..1_500) * MS;
        }
        let jitter = rng.random_range(0..=2 * tm.jitter_ms);
        t += (tm.frame_ms + jitter - tm.jitter_ms) * MS;
    }
    let imu_period = (1e9 / f64::from(c.imu_rate_hz)) as u64;
    for i in 0..end / imu_period {
        if rng.random_range(0..100) < 3 {
            continue;
        }
        let v = (i as f32 * 0.37).sin();
        out.push(Sample::Imu(ImuSample {
            t: Timestamp(i * imu_period),
            acc: [v, 0.5 * v, 1.0],
            gyro: [40.0 * v, -20.0 * v, 5.0],
        }));
    }
    out.sort_by_key(Sample::t);
    out
}

/// The stream's non-empty windows, as the aligner cuts them.
fn windows(spec: &WindowSpec, samples: Vec<Sample>) -> Vec<Window> {
    let mut aligner = Aligner::new(spec.clone(), Timestamp::ZERO, &Modality::ALL[..2]).unwrap();
    let mut out = Vec::new();
    for s in samples {
        aligner.push(s).unwrap();
        out.extend(aligner.pop_ready());
    }
    out.extend(aligner.finish());
    out.retain(|w| !w.is_empty());
    out
}

/// Frame times of a window's video, if present.
fn frame_times(w: &Window) -> Vec<Timestamp> {
    w.video
        .iter()
        .flat_map(|v| v.frames.iter().map(|f| f.t))
        .collect()
}

/// A frame encoded twice must not have been in the previous video window.
fn check_each_frame_once(windows: &[Window], encoded: &[Timestamp]) -> Result<(), String> {
    let mut seen = HashSet::new();
    let mut previous: Vec<Timestamp> = Vec::new();
    let mut next = encoded.iter();
    for w in windows.iter().filter(|w| w.video.is_some()) {
        let times = frame_times(w);
        let mut fresh: Vec<Timestamp> = times
            .iter()
            .filter(|t| !previous.contains(t))
            .copied()
            .collect();
        fresh.dedup();
        for t in &fresh {
            match next.next() {
                Some(e) if e == t => {}
                other => return Err(format!("expected {t:?} encoded, got {other:?}")),
            }
            seen.insert(*t);
        }
        previous = times;
    }
    match next.next() {
        None => Ok(()),
        Some(t) => Err(format!("{t:?} encoded though the previous window held it")),
    }
}

fn run_case(tm: &Timing, bursts: &[usize]) -> Result<(), TestCaseError> {
    let (_dir, path) = tiny_with_frame_stage("frames", "v3");
    let mut whole = open(&path);
    let c = whole.contract().clone();
    let spec = spec(&c, tm.stride_ms);
    let windows = windows(&spec, samples(tm, &c));
    let expected = whole.encode(&windows).unwrap();
    let mut counting = Counting {
        inner: open(&path),
        encoded: Vec::new(),
    };
    let mut cache = FrameCache::for_spec(&spec);
    prop_assert!(cache.capacity() <= c.frames);
    let mut got = Vec::new();
    let mut rest = windows.as_slice();
    for &n in bursts.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (burst, later) = rest.split_at(n.min(rest.len()));
        got.extend(cache.encode(&mut counting, burst).unwrap());
        prop_assert!(
            cache.len() <= cache.capacity(),
            "{} > {}",
            cache.len(),
            cache.capacity()
        );
        rest = later;
    }
    let d = max_diff_encoded(&expected, &got);
    prop_assert!(d <= 1e-4, "cached frames differ from whole windows by {d}");
    let counts = cache.counts();
    // A frame a window uses twice (a slow camera) is looked up once.
    let distinct = |w: &Window| {
        let mut times = frame_times(w);
        times.dedup();
        times.len()
    };
    let slots: usize = windows.iter().map(distinct).sum();
    if cache.capacity() > 0 {
        prop_assert_eq!(counts.windows_fused as usize, windows.len());
        prop_assert_eq!(
            (counts.frames_encoded + counts.frames_reused) as usize,
            slots
        );
        check_each_frame_once(&windows, &counting.encoded).map_err(TestCaseError::fail)?;
    } else {
        prop_assert_eq!(counts.windows_whole as usize, windows.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn cached_frames_equal_whole_windows(
        tm in timing(),
        bursts in prop::collection::vec(1usize..6, 1..4),
    ) {
        run_case(&tm, &bursts)?;
    }
}

/// The cases drawn above must exercise sharing: at a 10 fps camera and a
/// window every 0.5 s, most frames of a window come from the ring.
#[test]
fn overlapping_windows_reuse_most_frames() {
    let (_dir, path) = tiny_with_frame_stage("frames", "v3");
    let mut enc = open(&path);
    let c = enc.contract().clone();
    let tm = Timing {
        seed: 3,
        frame_ms: 100,
        jitter_ms: 10,
        drop: 0,
        hole: 0,
        stride_ms: 500,
        seconds: 12,
    };
    let spec = spec(&c, tm.stride_ms);
    let windows = windows(&spec, samples(&tm, &c));
    let mut cache = FrameCache::for_spec(&spec);
    cache.encode(enc.as_mut(), &windows).unwrap();
    let counts = cache.counts();
    // 2 s windows of 4 frames every 0.5 s: one new grid point per window.
    assert_eq!(cache.capacity(), 4);
    assert!(windows.len() >= 20, "{} windows", windows.len());
    let per_window = counts.frames_encoded as f64 / windows.len() as f64;
    assert!(per_window < 1.3, "{per_window} frames encoded per window");
}

/// The default encoder on a short stream: what `mmcl run` does with it.
#[test]
fn the_default_encoder_through_the_cache_equals_its_whole_windows() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoder.onnx");
    let mut enc = open(&model);
    let c = enc.contract().clone();
    let tm = Timing {
        seed: 11,
        frame_ms: 40,
        jitter_ms: 5,
        drop: 50,
        hole: 0,
        stride_ms: 1_000,
        seconds: 9,
    };
    let spec = spec(&c, tm.stride_ms);
    let mut windows = windows(&spec, samples(&tm, &c));
    windows.truncate(5);
    let whole = enc.encode(&windows).unwrap();
    let mut cache = FrameCache::for_spec(&spec);
    let cached = cache.encode(enc.as_mut(), &windows).unwrap();
    let d = max_diff_encoded(&whole, &cached);
    assert!(d <= 1e-4, "the frame cache changed the embeddings by {d}");
    assert_eq!(cache.capacity(), 8);
    assert!(cache.counts().frames_reused > 0, "{:?}", cache.counts());
}
