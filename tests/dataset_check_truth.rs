//! `dataset check` tells the truth: over datasets broken in the ways the fault
//! campaign broke them (and a few more), whenever the check reports no error,
//! `embed` with the same encoder encodes every clip it counted. The check and the
//! encode run through the library with the tiny test encoder.
#![cfg(feature = "tract")]

mod hostile_support;

use hostile_support::{bomb_jpeg, frame_dirs, mkfifo, replace_with_link, sensor_files};
use mmcl::config::{Config, Settings};
use mmcl::dataset::check::{check_with, CheckOptions};
use mmcl::dataset::Dataset;
use mmcl::encode::cache::EmbeddingCache;
use mmcl::encode::dataset::{embed_dataset, read_spec};
use mmcl::encode::{self, EncoderOptions};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One way to break a dataset; `at` picks the clip (and the frame or row) it hits.
#[derive(Debug, Clone)]
enum Fault {
    TruncateFrame { at: usize },
    BombFrame { at: usize },
    GarbageFrame { at: usize, bytes: Vec<u8> },
    FlipFrameByte { at: usize, offset: usize },
    RemoveFrame { at: usize },
    FrameFifo { at: usize },
    BadSensorCell { at: usize, cell: &'static str },
    EmptySensor { at: usize },
    SensorSpecial { at: usize, kind: u8 },
    RemoveSensor { at: usize },
    RemoveVideo { at: usize },
    ShortenSensor { at: usize, rows: usize },
    GhostLine,
    NonUtf8Line,
}

fn fault() -> impl Strategy<Value = Fault> {
    let at = any::<usize>();
    let cell = prop::sample::select(vec!["nan", "1e300", "x", "", "-3e38", "1048577", "5"]);
    // Faults a check may pass (the ones that test the claim) weigh more than
    // faults it always reports.
    prop_oneof![
        1 => at.prop_map(|at| Fault::TruncateFrame { at }),
        1 => at.prop_map(|at| Fault::BombFrame { at }),
        1 => (at, prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(at, bytes)| Fault::GarbageFrame { at, bytes }),
        4 => (at, any::<usize>()).prop_map(|(at, offset)| Fault::FlipFrameByte { at, offset }),
        1 => at.prop_map(|at| Fault::RemoveFrame { at }),
        1 => at.prop_map(|at| Fault::FrameFifo { at }),
        1 => (at, cell).prop_map(|(at, cell)| Fault::BadSensorCell { at, cell }),
        1 => at.prop_map(|at| Fault::EmptySensor { at }),
        1 => (at, 0u8..4).prop_map(|(at, kind)| Fault::SensorSpecial { at, kind }),
        3 => at.prop_map(|at| Fault::RemoveSensor { at }),
        3 => at.prop_map(|at| Fault::RemoveVideo { at }),
        4 => (at, 1usize..200).prop_map(|(at, rows)| Fault::ShortenSensor { at, rows }),
        1 => Just(Fault::GhostLine),
        1 => Just(Fault::NonUtf8Line),
    ]
}

fn pick<T: Clone>(items: &[T], at: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[at % items.len()].clone())
}

/// The paths that are still regular files: an earlier fault may have made one a
/// FIFO or a link to `/dev/zero`, which the test must not read itself.
fn regular(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    paths
        .into_iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .collect()
}

fn a_frame(d: &Path, at: usize) -> Option<PathBuf> {
    let dir = pick(&frame_dirs(d), at)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|f| f.ok().map(|f| f.path()))
        .collect();
    files.sort();
    pick(&regular(files), at / 7)
}

fn a_sensor(d: &Path, at: usize) -> Option<PathBuf> {
    pick(&regular(sensor_files(d)), at)
}

impl Fault {
    fn apply(&self, d: &Path) {
        match self {
            Fault::TruncateFrame { at } => edit(a_frame(d, *at), |b| b.truncate(b.len() / 2)),
            Fault::BombFrame { at } => edit(a_frame(d, *at), |b| *b = bomb_jpeg(20_000, 20_000)),
            Fault::GarbageFrame { at, bytes } => edit(a_frame(d, *at), |b| b.clone_from(bytes)),
            Fault::FlipFrameByte { at, offset } => edit(a_frame(d, *at), |b| {
                if !b.is_empty() {
                    let i = offset % b.len();
                    b[i] ^= 0x5A;
                }
            }),
            Fault::RemoveFrame { at } => {
                if let Some(f) = a_frame(d, *at) {
                    std::fs::remove_file(f).unwrap();
                }
            }
            Fault::FrameFifo { at } => {
                if let Some(f) = a_frame(d, *at) {
                    std::fs::remove_file(&f).unwrap();
                    mkfifo(&f);
                }
            }
            Fault::BadSensorCell { at, cell } => edit(a_sensor(d, *at), |b| {
                let text = String::from_utf8_lossy(b).into_owned();
                let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
                let i = (at / 3) % rows.len().max(1);
                if let Some(row) = rows.get_mut(i) {
                    *row = format!("{cell},0,8192,0,0,0");
                }
                *b = rows.join("\n").into_bytes();
            }),
            Fault::EmptySensor { at } => edit(a_sensor(d, *at), Vec::clear),
            Fault::SensorSpecial { at, kind } => {
                if let Some(f) = a_sensor(d, *at) {
                    special(&f, *kind);
                }
            }
            Fault::RemoveSensor { at } => {
                if let Some(f) = a_sensor(d, *at) {
                    std::fs::remove_file(f).unwrap();
                }
            }
            Fault::RemoveVideo { at } => {
                if let Some(dir) = pick(&frame_dirs(d), *at) {
                    std::fs::remove_dir_all(dir).unwrap();
                }
            }
            Fault::ShortenSensor { at, rows } => {
                if let Some(f) = a_sensor(d, *at) {
                    shorten(d, &f, *rows);
                }
            }
            Fault::GhostLine => append(&d.join("train.txt"), b"data/2_downstairs/ghost 20 150 1\n"),
            Fault::NonUtf8Line => append(&d.join("val.txt"), b"data/2_downstairs/n\xe9 20 150 1\n"),
        }
    }
}

