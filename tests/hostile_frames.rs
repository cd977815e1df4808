//! Fault campaign cases 1 and 7 and the frame side of case 5: frames that claim a
//! huge size, frames cut in half, and a frame that is a FIFO. `dataset check`
//! names each bad frame and exits 2, `embed` refuses the clip naming the file, and
//! `bench cl` skips it naming the file; nothing panics, hangs or takes 300 MB.

mod hostile_support;

use hostile_support::{bomb_jpeg, frame_dirs, run, synth, tiny_model, uniform_grey_jpeg};
use mmcl::dataset::decode::decode_frame;
use mmcl::time::Timestamp;
use std::path::Path;

/// Every frame of `clip_dir`.
fn frames(clip_dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(clip_dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    files
}

fn check(d: &Path) -> hostile_support::Outcome {
    run(["dataset", "check", d.to_str().unwrap()])
}

fn embed(d: &Path, model: Option<&Path>) -> hostile_support::Outcome {
    let mut args = vec![
        "embed".to_string(),
        "--dataset".into(),
        d.display().to_string(),
    ];
    if let Some(m) = model {
        args.extend(["--model".into(), m.display().to_string()]);
    }
    run(args)
}

#[test]
fn decompression_bomb_frames_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let clip = &frame_dirs(&d)[0];
    let bomb = bomb_jpeg(20_000, 20_000);
    assert!(bomb.len() < 1000, "{} bytes", bomb.len());
    for f in frames(clip) {
        std::fs::write(&f, &bomb).unwrap();
    }
    let first = clip.join("img_000001.jpg").display().to_string();
    let out = check(&d);
    out.assert_refused(&format!(
        "{first}: is 20000x20000, over the 16777216-pixel limit"
    ));
    assert!(out.stdout.contains("more bad frames"), "{out:#?}");
    // The default encoder (what a user runs) and the tiny one both refuse it.
    embed(&d, None).assert_refused("over the 16777216-pixel limit");
    embed(&d, Some(&tiny_model())).assert_refused("over the 16777216-pixel limit");
    let report = dir.path().join("R");
    let m = tiny_model();
    let bench = run([
        "bench",
        "cl",
        "--dataset",
        d.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
        "--model",
        m.to_str().unwrap(),
        "--strategies",
        "ncm",
        "--seeds",
        "1",
    ]);
    bench.assert_sane();
    assert!(
        bench.stderr.contains("over the 16777216-pixel limit"),
        "{bench:#?}"
    );
}

#[test]
fn a_real_20000x20000_grey_jpeg_is_refused_before_decoding() {
    // The builder writes real JPEGs: a small one decodes to uniform grey.
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.jpg");
    std::fs::write(&small, uniform_grey_jpeg(64, 48)).unwrap();
    let frame = decode_frame(&small, Timestamp(0), None).unwrap();
    assert_eq!((frame.width, frame.height), (64, 48));
    assert!(frame.rgb.iter().all(|v| *v == frame.rgb[0]), "uniform grey");
    let d = synth(dir.path());
    let clip = &frame_dirs(&d)[3];
    let bomb = uniform_grey_jpeg(20_000, 20_000);
    assert!(
        bomb.len() > 1_500_000 && bomb.len() < 1_600_000,
        "{}",
        bomb.len()
    );
    for f in frames(clip) {
        std::fs::write(&f, &bomb).unwrap();
    }
    check(&d).assert_refused("is 20000x20000, over the 16777216-pixel limit of a frame");
    embed(&d, Some(&tiny_model())).assert_refused("is 20000x20000");
}

#[test]
fn truncated_frames_are_refused_and_each_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let clip = &frame_dirs(&d)[1];
    let files = frames(clip);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        std::fs::write(f, &bytes[..bytes.len() / 2]).unwrap();
    }
    let out = run(["dataset", "check", d.to_str().unwrap(), "--json"]);
    out.assert_refused("is truncated: it does not end with the JPEG end-of-image marker");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let errors = report["errors"].as_array().unwrap();
    let named = |f: &Path| {
        errors
            .iter()
            .any(|e| e["path"] == f.display().to_string().as_str())
    };
    let listed = files.iter().filter(|f| named(f)).count();
    assert_eq!(listed, files.len().min(10), "{errors:#?}");
    if files.len() > 10 {
        let more = format!("and {} more bad frames", files.len() - 10);
        assert!(errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().ends_with(&more)));
    }
    embed(&d, Some(&tiny_model())).assert_refused("is truncated");
}

#[test]
fn frame_that_is_a_fifo_does_not_hang_check_or_embed() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let clip = &frame_dirs(&d)[2];
    // Every frame a FIFO, so `embed` meets one whichever frames its windows sample.
    for f in frames(clip) {
        std::fs::remove_file(&f).unwrap();
        hostile_support::mkfifo(&f);
    }
    let first = clip.join("img_000001.jpg");
    let said = format!(
        "{}: cannot open frame: is a FIFO, not a regular file",
        first.display()
    );
    check(&d).assert_refused(&said);
    embed(&d, Some(&tiny_model())).assert_refused("is a FIFO");
}

#[test]
fn frame_linked_to_dev_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = synth(dir.path());
    let frame = frame_dirs(&d)[0].join("img_000002.jpg");
    hostile_support::replace_with_link(&frame, Path::new("/dev/zero"));
    check(&d).assert_refused("is a character device, not a regular file");
}
