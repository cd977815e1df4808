//! Scenario tests of the streaming aligner: steady streams against
//! hand-computed windows, duplicates, reordering, late samples, clock jumps,
//! stalls, refused samples, audio, and the memory bound on a long stream.

use mmcl::align::{AlignError, AlignStats, Aligner, WindowSpec};
use mmcl::sample::{AudioChunk, Frame, ImuSample, Modality, Sample};
use mmcl::time::Timestamp;
use mmcl::window::Window;

const MS: u64 = 1_000_000;
const AV: [Modality; 2] = [Modality::Video, Modality::Imu];

/// IMU sample whose acc x is its time in seconds (so interpolation is exact).
fn imu(t_ms: u64) -> Sample {
    imu_v(t_ms, t_ms as f32 / 1000.0)
}

fn imu_v(t_ms: u64, v: f32) -> Sample {
    Sample::Imu(ImuSample {
        t: Timestamp(t_ms * MS),
        acc: [v, 1.0, 0.0],
        gyro: [0.0, 0.0, -v],
    })
}

/// A 2x1 frame tagged with its time in tenths of a second.
fn frame(t_ms: u64) -> Sample {
    frame_tag(t_ms, (t_ms / 100) as u8)
}

fn frame_tag(t_ms: u64, tag: u8) -> Sample {
    Sample::Frame(Frame {
        t: Timestamp(t_ms * MS),
        width: 2,
        height: 1,
        rgb: vec![tag; 6],
    })
}

/// IMU at 25 Hz and video at 10 fps over `[from, to)` ms, in time order.
fn stream(from_ms: u64, to_ms: u64) -> Vec<Sample> {
    let mut out: Vec<Sample> = (from_ms..to_ms).step_by(40).map(imu).collect();
    out.extend((from_ms..to_ms).step_by(100).map(frame));
    out.sort_by_key(Sample::t);
    out
}

/// Pushes every sample (popping after each), returns (live windows, finish
/// windows, stats before finish).
fn run_from(
    start_ms: u64,
    mods: &[Modality],
    samples: Vec<Sample>,
) -> (Vec<Window>, Vec<Window>, AlignStats) {
    let mut a =
        Aligner::new(WindowSpec::default(), Timestamp(start_ms * MS), mods).expect("aligner");
    let mut live = Vec::new();
    for s in samples {
        a.push(s).expect("valid sample");
        live.extend(a.pop_ready());
    }
    let stats = a.stats();
    (live, a.finish(), stats)
}

fn run(samples: Vec<Sample>) -> (Vec<Window>, Vec<Window>, AlignStats) {
    run_from(0, &AV, samples)
}

fn all(r: &(Vec<Window>, Vec<Window>, AlignStats)) -> Vec<Window> {
    r.0.iter().chain(&r.1).cloned().collect()
}

/// Window starts in whole seconds (every test here starts windows on a second).
fn starts_s(ws: &[Window]) -> Vec<u64> {
    ws.iter().map(|w| w.start.0 / 1_000_000_000).collect()
}

fn tags(w: &Window) -> Vec<u8> {
    w.video
        .as_ref()
        .map(|v| v.frames.iter().map(|f| f.rgb[0]).collect())
        .unwrap_or_default()
}

