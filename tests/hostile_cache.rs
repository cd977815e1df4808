//! Fault campaign case 9: replacing a clip's frames and running `embed` again
//! served the old embeddings (the key covered the list line and the sensor file,
//! not the frames). The key now covers the frame files too.

mod hostile_support;

use hostile_support::{frame_dirs, run, synth, tiny_model};
use std::path::Path;

fn embed_json(d: &Path) -> serde_json::Value {
    let m = tiny_model();
    let out = run([
        "embed",
        "--dataset",
        d.to_str().unwrap(),
        "--model",
        m.to_str().unwrap(),
        "--json",
    ]);
    out.assert_sane();
    assert_eq!(out.code, Some(0), "{out:#?}");
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn stale_cache_is_not_served_after_frames_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let first = embed_json(&d);
    assert_eq!(
        (first["encoded"].as_u64(), first["reused"].as_u64()),
        (Some(12), Some(0))
    );
    let again = embed_json(&d);
    assert_eq!(
        again["reused"].as_u64(),
        Some(12),
        "nothing changed: all reused"
    );
    // Same names, same count, other pictures.
    let clip = &frame_dirs(&d)[0];
    for f in std::fs::read_dir(clip).unwrap() {
        let f = f.unwrap().path();
        let img =
            image::RgbImage::from_fn(40, 40, |x, y| image::Rgb([(x * 6) as u8, (y * 6) as u8, 7]));
        img.save_with_format(&f, image::ImageFormat::Jpeg).unwrap();
    }
    let after = embed_json(&d);
    assert_eq!(
        (after["encoded"].as_u64(), after["reused"].as_u64()),
        (Some(1), Some(11))
    );
}
