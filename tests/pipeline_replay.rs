//! Replay streams clips frame by frame and knows what it plays: a clip's frame
//! stream equals decoding every frame at once (frame folders and both `.mp4`
//! fixtures, B-frames included); the play log holds each clip's span, bounded,
//! and gives the true class of a window by its span; a looping playlist plays
//! on until the shutdown.

mod pipeline_support;

use mmcl::dataset::{Clip, ClipEntry, Split};
use mmcl::pipeline::{replay_windows, Pipeline, PipelineSettings};
use mmcl::sample::{Modality, Sample};
use mmcl::sensor::replay::{PlayLog, Playlist, ReplaySource};
use mmcl::sensor::{Pacing, Source};
use mmcl::shutdown::Shutdown;
use mmcl::time::Timestamp;
use pipeline_support::*;
use std::path::Path;
use std::sync::Arc;

/// A clip of `frames` 32x24 JPEGs in class folder `k_name` with `rows` sensor rows.
fn clip(root: &Path, k_name: &str, label: u32, name: &str, frames: usize, rows: usize) -> Clip {
    clip_in(root, (k_name, label), name, frames, (32, 24), rows)
}

fn stream_all(video: &mmcl::dataset::VideoSource) -> Vec<mmcl::sample::Frame> {
    let mut s = video.stream().unwrap();
    let mut out = Vec::new();
    while let Some(f) = s.next_frame().unwrap() {
        out.push(f);
    }
    out
}

#[test]
fn a_frame_folder_streams_the_frames_decode_many_gives() {
    let root = tempfile::tempdir().unwrap();
    let clip = clip(root.path(), "2_downstairs", 1, "c", 30, 50);
    let video = clip.video().unwrap().unwrap();
    let all: Vec<usize> = (0..video.len()).collect();
    assert_eq!(stream_all(&video), video.decode_many(&all).unwrap());
}

#[cfg(feature = "mp4")]
#[test]
fn an_mp4_streams_the_frames_decode_many_gives_b_frames_included() {
    for fixture in ["vtest_baseline.mp4", "vtest_bframes.mp4"] {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("video/1_upstairs");
        std::fs::create_dir_all(&dir).unwrap();
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/dataset")
            .join(fixture);
        std::fs::copy(from, dir.join("c.mp4")).unwrap();
        let entry = ClipEntry {
            split: Split::Test,
            line: 1,
            class_dir: "1_upstairs".into(),
            clip: "c".into(),
            label: 0,
            num_frames: 40,
            num_sensor_rows: 80,
        };
        let clip = Clip::new(Arc::from(root.path()), entry);
        let video = clip.video().unwrap().unwrap();
        let all: Vec<usize> = (0..40).collect();
        let streamed = stream_all(&video);
        assert_eq!(streamed.len(), 40, "{fixture}");
        assert_eq!(streamed, video.decode_many(&all).unwrap(), "{fixture}");
    }
}

#[test]
fn the_play_log_gives_each_window_the_class_of_its_clip() {
    let root = tempfile::tempdir().unwrap();
    let clips = vec![
        clip(root.path(), "3_drinking", 2, "a", 100, 100),
        clip(root.path(), "5_eating", 4, "b", 150, 150),
        clip(root.path(), "3_drinking", 2, "c", 100, 100),
    ];
    let spec = mmcl::align::WindowSpec::new(mmcl::align::WindowParams {
        seconds: 2.0,
        stride_seconds: 1.0,
        frames: 4,
        ..Default::default()
    })
    .unwrap();
    let gap = spec.len_ns() + spec.stride_ns();
    let source = ReplaySource::new(Playlist::once(clips), Timestamp::ZERO, gap, Pacing::Unpaced);
    let log = source.play_log();
    let shutdown = Shutdown::new();
    let p = Pipeline::start_windows(
        vec![Box::new(source)],
        &spec,
        Timestamp::ZERO,
        &PipelineSettings::lossless(),
        &shutdown,
    )
    .unwrap();
    let windows: Vec<_> = p.output().iter().filter(|w| !w.window.is_empty()).collect();
    p.join().into_result().unwrap();
    // 4 s, then 3 s of silence, 6 s, 3 s, 4 s.
    let spans: Vec<(String, u32, u64, u64)> = log
        .entries()
        .into_iter()
        .map(|p| (p.clip, p.label, p.start.0 / MS, p.end.0 / MS))
        .collect();
    assert_eq!(
        spans,
        [
            ("3_drinking/a".to_string(), 2, 0, 4_000),
            ("5_eating/b".to_string(), 4, 7_000, 13_000),
            ("3_drinking/c".to_string(), 2, 16_000, 20_000),
        ]
    );
    let labels: Vec<u32> = windows
        .iter()
        .map(|w| {
            log.lookup(w.window.start, w.window.end)
                .expect("every window is in a clip")
                .label
        })
        .collect();
    // Full windows: a has 2 (0..2, 1..3), b has 4, c has 2; the ends of clips add
    // windows whose IMU is absent but whose frames are present.
    assert!(
        labels.iter().filter(|&&l| l == 4).count() >= 4,
        "{labels:?}"
    );
    let first_b = labels.iter().position(|&l| l == 4).unwrap();
    let last_b = labels.iter().rposition(|&l| l == 4).unwrap();
    assert!(
        labels[..first_b].iter().all(|&l| l == 2) && labels[last_b + 1..].iter().all(|&l| l == 2)
    );
    assert_eq!(
        replay_windows(vec![clip(root.path(), "3_drinking", 2, "d", 50, 50)], &spec)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_looping_playlist_plays_until_the_shutdown_with_a_bounded_log() {
    let root = tempfile::tempdir().unwrap();
    let clips = vec![
        clip(root.path(), "3_drinking", 2, "a", 10, 10),
        clip(root.path(), "5_eating", 4, "b", 10, 10),
    ];
    let log = PlayLog::new(5);
    let mut source = ReplaySource::new(
        Playlist::looping(clips),
        Timestamp::ZERO,
        1_000,
        Pacing::Unpaced,
    )
    .with_log(log.clone());
    let shutdown = Shutdown::new();
    let mut frames = 0;
    while frames < 10 * 12 {
        match source.next_sample(&shutdown).unwrap() {
            Some(Sample::Frame(_)) => frames += 1,
            Some(_) => {}
            None => panic!("a looping playlist does not end"),
        }
    }
    let played: Vec<String> = log.entries().into_iter().map(|p| p.clip).collect();
    // 12 clips played, the log keeps the last 5, alternating.
    assert_eq!(
        played,
        [
            "5_eating/b",
            "3_drinking/a",
            "5_eating/b",
            "3_drinking/a",
            "5_eating/b"
        ]
    );
    let entries = log.entries();
    assert!(entries
        .windows(2)
        .all(|p| p[1].start == p[0].end.add_nanos(1_000)));
    shutdown.trigger();
    assert_eq!(source.next_sample(&shutdown).unwrap(), None);
    assert_eq!(source.modalities(), [Modality::Video, Modality::Imu]);
}
