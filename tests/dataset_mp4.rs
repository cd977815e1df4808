//! `.mp4` clips: real H.264 decoding (feature `mp4`) checked frame by frame
//! against ffmpeg's decode of the same files, and the clear refusal without it.
//! Fixtures and how they were made: tests/data/dataset/README.md.

use mmcl::dataset::{Clip, ClipEntry, Split};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FRAMES: usize = 40;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dataset")
        .join(name)
}

/// A dataset root holding `fixture` as the `.mp4` of clip `1_upstairs/c`, optionally with a sensor file.
fn clip_with_mp4(fixture_name: &str, sensor_rows: Option<usize>) -> (tempfile::TempDir, Clip) {
    let root = tempfile::tempdir().unwrap();
    let video = root.path().join("video/1_upstairs");
    std::fs::create_dir_all(&video).unwrap();
    std::fs::copy(fixture(fixture_name), video.join("c.mp4")).unwrap();
    if let Some(rows) = sensor_rows {
        std::fs::create_dir_all(root.path().join("sensor/1_upstairs")).unwrap();
        std::fs::write(
            root.path().join("sensor/1_upstairs/c.csv"),
            "0,0,8192,0,0,0\n".repeat(rows),
        )
        .unwrap();
    }
    let entry = ClipEntry {
        split: Split::Train,
        line: 1,
        class_dir: "1_upstairs".into(),
        clip: "c".into(),
        label: 0,
        num_frames: FRAMES,
        num_sensor_rows: sensor_rows.unwrap_or(0),
    };
    let clip = Clip::new(Arc::from(root.path()), entry);
    (root, clip)
}

#[cfg(feature = "mp4")]
mod enabled {
    use super::*;
    use mmcl::dataset::layout::NOMINAL_RATE_HZ;
    use mmcl::dataset::DatasetError;
    use mmcl::sample::Frame;
    use mmcl::time::Timestamp;

    const W: u32 = 160;
    const H: u32 = 120;

    /// 4x4 block means of a frame: the layout of ffmpeg's `scale=40:30:flags=area` reference.
    fn thumbnail(frame: &Frame) -> Vec<f32> {
        let (tw, th) = (frame.width / 4, frame.height / 4);
        let mut out = Vec::new();
        for by in 0..th {
            for bx in 0..tw {
                for c in 0..3 {
                    let sum: u32 = (0..16)
                        .map(|k| {
                            let (x, y) = (bx * 4 + k % 4, by * 4 + k / 4);
                            u32::from(frame.rgb[((y * frame.width + x) * 3 + c) as usize])
                        })
                        .sum();
                    out.push(sum as f32 / 16.0);
                }
            }
        }
        out
    }

    /// The reference strip: 40 thumbnails of 40x30 stacked vertically.
    fn reference(name: &str) -> Vec<Vec<f32>> {
        let strip = image::open(fixture(name)).unwrap().into_rgb8();
        assert_eq!(strip.dimensions(), (W / 4, H / 4 * FRAMES as u32));
        let per = (W / 4 * H / 4 * 3) as usize;
        strip
            .into_raw()
            .chunks(per)
            .map(|c| c.iter().map(|&v| f32::from(v)).collect())
            .collect()
    }