#[test]
fn steady_stream_matches_hand_computed_windows() {
    let (live, tail, stats) = run(stream(0, 20_000));
    // Live: window k needs the IMU watermark (19.96 s - 0.1) past end + 0.5 s,
    // so k = 0..=14. Finish: starts 15..=19 (<= 19.96 s); 16 and 17 are empty
    // (IMU ends before their last grid point, no frame within 0.5 s of the
    // 20.8 s centre), 18 and 19 are empty beyond max_empty_run = 2.
    assert_eq!(starts_s(&live), (0..15).collect::<Vec<u64>>());
    assert_eq!(starts_s(&tail), vec![15, 16, 17]);
    assert_eq!(
        tail.iter().map(Window::present).collect::<Vec<_>>(),
        vec![vec![Modality::Video], vec![], vec![]]
    );
    assert!(live.iter().all(|w| w.present() == AV));
    // Grid points of window 3: 3 s + (2i + 1) * 20 ms, halfway between IMU
    // samples, so acc x (= t in s) interpolates to the point's own time.
    let imu = live[3].imu.as_ref().expect("imu");
    assert_eq!((imu.len, imu.rate_hz), (128, 25.0));
    for (i, v) in imu.channel(0).iter().enumerate() {
        assert!(
            (v - (3.0 + (2 * i + 1) as f32 * 0.02)).abs() < 1e-5,
            "point {i}: {v}"
        );
    }
    assert!(imu.channel(1).iter().all(|&v| v == 1.0));
    // Window 0's grid points (its segment centres) 320, 960, 1600, 2240, 2880,
    // 3520, 4160, 4800 ms; nearest frames
    // 300, 1000, 1600, 2200, 2900, 3500, 4200, 4800 (ties none).
    assert_eq!(tags(&live[0]), vec![3, 10, 16, 22, 29, 35, 42, 48]);
    // Window 2 ([2 s, 7.12 s)) holds the global frame grid's points 2240, 2880,
    // 3520, 4160, 4800, 5440, 6080, 6720 ms (every 640 ms from 320), not its own
    // segment centres 2320, 2960, ... (which gave 23, 30, 36, 42, 49, 55, 62, 68
    // before the grid); nearest frames 2200, 2900, 3500, 4200, 4800, 5400, 6100,
    // 6700. Frames 42 and 48 are window 0's: overlapping windows share frames.
    assert_eq!(tags(&live[2]), vec![22, 29, 35, 42, 48, 54, 61, 67]);
    assert_eq!((stats.windows_emitted, stats.imu.windows_absent), (15, 0));
    assert_eq!((stats.imu.accepted, stats.video.accepted), (500, 200));
}

#[test]
fn duplicates_keep_the_first_sample() {
    let clean = all(&run(stream(0, 8_000)));
    let mut s = stream(0, 8_000);
    let at = s
        .iter()
        .position(|x| x.t() == Timestamp(2_000 * MS) && x.modality() == Modality::Imu)
        .expect("imu at 2 s");
    s.insert(at + 1, imu_v(2_000, 99.0));
    let at = s
        .iter()
        .position(|x| x.t() == Timestamp(3_000 * MS) && x.modality() == Modality::Video)
        .expect("frame");
    s.insert(at + 1, frame_tag(3_000, 200));
    let r = run(s);
    assert_eq!(all(&r), clean);
    assert_eq!(
        (r.2.imu.duplicates_dropped, r.2.video.duplicates_dropped),
        (1, 1)
    );
}

