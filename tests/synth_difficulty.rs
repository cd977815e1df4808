//! The default difficulty is hard but learnable: a nearest-class-mean classifier on simple
//! per-clip features beats chance clearly, stays far from perfect, needs both modalities,
//! and gets worse as `--overlap` rises.

use mmcl::dataset::synth::{self, Knobs, RawParams, RawRow, Split, SynthParams};
use std::path::Path;

const CLASSES: usize = 32;

fn params(overlap: f32, per_class: usize) -> SynthParams {
    let knobs = Knobs {
        overlap,
        missing_rate: 0.0,
        ..Knobs::default()
    };
    SynthParams::new(RawParams {
        classes: Some(CLASSES),
        clips_per_class: Some(per_class),
        like: None,
        seed: 11,
        size: 32,
        knobs,
    })
    .unwrap()
}

/// Per-axis mean and standard deviation of a sequence of vectors.
fn mean_std<const N: usize>(items: impl Iterator<Item = [f64; N]>) -> Vec<f64> {
    let (mut n, mut sum, mut sq) = (0.0, [0.0; N], [0.0; N]);
    for x in items {
        n += 1.0;
        (0..N).for_each(|i| {
            sum[i] += x[i];
            sq[i] += x[i] * x[i];
        });
    }
    let mean = sum.map(|s| s / n);
    (0..N)
        .map(|i| mean[i])
        .chain((0..N).map(|i| (sq[i] / n - mean[i] * mean[i]).max(0.0).sqrt()))
        .collect()
}

fn imu_features(rows: &[RawRow]) -> Vec<f64> {
    let scale = |i: usize| if i < 3 { 8192.0 } else { 16.4 };
    mean_std(
        rows.iter()
            .map(|r| [0, 1, 2, 3, 4, 5].map(|i| r[i] as f64 / scale(i))),
    )
}

fn csv_features(path: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<RawRow> = text
        .lines()
        .map(|l| {
            let v: Vec<i16> = l.split(',').map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3], v[4], v[5]]
        })
        .collect();
    imu_features(&rows)
}

/// Mean and spread of R, G, B over every pixel of every frame.
fn video_features(dir: &Path) -> Vec<f64> {
    let mut pixels = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let img = image::open(entry.unwrap().path()).unwrap().to_rgb8();
        pixels.extend(img.pixels().map(|p| p.0.map(|c| c as f64 / 255.0)));
    }
    mean_std(pixels.into_iter())
}

/// Accuracy on `test` of nearest class mean in z-scored feature space fitted on `train`.
fn ncm_accuracy(train: &[(usize, Vec<f64>)], test: &[(usize, Vec<f64>)]) -> f64 {
    let d = train[0].1.len();
    let stats: Vec<(f64, f64)> = (0..d)
        .map(|i| {
            let ms = mean_std(train.iter().map(|(_, f)| [f[i]]));
            (ms[0], ms[1].max(1e-12))
        })
        .collect();
    let z = |f: &[f64]| -> Vec<f64> { (0..d).map(|i| (f[i] - stats[i].0) / stats[i].1).collect() };
    let mut means = vec![(vec![0.0; d], 0.0); CLASSES];
    for (label, f) in train {
        z(f).iter()
            .enumerate()
            .for_each(|(i, v)| means[*label].0[i] += v);
        means[*label].1 += 1.0;
    }
    let dist = |f: &[f64], c: usize| {
        (0..d)
            .map(|i| (f[i] - means[c].0[i] / means[c].1).powi(2))
            .sum::<f64>()
    };
    let hits = test
        .iter()
        .filter(|(label, f)| {
            let zf = z(f);
            (0..CLASSES).min_by(|&a, &b| dist(&zf, a).total_cmp(&dist(&zf, b))) == Some(*label)
        })
        .count();
    hits as f64 / test.len() as f64
}

type Set = Vec<(usize, Vec<f64>)>;

fn split_sets(items: Vec<(Split, usize, Vec<f64>)>) -> (Set, Set) {
    let (train, test): (Vec<_>, Vec<_>) =
        items.into_iter().partition(|(s, _, _)| *s == Split::Train);
    let strip = |v: Vec<(Split, usize, Vec<f64>)>| v.into_iter().map(|(_, l, f)| (l, f)).collect();
    (strip(train), strip(test))
}

#[test]
fn default_difficulty_is_hard_but_learnable_and_needs_both_modalities() {
    let dir = tempfile::tempdir().unwrap();
    let p = params(Knobs::default().overlap, 8);
    synth::generate(&p, dir.path(), false).unwrap();
    let clips = synth::plan_clips(&p).unwrap();
    let (mut imu, mut video, mut joint) = (Vec::new(), Vec::new(), Vec::new());
    for c in &clips {
        let fi = csv_features(
            &dir.path()
                .join("sensor")
                .join(c.class.name())
                .join(format!("{}.csv", c.name)),
        );
        let fv = video_features(&dir.path().join("video").join(c.class.name()).join(&c.name));
        joint.push((
            c.split,
            c.class.label(),
            fi.iter().chain(&fv).copied().collect(),
        ));
        imu.push((c.split, c.class.label(), fi));
        video.push((c.split, c.class.label(), fv));
    }
    let acc = |items| {
        let (train, test) = split_sets(items);
        ncm_accuracy(&train, &test)
    };
    let (imu, video, joint) = (acc(imu), acc(video), acc(joint));
    let chance = 1.0 / CLASSES as f64;
    eprintln!(
        "nearest class mean: imu {imu:.3}, video {video:.3}, joint {joint:.3}, chance {chance:.3}"
    );
    for (name, a) in [("imu", imu), ("video", video), ("joint", joint)] {
        assert!(
            a > 4.0 * chance && a < 0.85,
            "{name} accuracy {a:.3} should be clearly above chance {chance:.3} and clearly below 1"
        );
    }
    assert!(
        joint > imu.max(video) + 0.05,
        "joint {joint:.3} should beat imu {imu:.3} and video {video:.3}"
    );
}

#[test]
fn overlap_makes_imu_classes_harder_to_tell_apart() {
    let imu_accuracy = |overlap| {
        let p = params(overlap, 8);
        let items = synth::plan_clips(&p)
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c.split,
                    c.class.label(),
                    imu_features(&synth::sensor_rows(&p, c)),
                )
            })
            .collect();
        let (train, test) = split_sets(items);
        ncm_accuracy(&train, &test)
    };
    let (distinct, identical) = (imu_accuracy(0.0), imu_accuracy(1.0));
    eprintln!("imu nearest class mean: overlap 0 {distinct:.3}, overlap 1 {identical:.3}");
    assert!(
        distinct > identical + 0.15,
        "overlap 0: {distinct:.3}, overlap 1: {identical:.3}"
    );
}

#[test]
fn generate_observed_reports_every_clip_once_up_to_the_plan() {
    use std::sync::Mutex;
    let dir = tempfile::tempdir().unwrap();
    let p = params(Knobs::default().overlap, 3);
    let planned = synth::plan_clips(&p).unwrap().len();
    let seen = Mutex::new(Vec::new());
    synth::generate_observed(&p, dir.path(), false, &|done, of| {
        seen.lock().unwrap().push((done, of));
    })
    .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort_unstable();
    let expected: Vec<(usize, usize)> = (1..=planned).map(|n| (n, planned)).collect();
    assert_eq!(seen, expected);
}
