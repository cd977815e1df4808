//! Property tests of the streaming aligner against a naive batch oracle.
//!
//! Each case draws an IMU stream and a video stream (jitter, holes longer and
//! shorter than max_gap, swapped neighbours, duplicates, very late samples),
//! then checks:
//! (a) the windows are identical however the two streams are interleaved
//!     (bounded skew) and wherever `pop_ready` is called, and equal to the
//!     windows a naive batch computation gets from the whole streams;
//! (b) no window holds a frame outside its span, and every IMU value lies
//!     between the two real samples bracketing its grid point, at most
//!     max_gap apart;
//! (c) a modality with a hole wider than max_gap over a grid point (IMU) or a
//!     frame grid point with no frame within max_gap (video) is absent;
//! (d) buffers stay within the bound docs/align.md derives;
//! (e) a clip's fixed windows planned offline (`clip_window_plans`) hold the
//!     same frames and IMU as the stream's windows at the same starts, when
//!     the stream's first window starts at the clip's first sample.

use mmcl::align::{clip_window_plans, Aligner, WindowParams, WindowSpec};
use mmcl::sample::{Frame, ImuSample, Modality, Sample};
use mmcl::time::Timestamp;
use mmcl::window::Window;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MS: u64 = 1_000_000;
const START: u64 = 1_000 * MS;
const AV: [Modality; 2] = [Modality::Video, Modality::Imu];

/// Per-modality streams in their own arrival order.
#[derive(Debug, Clone)]
struct Streams {
    imu: Vec<ImuSample>,
    video: Vec<Frame>,
}

/// Times with a base period, jitter, and occasional holes of up to 2 s.
fn times(rng: &mut ChaCha8Rng, secs: u64, period_ms: u64, jitter_ms: u64) -> Vec<u64> {
    let mut t = rng.random_range(0..3_000) * MS;
    let mut out = Vec::new();
    while t < secs * 1_000 * MS {
        out.push(t);
        t += (period_ms + rng.random_range(0..=2 * jitter_ms) - jitter_ms) * MS;
        if rng.random_bool(0.04) {
            t += rng.random_range(0..1_500) * MS;
        }
    }
    out
}

/// Delivers each sample up to `reorder_ms` late (past the spec's lateness for
/// some), repeats timestamps and re-sends old ones, as sensors do.
fn disorder<S: Clone>(
    rng: &mut ChaCha8Rng,
    s: Vec<S>,
    reorder_ms: u64,
    remake: impl Fn(u64, u32) -> S,
    t: impl Fn(&S) -> u64,
) -> Vec<S> {
    let mut delayed: Vec<(u64, S)> = s
        .into_iter()
        .map(|x| (t(&x) + rng.random_range(0..=reorder_ms) * MS, x))
        .collect();
    delayed.sort_by_key(|p| p.0);
    let mut out = Vec::with_capacity(delayed.len() + delayed.len() / 10);
    for (_, x) in delayed {
        let tx = t(&x);
        out.push(x);
        if rng.random_bool(0.03) {
            out.push(remake(tx, rng.random()));
        }
        if rng.random_bool(0.01) {
            out.push(remake(
                tx.saturating_sub(rng.random_range(200..3_000) * MS),
                rng.random(),
            ));
        }
    }
    out
}

fn draw_streams(seed: u64, secs: u64, reorder_ms: u64) -> Streams {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let imu_sample = |t: u64, v: u32| {
        let x = (v % 2001) as f32 / 100.0 - 10.0;
        ImuSample {
            t: Timestamp(t),
            acc: [x, -x, 0.5 * x],
            gyro: [(v % 7) as f32, x * x, 1.0],
        }
    };
    let frame = |t: u64, id: u32| Frame {
        t: Timestamp(t),
        width: 2,
        height: 1,
        rgb: [id.to_le_bytes().as_slice(), &[0, 0]].concat(),
    };
    let imu: Vec<ImuSample> = times(&mut rng, secs, 40, 5)
        .into_iter()
        .map(|t| imu_sample(t, rng.random()))
        .collect();
    let video: Vec<Frame> = times(&mut rng, secs, 100, 10)
        .into_iter()
        .map(|t| frame(t, rng.random()))
        .collect();
    let imu = disorder(&mut rng, imu, reorder_ms, imu_sample, |s| s.t.0);
    let video = disorder(&mut rng, video, reorder_ms, frame, |f| f.t.0);
    Streams { imu, video }
}