/// Rewrites a regular file's bytes with `change`; nothing when there is no file.
fn edit(file: Option<PathBuf>, change: impl FnOnce(&mut Vec<u8>)) {
    if let Some(f) = file {
        let mut bytes = std::fs::read(&f).unwrap();
        change(&mut bytes);
        std::fs::write(&f, bytes).unwrap();
    }
}

/// Makes `f` a symlink loop, a link to `/dev/zero`, a directory or a FIFO.
fn special(f: &Path, kind: u8) {
    match kind {
        0 => replace_with_link(f, f),
        1 => replace_with_link(f, Path::new("/dev/zero")),
        2 => {
            std::fs::remove_file(f).unwrap();
            std::fs::create_dir(f).unwrap();
        }
        _ => {
            std::fs::remove_file(f).unwrap();
            mkfifo(f);
        }
    }
}

fn append(path: &Path, line: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend_from_slice(line);
    std::fs::write(path, bytes).unwrap();
}

/// Cuts a clip's sensor file `f` to `rows` rows and lists it so (no count
/// mismatch): the clip may now be too short for the encoder's window. List lines
/// are rewritten as bytes (an earlier fault may have left one that is not UTF-8).
fn shorten(d: &Path, f: &Path, rows: usize) {
    let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
    let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
    let kept: Vec<&str> = text.lines().take(rows).collect();
    std::fs::write(f, kept.join("\n")).unwrap();
    for split in ["train", "val", "test"] {
        let list = d.join(format!("{split}.txt"));
        let Ok(bytes) = std::fs::read(&list) else {
            continue;
        };
        let mut out = Vec::new();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let fields: Vec<&str> =
                std::str::from_utf8(line).map_or(Vec::new(), |l| l.split_whitespace().collect());
            match fields[..] {
                [path, frames, _, label] if path.ends_with(&format!("/{stem}")) => {
                    out.extend(format!("{path} {frames} {} {label}", kept.len()).into_bytes())
                }
                _ => out.extend_from_slice(line),
            }
            out.push(b'\n');
        }
        std::fs::write(&list, out).unwrap();
    }
}

/// The pristine dataset, made once and copied for each case.
fn pristine() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        hostile_support::synth(dir.path());
        dir
    });
    dir.path()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The built-in profile resolved against the tiny encoder: what `embed --model`
/// and `dataset check --model` use.
fn tiny_settings() -> Settings {
    let config = Config::load_with(None, |raw| {
        raw.encoder.model = Some(hostile_support::tiny_model())
    })
    .unwrap();
    Settings::resolve(config).unwrap()
}

/// Cases per run: 40 (about a third reach `embed`), or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn check_without_errors_means_embed_encodes_every_clip(faults in prop::collection::vec(fault(), 1..3)) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("D");
        copy_tree(&pristine().join("D"), &d);
        for f in &faults {
            f.apply(&d);
        }
        let settings = tiny_settings();
        let contract = settings.contract();
        let options = CheckOptions { workers: 2, read: Some(read_spec(settings.window(), contract).unwrap()) };
        let report = check_with(&d, &options).unwrap();
        if !report.errors.is_empty() {
            return Ok(());
        }
        let dataset = Dataset::open(&d).unwrap();
        let mut encoder = encode::open(&hostile_support::tiny_model(), &EncoderOptions::default()).unwrap();
        let (mut cache, _) = EmbeddingCache::load(&dir.path().join("cache"), &contract.sha256, contract.dim).unwrap();
        let summary = embed_dataset(&dataset, encoder.as_mut(), settings.window(), &mut cache, 100, &mut |_, _| {}).unwrap();
        // Seen with --nocapture: how many cases got this far, and with which faults.
        eprintln!("check passed, embed ran after {faults:?}");
        prop_assert!(summary.failed.is_empty(), "check said no errors, embed failed: {:#?}", summary.failed);
        prop_assert_eq!(summary.encoded, dataset.clips().len());
    }
}
