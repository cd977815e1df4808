//! `mmcl synth --like DIR`: real list files are mirrored clip for clip.

use std::path::Path;
use std::process::{Command, Output};

fn synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .arg("synth")
        .args(args)
        .output()
        .expect("run mmcl")
}

const TRAIN: &str = "/home/x/data/20_walking/20_walking_2022_04_21_10_00_00 250 251 19\n\
                     /home/x/data/20_walking/20_walking_2022_04_21_10_05_00 300 299 19\n\
                     /home/x/data/4_fall/4_fall_2022_04_22_09_00_00 180 181 3\n";
const VAL: &str = "yourdataset_path/data/4_fall/4_fall_2022_04_22_09_10_00 200 200 3";
const TEST: &str = "yourdataset_path/data/32_watch_TV/32_watch_TV_2022_05_01_20_00_00 10 12 31\n";

fn write_lists(dir: &Path, train: &str, val: &str, test: &str) {
    std::fs::write(dir.join("train.txt"), train).unwrap();
    std::fs::write(dir.join("val.txt"), val).unwrap();
    std::fs::write(dir.join("test.txt"), test).unwrap();
}

/// (class, clip, frames, rows, label) of each line.
fn lines(path: &Path) -> Vec<(String, String, usize, usize, usize)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let parts: Vec<&str> = f[0].rsplit('/').collect();
            (
                parts[1].into(),
                parts[0].into(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn like_mirrors_names_labels_splits_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (lists, out) = (dir.path().join("lists"), dir.path().join("out"));
    std::fs::create_dir(&lists).unwrap();
    write_lists(&lists, TRAIN, VAL, TEST);
    let o = synth(&[
        "--out",
        out.to_str().unwrap(),
        "--like",
        lists.to_str().unwrap(),
        "--size",
        "16",
        "--missing-rate",
        "0",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for split in ["train", "val", "test"] {
        let (src, got) = (
            lines(&lists.join(format!("{split}.txt"))),
            lines(&out.join(format!("{split}.txt"))),
        );
        assert_eq!(src.len(), got.len(), "{split}");
        for (s, g) in src.iter().zip(&got) {
            assert_eq!(
                (&s.0, &s.1, s.3, s.4),
                (&g.0, &g.1, g.3, g.4),
                "{split}: name, rows and label kept"
            );
            let expected_frames = ((s.2 as f64 / 25.0 * 3.0).round() as usize).max(2);
            assert_eq!(
                g.2, expected_frames,
                "{split} {}: frames = rgb / 25 * fps",
                s.1
            );
            let csv =
                std::fs::read_to_string(out.join("sensor").join(&g.0).join(format!("{}.csv", g.1)))
                    .unwrap();
            assert_eq!(csv.lines().count(), g.3);
            assert_eq!(
                std::fs::read_dir(out.join("video").join(&g.0).join(&g.1))
                    .unwrap()
                    .count(),
                g.2
            );
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let labels: Vec<u64> = json["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_u64().unwrap())
        .collect();
    assert_eq!(labels, [3, 19, 31]);
    assert_eq!(json["splits"]["train"]["clips"], 3);
    assert_eq!(
        json["classes"][0]["clips"], 2,
        "4_fall has a train and a val clip"
    );
}

#[test]
fn a_bad_list_line_is_refused_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (lists, out) = (dir.path().join("lists"), dir.path().join("out"));
    std::fs::create_dir(&lists).unwrap();
    write_lists(&lists, TRAIN, "data/4_fall/clip 200 200 4\n", TEST);
    let o = synth(&[
        "--out",
        out.to_str().unwrap(),
        "--like",
        lists.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("val.txt:1:") && stderr.contains("label 4"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written when a list is refused");
}

#[test]
fn like_refuses_a_missing_list() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train.txt"), TRAIN).unwrap();
    let out = dir.path().join("out");
    let o = synth(&[
        "--out",
        out.to_str().unwrap(),
        "--like",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("val.txt"), "{stderr}");
}