/// Interleaves the streams with arrival delays up to `skew_ms`: each sample
/// arrives at max(its time + delay, the previous arrival of its stream), so
/// each stream keeps its own order and no stream runs more than the skew
/// ahead of another.
fn interleave(streams: &Streams, rng: &mut ChaCha8Rng, skew_ms: u64) -> Vec<Sample> {
    let mut order: Vec<(u64, bool, usize)> = Vec::new();
    let mut arrive = |ts: &mut dyn Iterator<Item = u64>, is_imu: bool, rng: &mut ChaCha8Rng| {
        let mut key = 0;
        for (i, t) in ts.enumerate() {
            key = u64::max(key, t + rng.random_range(0..=skew_ms) * MS);
            order.push((key, is_imu, i));
        }
    };
    arrive(&mut streams.imu.iter().map(|s| s.t.0), true, rng);
    arrive(&mut streams.video.iter().map(|f| f.t.0), false, rng);
    order.sort(); // by arrival; a stream's indices stay in order
    let sample = |(_, is_imu, i): (u64, bool, usize)| {
        if is_imu {
            Sample::Imu(streams.imu[i])
        } else {
            Sample::Frame(streams.video[i].clone())
        }
    };
    order.into_iter().map(sample).collect()
}

/// Pushes the interleaved streams, popping with probability `pop` after each push.
fn run(spec: &WindowSpec, streams: &Streams, seed: u64, skew_ms: u64, pop: f64) -> Vec<Window> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut a = Aligner::new(spec.clone(), Timestamp(START), &AV).expect("aligner");
    let mut out = Vec::new();
    for s in interleave(streams, &mut rng, skew_ms) {
        a.push(s).expect("valid sample");
        if rng.random_bool(pop) {
            out.extend(a.pop_ready());
        }
    }
    out.extend(a.finish());
    out
}

/// The samples a stream keeps by its own history: drop t < newest - lateness,
/// drop a repeated timestamp; sorted by time.
fn kept<S: Clone>(s: &[S], t: impl Fn(&S) -> u64, lateness: u64) -> Vec<S> {
    let mut newest: Option<u64> = None;
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<S> = Vec::new();
    for x in s {
        let tx = t(x);
        if newest.is_some_and(|n| tx < n.saturating_sub(lateness)) || !seen.insert(tx) {
            continue;
        }
        newest = Some(newest.map_or(tx, |n| n.max(tx)));
        out.push(x.clone());
    }
    out.sort_by_key(|x| t(x));
    out
}

fn grid_point(start: u64, span: u64, len: usize, i: usize) -> u64 {
    start + ((2 * i as u128 + 1) * span as u128 / (2 * len as u128)) as u64
}

/// Naive IMU block: scans the whole stream for each grid point.
fn naive_imu(spec: &WindowSpec, start: u64, imu: &[ImuSample]) -> Option<Vec<f32>> {
    let (len, span) = (spec.imu_len(), spec.len_ns());
    let mut out = vec![0.0; 6 * len];
    let mut covered = 0;
    for i in 0..len {
        let g = grid_point(start, span, len, i);
        let a = imu.iter().rfind(|s| s.t.0 <= g)?;
        let b = if a.t.0 == g {
            a
        } else {
            imu.iter().find(|s| s.t.0 > g)?
        };
        if b.t.0 - a.t.0 > spec.max_gap_ns() {
            return None;
        }
        let f = if a.t == b.t {
            0.0
        } else {
            (g - a.t.0) as f64 / (b.t.0 - a.t.0) as f64
        };
        for c in 0..6 {
            let (va, vb) = (f64::from(a.channels()[c]), f64::from(b.channels()[c]));
            out[c * len + i] = (va + (vb - va) * f) as f32;
        }
        covered += usize::from((g - a.t.0).min(b.t.0 - g) <= span / len as u64);
    }
    (covered as f64 >= spec.min_coverage() * len as f64).then_some(out)
}