    fn mean_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
    }

    fn check_against_ffmpeg(mp4: &str, thumbs: &str) {
        let (_root, clip) = clip_with_mp4(mp4, None);
        let video = clip.video().unwrap().expect("the .mp4 is found");
        assert_eq!(video.len(), FRAMES);
        let all: Vec<usize> = (0..FRAMES).collect();
        let frames = video.decode_many(&all).unwrap();
        let refs = reference(thumbs);
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!((frame.width, frame.height), (W, H));
            let ours = thumbnail(frame);
            let diffs: Vec<f32> = refs.iter().map(|r| mean_abs_diff(&ours, r)).collect();
            let best = (0..FRAMES)
                .min_by(|&a, &b| diffs[a].total_cmp(&diffs[b]))
                .unwrap();
            // `<=`: the source repeats some frames, so two references can tie.
            let closest = diffs[i] <= diffs[best];
            assert!(
                closest,
                "{mp4}: frame {i} looks most like ffmpeg's frame {best} ({diffs:?})"
            );
            assert!(
                diffs[i] < 2.0,
                "{mp4}: frame {i} differs from ffmpeg's by {} per channel",
                diffs[i]
            );
        }
    }

    #[test]
    fn baseline_frames_match_ffmpeg_in_content_and_order() {
        check_against_ffmpeg("vtest_baseline.mp4", "vtest_baseline_thumbs.png");
    }

    #[test]
    fn b_frame_stream_frames_match_ffmpeg_in_content_and_order() {
        check_against_ffmpeg("vtest_bframes.mp4", "vtest_bframes_thumbs.png");
    }

    #[test]
    fn decode_many_keeps_request_order_and_times() {
        // 80 sensor rows -> 3.2 s; 40 frames -> frame j at j * 80 ms.
        let (_root, clip) = clip_with_mp4("vtest_baseline.mp4", Some(80));
        let video = clip.video().unwrap().unwrap();
        assert_eq!(video.duration_secs(), 80.0 / NOMINAL_RATE_HZ);
        let picked = video.decode_many(&[30, 3, 30]).unwrap();
        let times: Vec<Timestamp> = picked.iter().map(|f| f.t).collect();
        assert_eq!(
            times,
            [
                Timestamp(2_400_000_000),
                Timestamp(240_000_000),
                Timestamp(2_400_000_000)
            ]
        );
        assert_eq!(picked[0], picked[2]);
        assert_eq!(video.decode(3).unwrap(), picked[1]);
        assert!(matches!(
            video.decode(40),
            Err(DatasetError::FrameIndex {
                index: 40,
                len: 40,
                ..
            })
        ));
    }

    #[test]
    fn corrupt_mp4_is_an_error_not_a_panic() {
        let bytes = std::fs::read(fixture("vtest_baseline.mp4")).unwrap();
        let (root, clip) = clip_with_mp4("vtest_baseline.mp4", None);
        let target = root.path().join("video/1_upstairs/c.mp4");
        for cut in [0, 8, 100, bytes.len() / 2, bytes.len() - 10] {
            std::fs::write(&target, &bytes[..cut]).unwrap();
            let opened = clip
                .video()
                .and_then(|v| v.map(|v| v.decode_many(&[0, 39])).transpose());
            assert!(opened.is_err(), "a file cut at {cut} bytes must be refused");
        }
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let bytes = std::fs::read(fixture("vtest_baseline.mp4")).unwrap();
        let (root, clip) = clip_with_mp4("vtest_baseline.mp4", None);
        let target = root.path().join("video/1_upstairs/c.mp4");
        let mut seed: u64 = 0x5eed;
        for _ in 0..150 {
            // A fixed LCG: the same 150 corruptions on every run.
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut corrupt = bytes.clone();
            corrupt[(seed >> 33) as usize % bytes.len()] = (seed >> 20) as u8;
            std::fs::write(&target, &corrupt).unwrap();
            // Ok or Err are both fine (a flip in pixel data can still decode); a panic fails.
            let _ = clip
                .video()
                .and_then(|v| v.map(|v| v.decode_many(&[0, 39])).transpose());
        }
    }
}

#[cfg(not(feature = "mp4"))]
#[test]
fn mp4_clip_is_refused_naming_clip_and_feature() {
    let (_root, clip) = clip_with_mp4("vtest_baseline.mp4", None);
    let err = clip.video().unwrap_err().to_string();
    assert!(
        err.ends_with("clip 1_upstairs/c is an .mp4 but mmcl was built without the `mp4` feature"),
        "{err}"
    );
}
