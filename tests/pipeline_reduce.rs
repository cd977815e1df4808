//! Frames reduced at entry feed the encoder what it would have computed from the
//! full-size frames: the encoder's own resize is the identity at equal size
//! (checked on real decoded video, not assumed), an exact 2x reduction gives
//! bit-identical embeddings, and a real 2.5x reduction differs only by the 8-bit
//! rounding of the reduced pixels (bounded and measured here). (An odd integer
//! ratio such as 160x120 -> 32x24 samples source pixels exactly: no rounding.)
#![cfg(feature = "tract")]

mod pipeline_support;

use mmcl::encode::preprocess::{resize_bilinear, Size};
use mmcl::encode::{Batch, Encoded};
use mmcl::pipeline::reduce_frame;
use mmcl::sample::Frame;
use mmcl::time::Timestamp;
use mmcl::window::{ImuBlock, VideoBlock, Window};
use pipeline_support::tiny_encoder;

/// The contract's size, (width, height).
fn model_size() -> (u32, u32) {
    let c = tiny_encoder().contract().clone();
    (c.width as u32, c.height as u32)
}

fn window(frames: Vec<Frame>) -> Window {
    let c = tiny_encoder().contract().clone();
    let imu = (0..6 * c.imu_len)
        .map(|i| (i as f32 * 0.01).sin())
        .collect();
    Window {
        start: Timestamp(0),
        end: Timestamp(2_000_000_000),
        video: Some(VideoBlock::new(frames).unwrap()),
        imu: Some(ImuBlock::new(c.imu_rate_hz, c.imu_len, imu).unwrap()),
        audio: None,
    }
}

fn encode(w: Window) -> Encoded {
    tiny_encoder().encode(&[w]).unwrap().remove(0)
}

/// Frames whose 2x2 blocks each hold one colour: halving them is exact.
fn blocky(t: usize, (w, h): (u32, u32)) -> Frame {
    let rgb = (0..2 * h)
        .flat_map(|y| (0..2 * w).map(move |x| (x / 2, y / 2)))
        .flat_map(|(x, y)| {
            let v = |k: u32| ((x * 13 + y * 7 + t as u32 * k) % 256) as u8;
            [v(3), v(5), v(11)]
        })
        .collect();
    Frame::new(Timestamp(t as u64), 2 * w, 2 * h, rgb).unwrap()
}

#[test]
fn an_exact_reduction_gives_bit_identical_embeddings() {
    let size = model_size();
    let full: Vec<Frame> = (0..4).map(|t| blocky(t, size)).collect();
    let reduced: Vec<Frame> = full
        .iter()
        .cloned()
        .map(|f| reduce_frame(f, size))
        .collect();
    assert!(reduced.iter().all(|f| (f.width, f.height) == size));
    let (a, b) = (encode(window(full)), encode(window(reduced)));
    assert_eq!(a, b);
}

#[cfg(feature = "mp4")]
mod real_video {
    use super::*;
    use mmcl::dataset::{Clip, ClipEntry, Split};
    use std::sync::Arc;

    /// Frames 0, 10, 20, 30 of the real 160x120 vtest clip (tests/data/dataset).
    fn vtest_frames() -> (tempfile::TempDir, Vec<Frame>) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("video/1_upstairs");
        std::fs::create_dir_all(&dir).unwrap();
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/dataset/vtest_baseline.mp4");
        std::fs::copy(fixture, dir.join("c.mp4")).unwrap();
        let entry = ClipEntry {
            split: Split::Test,
            line: 1,
            class_dir: "1_upstairs".into(),
            clip: "c".into(),
            label: 0,
            num_frames: 40,
            num_sensor_rows: 0,
        };
        let clip = Clip::new(Arc::from(root.path()), entry);
        let frames = clip
            .video()
            .unwrap()
            .unwrap()
            .decode_many(&[0, 10, 20, 30])
            .unwrap();
        (root, frames)
    }

    #[test]
    fn the_encoders_resize_is_the_identity_at_equal_size() {
        let (_root, frames) = vtest_frames();
        for f in &frames {
            let size = Size {
                width: f.width as usize,
                height: f.height as usize,
            };
            let same = resize_bilinear(&f.rgb, size, size);
            assert!(same.iter().zip(&f.rgb).all(|(a, b)| *a == f32::from(*b)));
        }
        // And through the encoder's whole preprocessing: the tensor of a window of
        // reduced frames is the normalized bytes of those frames, exactly.
        let size = model_size();
        let reduced: Vec<Frame> = frames.into_iter().map(|f| reduce_frame(f, size)).collect();
        let enc = tiny_encoder();
        let c = enc.contract();
        let batch = Batch::from_windows(&[window(reduced.clone())], c, 0).unwrap();
        let plane = c.width * c.height;
        for (t, f) in reduced.iter().enumerate() {
            for (p, px) in f.rgb.chunks(3).enumerate() {
                for (ch, byte) in px.iter().enumerate() {
                    let want = (f32::from(*byte) / 255.0 - c.video_mean[ch]) / c.video_std[ch];
                    assert_eq!(batch.video[(t * 3 + ch) * plane + p], want);
                }
            }
        }
    }

    /// The top-left 80x60 of a frame: 2.5x the tiny encoder's 32x24.
    fn crop(f: &Frame) -> Frame {
        let (w, h) = (80usize, 60usize);
        let rgb = (0..h)
            .flat_map(|y| {
                let row = y * f.width as usize * 3;
                f.rgb[row..row + w * 3].to_vec()
            })
            .collect();
        Frame::new(f.t, w as u32, h as u32, rgb).unwrap()
    }

    #[test]
    fn a_real_reduction_changes_embeddings_only_by_rounding() {
        let (_root, frames) = vtest_frames();
        let frames: Vec<Frame> = frames.iter().map(crop).collect();
        let size = model_size();
        let reduced: Vec<Frame> = frames
            .iter()
            .cloned()
            .map(|f| reduce_frame(f, size))
            .collect();
        // Input tensors differ by at most half a level, normalized by the smallest std.
        let enc = tiny_encoder();
        let c = enc.contract();
        let a = Batch::from_windows(&[window(frames.clone())], c, 0).unwrap();
        let b = Batch::from_windows(&[window(reduced.clone())], c, 0).unwrap();
        let bound = 0.5 / 255.0 / c.video_std.iter().cloned().fold(f32::MAX, f32::min) + 1e-6;
        let worst_input = a
            .video
            .iter()
            .zip(&b.video)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst_input <= bound, "{worst_input} > {bound}");
        let (ea, eb) = (encode(window(frames)), encode(window(reduced)));
        let diff = |x: &[f32], y: &[f32]| {
            x.iter()
                .zip(y)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f32::max)
        };
        let fused = diff(ea.embedding.as_slice(), eb.embedding.as_slice());
        let video = diff(
            ea.video.as_ref().unwrap().as_slice(),
            eb.video.as_ref().unwrap().as_slice(),
        );
        eprintln!("80x60 -> {}x{}: input max diff {worst_input:.2e} (bound {bound:.2e}), embedding max diff fused {fused:.2e}, video {video:.2e}", size.0, size.1);
        assert!(worst_input > 0.0, "the 2.5x reduction rounds somewhere");
        assert!(fused < 1e-2 && video < 1e-2, "fused {fused}, video {video}");
    }
}