/// The frame grid's points inside the window at `start`, found by walking the
/// global grid from the first window's start (T per window length).
fn frame_points(spec: &WindowSpec, start: u64) -> Vec<u64> {
    let end = start + spec.len_ns();
    (0..)
        .map(|j| grid_point(START, spec.len_ns(), spec.frames(), j))
        .skip_while(|&g| g < start)
        .take_while(|&g| g < end)
        .collect()
}

/// Naive frame choice: the nearest frame inside the span to each grid point.
fn naive_frames(spec: &WindowSpec, start: u64, frames: &[Frame]) -> Option<Vec<Frame>> {
    let end = start + spec.len_ns();
    let inside: Vec<&Frame> = frames
        .iter()
        .filter(|f| (start..end).contains(&f.t.0))
        .collect();
    let pick = |&c: &u64| {
        let best = inside.iter().min_by_key(|f| (f.t.0.abs_diff(c), f.t.0))?;
        (best.t.0.abs_diff(c) <= spec.max_gap_ns()).then(|| (*best).clone())
    };
    let points = frame_points(spec, start);
    assert_eq!(points.len(), spec.frames(), "window at {start}");
    points.iter().map(pick).collect()
}

/// A window as the oracle computes it: start, IMU data, frames.
type Expected = (u64, Option<Vec<f32>>, Option<Vec<Frame>>);

/// The whole output, computed window by window from the kept streams.
fn oracle(spec: &WindowSpec, imu: &[ImuSample], video: &[Frame]) -> Vec<Expected> {
    let newest = imu
        .iter()
        .map(|s| s.t.0)
        .chain(video.iter().map(|f| f.t.0))
        .max();
    let mut out = Vec::new();
    let mut empty_run = 0;
    let mut start = START;
    while newest.is_some_and(|n| start <= n) {
        let (i, v) = (
            naive_imu(spec, start, imu),
            naive_frames(spec, start, video),
        );
        let empty = i.is_none() && v.is_none();
        if !empty || empty_run < spec.max_empty_run() {
            empty_run = if empty { empty_run + 1 } else { 0 };
            out.push((start, i, v));
        }
        start += spec.stride_ns();
    }
    out
}

fn matches_oracle(ws: &[Window], want: &[Expected]) -> Result<(), String> {
    if ws.len() != want.len() {
        let got: Vec<u64> = ws.iter().map(|w| w.start.0 / MS).collect();
        let want: Vec<u64> = want.iter().map(|w| w.0 / MS).collect();
        return Err(format!("window starts (ms) {got:?} != {want:?}"));
    }
    for (w, (start, imu, frames)) in ws.iter().zip(want) {
        let frames_got = w.video.as_ref().map(|v| v.frames.clone());
        let imu_close = match (&w.imu, imu) {
            (Some(b), Some(v)) => b
                .data
                .iter()
                .zip(v)
                .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs())),
            (None, None) => true,
            _ => false,
        };
        if w.start.0 != *start || frames_got != *frames || !imu_close {
            return Err(format!(
                "window at {} ms differs (imu {:?} vs {:?})",
                start / MS,
                w.imu.is_some(),
                imu.is_some()
            ));
        }
    }
    Ok(())
}

/// Exact equality of two runs, reported as the first window that differs.
fn first_difference(a: &[Window], b: &[Window]) -> Result<(), String> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => Err(format!(
            "window {i} differs: starts {} vs {} ms, present {:?} vs {:?}",
            a[i].start.0 / MS,
            b[i].start.0 / MS,
            a[i].present(),
            b[i].present()
        )),
        None if a.len() != b.len() => Err(format!("{} windows vs {}", a.len(), b.len())),
        None => Ok(()),
    }
}