#[test]
fn reordering_within_lateness_changes_nothing() {
    let clean = all(&run(stream(0, 10_000)));
    let mut s = stream(0, 10_000);
    // Swap every IMU pair (40 ms apart) whose two samples are adjacent.
    let mut swaps = 0;
    let mut i = 0;
    while i + 1 < s.len() {
        if s[i].modality() == Modality::Imu && s[i + 1].modality() == Modality::Imu && i % 3 == 0 {
            s.swap(i, i + 1);
            swaps += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    let r = run(s);
    assert!(swaps > 20);
    assert_eq!(all(&r), clean);
    assert_eq!(r.2.imu.out_of_order_accepted, swaps);
    assert_eq!(r.2.imu.late_dropped, 0);
}

#[test]
fn late_samples_are_dropped_and_emitted_windows_stand() {
    let clean = all(&run(stream(0, 12_000)));
    let mut s = stream(0, 12_000);
    // At 7 s window 0 ([0, 5.12)) is out; samples inside it now are late.
    let at = s
        .iter()
        .position(|x| x.t() >= Timestamp(7_000 * MS))
        .expect("7 s");
    s.insert(at, imu_v(1_010, 50.0));
    s.insert(at, frame_tag(1_050, 250));
    // Also late: 300 ms behind the newest, though no window holding it is out yet.
    s.insert(at, imu_v(6_690, 50.0));
    let r = run(s);
    assert_eq!(all(&r), clean);
    assert_eq!((r.2.imu.late_dropped, r.2.video.late_dropped), (2, 1));
    assert_eq!(r.2.imu.clock_jumps_backward, 1); // 1.01 s is > one window behind
}

#[test]
fn forward_jump_bounds_empty_windows() {
    let mut s = stream(0, 10_000);
    s.extend(stream(100_000, 110_000));
    let r = run(s);
    let ws = all(&r);
    assert!(ws.windows(2).all(|p| p[0].start < p[1].start));
    let longest_empty_run = ws.split(|w| !w.is_empty()).map(<[Window]>::len).max();
    assert_eq!(longest_empty_run, Some(2));
    // Before the jump: starts 0..=4 full, 5..=9 partial or empty. After: starts
    // 95..=104 reach the new data, of which 100..=104 have both modalities.
    let full: Vec<u64> = starts_s(&ws)
        .into_iter()
        .zip(&ws)
        .filter(|(_, w)| w.present() == AV)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(full, vec![0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
    assert!(ws.len() < 30, "{} windows", ws.len());
    assert_eq!(
        (r.2.imu.clock_jumps_forward, r.2.video.clock_jumps_forward),
        (1, 1)
    );
    assert!(r.2.empty_windows_suppressed >= 80);
}

#[test]
fn stalled_sensor_does_not_hold_windows_back() {
    let mut s: Vec<Sample> = (0..10_000).step_by(40).map(imu).collect();
    s.extend((0..40_000).step_by(100).map(frame));
    s.sort_by_key(Sample::t);
    let (live, _, stats) = run(s);
    // IMU silent after 9.96 s: its effective watermark follows video's minus
    // the 2 s stall bound, so window k is out once 39.8 s > end + 2.5 s: k <= 32.
    assert_eq!(live.len(), 33);
    for w in &live {
        let imu_expected = w.start <= Timestamp(4_000 * MS); // [4, 9.12) is the last covered
        assert_eq!(
            (w.imu.is_some(), w.video.is_some()),
            (imu_expected, true),
            "window at {:?}",
            w.start
        );
    }
    assert_eq!(stats.imu.windows_absent, 28);
}

#[test]
fn clock_reset_is_dropped_until_it_catches_up() {
    // Both streams run 0..20 s; then the IMU clock resets to 0 while video goes on to 40 s.
    let mut s = stream(0, 20_000);
    let mut after: Vec<(u64, Sample)> = (20_000..40_000)
        .step_by(100)
        .map(|t| (t, frame(t)))
        .collect();
    after.extend((20_000..40_000).step_by(40).map(|t| (t, imu(t - 20_000))));
    after.sort_by_key(|p| p.0);
    s.extend(after.into_iter().map(|p| p.1));
    let r = run(s);
    let ws = all(&r);
    assert!(ws.windows(2).all(|p| p[0].start < p[1].start));
    assert_eq!(
        (r.2.imu.clock_jumps_backward, r.2.imu.late_dropped),
        (1, 500)
    );
    let after_reset = ws
        .iter()
        .filter(|w| w.start >= Timestamp(15_000 * MS) && w.end <= Timestamp(40_000 * MS));
    assert!(after_reset.clone().count() >= 20);
    assert!(after_reset
        .into_iter()
        .all(|w| w.imu.is_none() && w.video.is_some()));
    // A 1 s step back (under one window) is only lateness: those samples drop
    // until the stream passes its old watermark, then windows fill again.
    let mut s: Vec<Sample> = (0..10_000).step_by(40).map(imu).collect();
    s.extend((9_000..30_000).step_by(40).map(imu));
    let r = run_from(0, &[Modality::Imu], s);
    assert_eq!(
        (r.2.imu.clock_jumps_backward, r.2.imu.late_dropped),
        (0, 22)
    ); // 9000..=9840 ms
    assert!(all(&r)
        .iter()
        .filter(|w| w.end <= Timestamp(29_000 * MS))
        .all(|w| w.imu.is_some()));
}

#[test]
fn refused_samples_change_nothing() {
    let clean = all(&run(stream(0, 8_000)));
    let mut a = Aligner::new(WindowSpec::default(), Timestamp(0), &AV).expect("aligner");
    let mut ws = Vec::new();
    for (i, s) in stream(0, 8_000).into_iter().enumerate() {
        if i == 30 {
            let bad = Sample::Frame(Frame {
                t: Timestamp(1_234 * MS),
                width: 2,
                height: 1,
                rgb: vec![0; 5],
            });
            assert!(matches!(
                a.push(bad),
                Err(AlignError::FrameBuffer {
                    expected: 6,
                    got: 5,
                    ..
                })
            ));
            let big = Sample::Frame(Frame {
                t: Timestamp(1_235 * MS),
                width: 1,
                height: 2,
                rgb: vec![0; 6],
            });
            assert!(matches!(
                a.push(big),
                Err(AlignError::FrameSize {
                    expected: (2, 1),
                    got: (1, 2),
                    ..
                })
            ));
            let nan = imu_v(1_236, f32::NAN);
            assert!(matches!(
                a.push(nan),
                Err(AlignError::NonFinite {
                    modality: Modality::Imu,
                    index: 0,
                    ..
                })
            ));
            let audio = Sample::Audio(AudioChunk {
                t: Timestamp(0),
                rate_hz: 16_000,
                pcm: vec![0.0],
            });
            assert!(matches!(
                a.push(audio),
                Err(AlignError::UnexpectedModality {
                    got: Modality::Audio,
                    ..
                })
            ));
        }
        a.push(s).expect("valid");
        ws.extend(a.pop_ready());
    }
    let stats = a.stats();
    ws.extend(a.finish());
    assert_eq!(ws, clean);
    assert_eq!((stats.video.rejected, stats.imu.rejected), (2, 1));
}

#[test]
fn samples_before_the_first_window_are_stale() {
    let (live, _, stats) = run_from(10_000, &AV, stream(0, 20_000));
    assert_eq!(live.first().map(|w| w.start), Some(Timestamp(10_000 * MS)));
    // IMU reach starts 0.5 s before the window: t < 9.5 s is stale (0..=9480 ms).
    assert_eq!(
        (stats.imu.stale_dropped, stats.video.stale_dropped),
        (238, 100)
    );
}

#[test]
fn audio_is_resampled_like_the_imu() {
    // 100 ms chunks at 16 kHz whose value is the sample's time in seconds.
    let chunk = |k: u64, jitter_ns: u64| {
        let pcm = (0..1600)
            .map(|j| (k * 1600 + j) as f32 / 16_000.0)
            .collect();
        Sample::Audio(AudioChunk {
            t: Timestamp(k * 100 * MS + jitter_ns),
            rate_hz: 16_000,
            pcm,
        })
    };
    let mods = [Modality::Audio];
    let (live, _, _) = run_from(0, &mods, (0..100).map(|k| chunk(k, 0)).collect());
    let audio = live[1].audio.as_ref().expect("audio present");
    assert_eq!((audio.rate_hz, audio.pcm.len()), (16_000, 81_920));
    // Point n sits at 1 s + (n + 0.5) / 16000, halfway between two samples.
    for n in [0usize, 1, 40_000, 81_919] {
        let expected = 1.0 + (n as f32 + 0.5) / 16_000.0;
        assert!(
            (audio.pcm[n] - expected).abs() < 1e-5,
            "n={n}: {}",
            audio.pcm[n]
        );
    }
    // Chunk starts jittered by up to 20 us leave tiny gaps: bridged, still present.
    let (live, _, _) = run_from(
        0,
        &mods,
        (0..100).map(|k| chunk(k, (k * 7919) % 20_000)).collect(),
    );
    assert!(live.iter().all(|w| w.audio.is_some()));
    let bad = Sample::Audio(AudioChunk {
        t: Timestamp(0),
        rate_hz: 44_100,
        pcm: vec![0.0],
    });
    let mut a = Aligner::new(WindowSpec::default(), Timestamp(0), &mods).expect("aligner");
    assert_eq!(
        a.push(bad),
        Err(AlignError::AudioRate {
            t_ns: 0,
            expected: 16_000,
            got: 44_100
        })
    );
}

#[test]
fn buffers_stay_bounded_on_a_long_stream() {
    // One hour at 25 Hz IMU / 10 fps, with the IMU silent for a minute midway.
    let spec = WindowSpec::default();
    let mut a = Aligner::new(spec.clone(), Timestamp(0), &AV).expect("aligner");
    // Buffered span <= seconds + 2 * horizon + stall + lateness (docs/align.md).
    let span_ms =
        (spec.len_ns() + 2 * spec.max_gap_ns() + spec.stall_ns() + spec.lateness_ns()) / MS;
    let (imu_cap, video_cap) = (span_ms / 40 + 2, span_ms / 100 + 2);
    let (mut max_imu, mut max_video, mut windows) = (0, 0, 0);
    for s in stream(0, 3_600_000).into_iter().filter(|s| {
        !(s.modality() == Modality::Imu && (1_800_000..1_860_000).contains(&(s.t().0 / MS)))
    }) {
        a.push(s).expect("valid");
        windows += a.pop_ready().len();
        max_imu = max_imu.max(a.buffered(Modality::Imu));
        max_video = max_video.max(a.buffered(Modality::Video));
    }
    assert!(
        max_imu <= imu_cap as usize,
        "imu buffer {max_imu} > {imu_cap}"
    );
    assert!(
        max_video <= video_cap as usize,
        "video buffer {max_video} > {video_cap}"
    );
    assert!(windows > 3_590, "{windows} windows");
}
