//! Where things live in a UESTC-MMEA-CL layout root, the 32 class names it was published
//! with, and how a class folder `<n>_<name>` gives its label (any user's names).
//!
//! ```text
//! ROOT/train.txt val.txt test.txt        <path> <num_rgb_frames> <num_sensor_rows> <label>
//! ROOT/video/<k_name>/<clip>/img_000001.jpg   (or 000001.jpg; 1-based)
//! ROOT/video/<k_name>/<clip>.mp4              (alternative to the frame folder)
//! ROOT/sensor/<k_name>/<clip>.csv             6 columns of raw MPU counts, no header
//! ```
//! The list path's last two parts are `<k_name>/<clip>`; any prefix before them
//! is machine-specific and is remapped to ROOT.

use std::path::{Path, PathBuf};

/// The split list files, in report order.
pub const SPLITS: [&str; 3] = ["train", "val", "test"];

/// One of the three splits; each has its own list file `ROOT/<name>.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    /// All splits in report order (the order of `SPLITS`).
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// Whether `Dataset::open` refuses a root without this split's list.
    /// The published protocol trains on `train` and reports on `test`; `val`
    /// is only used for model selection, so a root may leave it out.
    pub fn is_required(self) -> bool {
        !matches!(self, Split::Val)
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The 32 activity folders of UESTC-MMEA-CL; label = index = folder number - 1.
pub const CLASS_NAMES: [&str; 32] = [
    "1_upstairs",
    "2_downstairs",
    "3_drinking",
    "4_fall",
    "5_reading",
    "6_sweep_floor",
    "7_cut_fruits",
    "8_mop_floor",
    "9_writing",
    "10_wipe_table",
    "11_wash_hand",
    "12_standing",
    "13_play_phone",
    "14_type_pc",
    "15_eating",
    "16_cooking",
    "17_pick_up_phone",
    "18_drop_trush",
    "19_fold_clothes",
    "20_walking",
    "21_play_card",
    "22_brush_teeth",
    "23_wash_dish",
    "24_moving_sth",
    "25_type_phone",
    "26_chat",
    "27_open_close_door",
    "28_ride_bike",
    "29_sit_stand",
    "30_take_drop_sth",
    "31_shopping",
    "32_watch_TV",
];

/// Raw MPU accelerometer counts per g (±4 g range).
pub const ACC_COUNTS_PER_G: f32 = 8192.0;
/// Raw MPU gyroscope counts per °/s (±2000 °/s range).
pub const GYRO_COUNTS_PER_DPS: f32 = 16.4;
/// Nominal sensor row rate: one row per video frame at ~25 Hz.
pub const NOMINAL_RATE_HZ: f64 = 25.0;
/// Kernel of the median filter the reference loader applies to sensor columns.
pub const MEDIAN_KERNEL: usize = 5;

/// The list file of one split.
pub fn list_path(root: &Path, split: &str) -> PathBuf {
    root.join(format!("{split}.txt"))
}

/// The frame folder of a clip.
pub fn frames_dir(root: &Path, class_dir: &str, clip: &str) -> PathBuf {
    root.join("video").join(class_dir).join(clip)
}

/// The `.mp4` of a clip (used when the frame folder is absent).
pub fn mp4_path(root: &Path, class_dir: &str, clip: &str) -> PathBuf {
    root.join("video")
        .join(class_dir)
        .join(format!("{clip}.mp4"))
}

/// The raw sensor CSV of a clip.
pub fn sensor_path(root: &Path, class_dir: &str, clip: &str) -> PathBuf {
    root.join("sensor")
        .join(class_dir)
        .join(format!("{clip}.csv"))
}

/// Class folders are numbered `1..=MAX_CLASSES` (labels `0..MAX_CLASSES`).
pub const MAX_CLASSES: usize = 65_536;

/// The label of a class folder `<n>_<name>`: n - 1 (`"3_drinking"` -> 2, a user's own
/// `"1_standing"` -> 0). The 32 UESTC-MMEA-CL folders are such names; any other name works
/// too. `None` unless n is a number in `1..=MAX_CLASSES` (no sign, no leading zero) followed
/// by `_` and a non-empty name.
pub fn class_label(class_dir: &str) -> Option<usize> {
    let (number, name) = class_dir.split_once('_')?;
    let plain = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && !number.starts_with('0');
    let n: usize = number.parse().ok().filter(|_| plain && !name.is_empty())?;
    (1..=MAX_CLASSES).contains(&n).then(|| n - 1)
}

/// The file name the generator writes for 1-based frame `index`.
pub fn frame_file_name(index: usize) -> String {
    format!("img_{index:06}.jpg")
}