/// (b) and (c) checked directly against the kept streams.
fn span_and_presence(
    spec: &WindowSpec,
    w: &Window,
    imu: &[ImuSample],
    video: &[Frame],
) -> Result<(), String> {
    let (start, end) = (w.start.0, w.end.0);
    for f in w.video.iter().flat_map(|v| &v.frames) {
        if !(start..end).contains(&f.t.0) {
            return Err(format!("frame at {} outside [{start}, {end})", f.t.0));
        }
    }
    for i in 0..spec.imu_len() {
        let g = grid_point(start, spec.len_ns(), spec.imu_len(), i);
        let a = imu.iter().rfind(|s| s.t.0 <= g);
        let b = imu.iter().find(|s| s.t.0 >= g);
        let bracketed = match (a, b) {
            (Some(a), Some(b)) => b.t.0 - a.t.0 <= spec.max_gap_ns(),
            _ => false,
        };
        match (&w.imu, a, b) {
            (Some(_), _, _) if !bracketed => {
                return Err(format!("imu present but point {g} is in a hole"))
            }
            (Some(block), Some(a), Some(b)) => {
                for c in 0..6 {
                    let (x, y) = (a.channels()[c], b.channels()[c]);
                    let v = block.channel(c)[i];
                    if v < x.min(y) - 1e-4 || v > x.max(y) + 1e-4 {
                        return Err(format!("imu value {v} at {g} outside its samples {x}, {y}"));
                    }
                }
            }
            _ => {}
        }
    }
    let centre_uncovered = frame_points(spec, start).into_iter().any(|c| {
        !video
            .iter()
            .any(|f| (start..end).contains(&f.t.0) && f.t.0.abs_diff(c) <= spec.max_gap_ns())
    });
    if centre_uncovered && w.video.is_some() {
        return Err(format!(
            "video present in window at {start} with an uncovered frame grid point"
        ));
    }
    Ok(())
}

