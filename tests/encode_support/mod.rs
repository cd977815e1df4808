//! Shared by the tests/encode_*.rs files: fixture paths, the formula windows of
//! `tests/data/encoder/make_tiny_encoder.py`, and output comparison.
#![allow(dead_code)]

use mmcl::encode::{Encoded, ModelContract};
use mmcl::sample::Frame;
use mmcl::time::Timestamp;
use mmcl::window::{ImuBlock, VideoBlock, Window};
use std::path::PathBuf;

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/encoder")
        .join(name)
}

pub fn tiny() -> PathBuf {
    data("tiny_encoder.onnx")
}

/// The RGB8 byte of window n, frame t, pixel (y, x), channel c (`frame_byte` in the script).
pub fn frame_byte(n: usize, t: usize, y: usize, x: usize, c: usize) -> u8 {
    ((n * 31 + t * 17 + y * 5 + x * 3 + c * 67) % 256) as u8
}

/// IMU channel c, step i of window n (`imu_value` in the script).
pub fn imu_value(n: usize, c: usize, i: usize) -> f32 {
    let phase = 0.3 * n as f64 + 0.7 * c as f64 + 0.11 * i as f64;
    let scale = if c < 3 { 0.8 } else { 90.0 };
    (phase.sin() * scale + if c == 2 { 1.0 } else { 0.0 }) as f32
}

/// A window with both modalities from the formulas, at the model's sizes.
pub fn formula_window(n: usize, c: &ModelContract) -> Window {
    let frames = (0..c.frames)
        .map(|t| {
            let mut rgb = Vec::with_capacity(c.height * c.width * 3);
            for y in 0..c.height {
                for x in 0..c.width {
                    rgb.extend((0..3).map(|ch| frame_byte(n, t, y, x, ch)));
                }
            }
            Frame::new(Timestamp(t as u64), c.width as u32, c.height as u32, rgb).unwrap()
        })
        .collect();
    let imu = (0..6)
        .flat_map(|ch| (0..c.imu_len).map(move |i| imu_value(n, ch, i)))
        .collect();
    Window {
        start: Timestamp(0),
        end: Timestamp((c.window_seconds as f64 * 1e9) as u64),
        video: Some(VideoBlock::new(frames).unwrap()),
        imu: Some(ImuBlock::new(c.imu_rate_hz, c.imu_len, imu).unwrap()),
        audio: None,
    }
}

/// The reference windows: 0 both modalities, 1 video only, 2 IMU only.
pub fn reference_windows(c: &ModelContract) -> Vec<Window> {
    let mut w1 = formula_window(1, c);
    w1.imu = None;
    let mut w2 = formula_window(2, c);
    w2.video = None;
    vec![formula_window(0, c), w1, w2]
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Largest difference between two encodings of the same windows, over every
/// output; per-modality presence must agree.
pub fn max_diff_encoded(a: &[Encoded], b: &[Encoded]) -> f32 {
    assert_eq!(a.len(), b.len());
    let mut worst = 0f32;
    for (x, y) in a.iter().zip(b) {
        worst = worst.max(max_abs_diff(x.embedding.as_slice(), y.embedding.as_slice()));
        for (p, q) in [(&x.video, &y.video), (&x.imu, &y.imu)] {
            assert_eq!(p.is_some(), q.is_some(), "presence differs");
            if let (Some(p), Some(q)) = (p, q) {
                worst = worst.max(max_abs_diff(p.as_slice(), q.as_slice()));
            }
        }
    }
    worst
}

/// Rows of a reference output, as written by the script.
pub fn rows(reference: &serde_json::Value, output: &str) -> Vec<Vec<f32>> {
    let rows = reference["outputs"][output]
        .as_array()
        .unwrap_or_else(|| panic!("no output {output}"));
    rows.iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

pub fn tiny_reference() -> serde_json::Value {
    let text = std::fs::read_to_string(data("tiny_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Checks encodings of `reference_windows` against the reference rows.
pub fn assert_matches_reference(
    encoded: &[Encoded],
    reference: &serde_json::Value,
    tolerance: f32,
) {
    let (emb, video, imu) = (
        rows(reference, "embedding"),
        rows(reference, "video_embedding"),
        rows(reference, "imu_embedding"),
    );
    for (i, e) in encoded.iter().enumerate() {
        let d = max_abs_diff(e.embedding.as_slice(), &emb[i]);
        assert!(d <= tolerance, "window {i} embedding differs by {d}");
        if let Some(v) = &e.video {
            let d = max_abs_diff(v.as_slice(), &video[i]);
            assert!(d <= tolerance, "window {i} video embedding differs by {d}");
        }
        if let Some(m) = &e.imu {
            let d = max_abs_diff(m.as_slice(), &imu[i]);
            assert!(d <= tolerance, "window {i} imu embedding differs by {d}");
        }
    }
    let presence: Vec<(bool, bool)> = encoded
        .iter()
        .map(|e| (e.video.is_some(), e.imu.is_some()))
        .collect();
    assert_eq!(presence, [(true, true), (true, false), (false, true)]);
}

/// `model` (ONNX bytes) with `props` appended to its `metadata_props`
/// (ModelProto field 14): protobuf lets a repeated field's entries come
/// anywhere, so appending is a valid edit of any model.
pub fn with_metadata(model: &[u8], props: &[(&str, &str)]) -> Vec<u8> {
    fn varint(mut v: usize, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn field(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
        out.push(tag);
        varint(bytes.len(), out);
        out.extend_from_slice(bytes);
    }
    let mut out = model.to_vec();
    for (key, value) in props {
        let mut entry = Vec::new();
        field(0x0a, key.as_bytes(), &mut entry);
        field(0x12, value.as_bytes(), &mut entry);
        field(0x72, &entry, &mut out);
    }
    out
}

/// The tiny fixture cut into a frame stage at `input` -> `output`, written to
/// a temporary file (kept alive by the returned guard).
pub fn tiny_with_frame_stage(input: &str, output: &str) -> (tempfile::TempDir, PathBuf) {
    let bytes = std::fs::read(tiny()).unwrap();
    let staged = with_metadata(
        &bytes,
        &[
            ("mmcl.frame_stage.input", input),
            ("mmcl.frame_stage.output", output),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny_staged.onnx");
    std::fs::write(&path, staged).unwrap();
    (dir, path)
}
