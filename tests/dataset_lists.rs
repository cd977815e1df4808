//! The list parser on the real UESTC-MMEA-CL split lists (shared/data/uestc-mmea-cl,
//! next to the worktree). They must parse completely: 4553 / 653 / 1316 clips, no error.

use mmcl::dataset::layout::CLASS_NAMES;
use mmcl::dataset::{Dataset, Split};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn real_lists_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/uestc-mmea-cl");
    assert!(
        dir.join("train.txt").is_file(),
        "the real UESTC-MMEA-CL split lists are expected at {} (shared/data next to the checkout); \
         this test needs them and does not skip",
        dir.display()
    );
    dir
}

#[test]
fn real_split_lists_parse_without_errors() {
    let dataset = Dataset::open(&real_lists_dir()).unwrap();
    let errors: Vec<String> = dataset
        .list_errors()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    let counts: Vec<usize> = Split::ALL
        .iter()
        .map(|&s| dataset.split(s).count())
        .collect();
    assert_eq!(counts, [4553, 653, 1316]);
    // Every class appears, each clip's id is `<class folder>/<clip>` with its label's folder.
    let labels: BTreeSet<u32> = dataset.clips().iter().map(|c| c.label()).collect();
    assert_eq!(labels.len(), CLASS_NAMES.len());
    for clip in dataset.clips() {
        assert!(
            clip.id()
                .starts_with(&format!("{}/{}_", clip.class_name(), clip.class_name())),
            "{}",
            clip.id()
        );
        assert!(
            clip.entry().num_frames > 0 && clip.entry().num_sensor_rows > 0,
            "{}",
            clip.id()
        );
    }
}

#[test]
fn real_list_prefix_is_remapped_to_the_root() {
    let root = real_lists_dir();
    let dataset = Dataset::open(&root).unwrap();
    let first = dataset.split(Split::Train).next().unwrap();
    // train.txt line 1: yourdataset_path/data/27_open_close_door/27_open_close_door_2022_05_05_16_05_51 418 419 26
    assert_eq!(
        first.id(),
        "27_open_close_door/27_open_close_door_2022_05_05_16_05_51"
    );
    assert_eq!(
        (
            first.label(),
            first.entry().num_frames,
            first.entry().num_sensor_rows
        ),
        (26, 418, 419)
    );
    assert_eq!(
        first.sensor_path(),
        root.join("sensor/27_open_close_door/27_open_close_door_2022_05_05_16_05_51.csv")
    );
}