/// A short-window spec so each case holds many windows and window edges:
/// L = 32, T = 4, lateness 0.2 s, stall 1 s; stride below or above the length.
fn small_spec(stride_ms: u64) -> WindowSpec {
    let p = WindowParams {
        seconds: 1.28,
        stride_seconds: stride_ms as f64 / 1000.0,
        frames: 4,
        max_gap_seconds: 0.3,
        lateness_seconds: 0.2,
        stall_seconds: 1.0,
        max_empty_run: 1,
        ..WindowParams::default()
    };
    WindowSpec::new(p).expect("valid spec")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // Skew (600 ms) + reordering (300 ms) stay below stall + lateness (1.2 s),
    // the bound under which docs/align.md promises interleaving-independence.
    #[test]
    fn windows_independent_of_chunking_and_equal_to_batch(
        seed in any::<u64>(), secs in 4u64..16, stride_ms in 200u64..1_600,
        skews in (0u64..600, 0u64..600), pops in (0.0f64..=1.0, 0.0f64..=1.0),
        run_seeds in (any::<u64>(), any::<u64>()),
    ) {
        let spec = small_spec(stride_ms);
        let streams = draw_streams(seed, secs, 300);
        let a = run(&spec, &streams, run_seeds.0, skews.0, pops.0);
        let b = run(&spec, &streams, run_seeds.1, skews.1, pops.1);
        let in_order = run(&spec, &streams, 0, 0, 1.0);
        prop_assert_eq!(first_difference(&a, &b), Ok(()));
        prop_assert_eq!(first_difference(&a, &in_order), Ok(()));
        let imu = kept(&streams.imu, |s| s.t.0, spec.lateness_ns());
        let video = kept(&streams.video, |f| f.t.0, spec.lateness_ns());
        prop_assert_eq!(matches_oracle(&a, &oracle(&spec, &imu, &video)), Ok(()));
        for w in &a {
            prop_assert_eq!(span_and_presence(&spec, w, &imu, &video), Ok(()));
        }
    }

    #[test]
    fn buffers_stay_bounded(seed in any::<u64>(), skew in 0u64..1_500, pop in 0.2f64..=1.0) {
        let spec = WindowSpec::default();
        let streams = draw_streams(seed, 120, 100);
        let mut a = Aligner::new(spec.clone(), Timestamp(START), &AV).expect("aligner");
        // Kept samples are >= 35 ms (IMU) / 90 ms (video) apart; the buffered span
        // is at most seconds + 2 * horizon + stall + lateness.
        let span = spec.len_ns() + 2 * spec.max_gap_ns() + spec.stall_ns() + spec.lateness_ns();
        let caps = ((span / (35 * MS)) as usize + 1, (span / (90 * MS)) as usize + 1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        for s in interleave(&streams, &mut rng.clone(), skew) {
            a.push(s).expect("valid");
            if rng.random_bool(pop) {
                a.pop_ready();
                prop_assert!(a.buffered(Modality::Imu) <= caps.0, "imu {} > {}", a.buffered(Modality::Imu), caps.0);
                prop_assert!(a.buffered(Modality::Video) <= caps.1, "video {} > {}", a.buffered(Modality::Video), caps.1);
            }
        }
    }

    /// Offline equals streaming: the frame grid runs from the first window's
    /// start in both, so the embedding cache holds what the daemon would see.
    #[test]
    fn offline_fixed_windows_equal_the_streams(seed in any::<u64>(), secs in 4u64..12, stride_ms in 200u64..1_600) {
        offline_vs_stream(seed, secs, stride_ms)?;
    }
}

/// Plans a clip's fixed windows and streams the same samples from the clip's
/// first one; every non-empty plan must equal the stream's window at its
/// start. Returns how many were compared.
fn offline_vs_stream(seed: u64, secs: u64, stride_ms: u64) -> Result<usize, TestCaseError> {
    let spec = small_spec(stride_ms);
    let streams = draw_streams(seed, secs, 0);
    let imu = kept(&streams.imu, |s| s.t.0, 0);
    let video = kept(&streams.video, |f| f.t.0, 0);
    let first = imu
        .iter()
        .map(|s| s.t.0)
        .chain(video.iter().map(|f| f.t.0))
        .min()
        .unwrap();
    let mut a = Aligner::new(spec.clone(), Timestamp(first), &AV).expect("aligner");
    let mut all: Vec<Sample> = imu.iter().map(|s| Sample::Imu(*s)).collect();
    all.extend(video.iter().map(|f| Sample::Frame(f.clone())));
    all.sort_by_key(Sample::t);
    let mut windows = Vec::new();
    for sample in all {
        a.push(sample).expect("valid");
        windows.extend(a.pop_ready());
    }
    windows.extend(a.finish());
    let times: Vec<Timestamp> = video.iter().map(|f| f.t).collect();
    let plans = clip_window_plans(&spec, Some(&imu), Some(&times)).expect("plans");
    let mut compared = 0;
    for plan in plans
        .iter()
        .filter(|p| p.imu.is_some() || p.frame_indices.is_some())
    {
        let w = windows.iter().find(|w| w.start == plan.start);
        let w =
            w.ok_or_else(|| TestCaseError::fail(format!("no stream window at {:?}", plan.start)))?;
        prop_assert_eq!(&plan.imu, &w.imu, "imu at {:?}", plan.start);
        let planned: Option<Vec<Timestamp>> = plan
            .frame_indices
            .as_ref()
            .map(|ix| ix.iter().map(|&i| times[i]).collect());
        let streamed: Option<Vec<Timestamp>> = w
            .video
            .as_ref()
            .map(|v| v.frames.iter().map(|f| f.t).collect());
        prop_assert_eq!(planned, streamed, "frames at {:?}", plan.start);
        compared += 1;
    }
    Ok(compared)
}

#[test]
fn offline_vs_stream_compares_many_windows() {
    // 12 s, a window every 0.41 s (not a whole number of 0.32 s periods).
    let compared = offline_vs_stream(5, 12, 410).unwrap();
    assert!(compared >= 10, "{compared} windows compared");
}
