//! `mmcl synth` end to end: refusals name the flag (exit 2), the same arguments write the
//! same bytes, and the `--json` counts match what is on disk.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mmcl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(args)
        .output()
        .expect("run mmcl")
}

fn synth(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["synth", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    mmcl(&args)
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One hash over every relative path and its bytes.
fn tree_digest(root: &Path) -> String {
    let mut h = Sha256::new();
    for path in files_under(root) {
        h.update(
            path.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        h.update(std::fs::read(&path).unwrap());
    }
    format!("{:x}", h.finalize())
}

#[test]
fn bad_arguments_exit_2_and_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let cases: [(&[&str], &str); 8] = [
        (&["--classes", "0"], "--classes 0"),
        (&["--classes", "33"], "--classes 33"),
        (&["--clips-per-class", "2"], "--clips-per-class 2"),
        (&["--size", "15"], "--size 15"),
        (&["--size", "513"], "--size 513"),
        (&["--overlap", "1.5"], "--overlap 1.5"),
        (&["--video-fps", "0"], "--video-fps 0"),
        (&["--like", "lists", "--classes", "4"], "--classes"),
    ];
    for (args, named) in cases {
        let o = synth(&out, args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{args:?} should name `{named}`: {stderr}"
        );
    }
    assert!(!out.exists(), "a refused run writes nothing");
}

#[test]
fn a_non_empty_out_needs_force_and_force_keeps_other_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let o = synth(
        dir.path(),
        &["--classes", "1", "--clips-per-class", "3", "--size", "16"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out"));
    assert!(!dir.path().join("train.txt").exists());
    let o = synth(
        dir.path(),
        &[
            "--classes",
            "1",
            "--clips-per-class",
            "3",
            "--size",
            "16",
            "--force",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(dir.path().join("train.txt").exists());
    let file = dir.path().join("notes.txt");
    let o = synth(&file, &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an --out that is a file is refused"
    );
}

#[test]
fn same_arguments_write_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--classes",
        "3",
        "--clips-per-class",
        "3",
        "--size",
        "16",
        "--seed",
        "5",
        "--missing-rate",
        "0.3",
    ];
    let digest = |name: &str, args: &[&str]| {
        let out = dir.path().join(name);
        let o = synth(&out, args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        tree_digest(&out)
    };
    let first = digest("a", &args);
    assert_eq!(first, digest("b", &args));
    let mut other_seed = args;
    other_seed[7] = "6";
    assert_ne!(first, digest("c", &other_seed));
}

/// What the files on disk say, counted independently of the generator.
#[derive(Default, Debug, PartialEq)]
struct DiskCounts {
    clips: [u64; 3],
    missing_video: [u64; 3],
    missing_sensor: [u64; 3],
    frames: u64,
    sensor_rows: u64,
    per_class: std::collections::BTreeMap<u64, u64>,
}

fn count_on_disk(root: &Path, size: u32) -> DiskCounts {
    let mut c = DiskCounts::default();
    for (s, split) in ["train", "val", "test"].iter().enumerate() {
        for line in std::fs::read_to_string(root.join(format!("{split}.txt")))
            .unwrap()
            .lines()
        {
            let f: Vec<&str> = line.split(' ').collect();
            let (class, clip) = f[0].strip_prefix("data/").unwrap().split_once('/').unwrap();
            let (frames, rows, label): (u64, u64, u64) = (
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            );
            assert_eq!(
                class.split('_').next().unwrap().parse::<u64>().unwrap(),
                label + 1,
                "{line}"
            );
            assert!(frames < rows, "fewer frames than sensor rows: {line}");
            c.clips[s] += 1;
            *c.per_class.entry(label).or_default() += 1;
            let video = root.join("video").join(class).join(clip);
            if video.is_dir() {
                let n = std::fs::read_dir(&video).unwrap().count() as u64;
                assert_eq!(n, frames, "{line}");
                let last = image::open(video.join(format!("img_{frames:06}.jpg"))).unwrap();
                assert_eq!((last.width(), last.height()), (size, size));
                c.frames += n;
            } else {
                c.missing_video[s] += 1;
            }
            match std::fs::read_to_string(
                root.join("sensor").join(class).join(format!("{clip}.csv")),
            ) {
                Ok(csv) => {
                    for row in csv.lines() {
                        let v: Vec<i16> = row.split(',').map(|x| x.parse().unwrap()).collect();
                        assert_eq!(v.len(), 6, "{row}");
                    }
                    assert_eq!(csv.lines().count() as u64, rows, "{line}");
                    c.sensor_rows += rows;
                }
                Err(_) => c.missing_sensor[s] += 1,
            }
        }
    }
    c
}

#[test]
fn json_counts_match_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let o = synth(
        &out,
        &[
            "--classes",
            "5",
            "--clips-per-class",
            "6",
            "--size",
            "24",
            "--missing-rate",
            "0.25",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let disk = count_on_disk(&out, 24);
    for (s, split) in ["train", "val", "test"].iter().enumerate() {
        let j = &json["splits"][split];
        assert_eq!(j["clips"].as_u64(), Some(disk.clips[s]), "{split}");
        assert_eq!(
            j["missing_video"].as_u64(),
            Some(disk.missing_video[s]),
            "{split}"
        );
        assert_eq!(
            j["missing_sensor"].as_u64(),
            Some(disk.missing_sensor[s]),
            "{split}"
        );
    }
    assert_eq!(
        disk.clips,
        [20, 5, 5],
        "6 clips a class split 4/1/1, 5 classes"
    );
    let missing: u64 = disk.missing_video.iter().chain(&disk.missing_sensor).sum();
    assert!(
        missing > 0,
        "a 25 % missing rate over 30 clips leaves some modality out"
    );
    assert_eq!(json["frames"].as_u64(), Some(disk.frames));
    assert_eq!(json["sensor_rows"].as_u64(), Some(disk.sensor_rows));
    let classes = json["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 5);
    for c in classes {
        assert_eq!(
            c["clips"].as_u64(),
            disk.per_class.get(&c["label"].as_u64().unwrap()).copied()
        );
    }
    assert_eq!(classes[4]["name"], "5_reading");
    assert_eq!(json["files"].as_u64(), Some(files_under(&out).len() as u64));
}
