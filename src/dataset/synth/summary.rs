//! What a run wrote, counted the way `mmcl dataset check --json` counts a dataset, so the
//! two can be compared field by field.

use super::plan::{ClipPlan, Missing, Split};
use serde::Serialize;
use std::path::Path;

/// Clips of one split and how many lack each modality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SplitCounts {
    pub clips: usize,
    pub missing_video: usize,
    pub missing_sensor: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Splits {
    pub train: SplitCounts,
    pub val: SplitCounts,
    pub test: SplitCounts,
}

impl Splits {
    pub fn get(&self, split: Split) -> &SplitCounts {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
            Split::Test => &self.test,
        }
    }

    fn get_mut(&mut self, split: Split) -> &mut SplitCounts {
        match split {
            Split::Train => &mut self.train,
            Split::Val => &mut self.val,
            Split::Test => &mut self.test,
        }
    }
}

/// Clips of one class over all splits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassCount {
    pub label: usize,
    pub name: String,
    pub clips: usize,
}

/// The `--json` report of `mmcl synth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub root: String,
    pub splits: Splits,
    /// Classes with at least one clip, by label.
    pub classes: Vec<ClassCount>,
    /// Frames and sensor rows actually written (missing modalities excluded).
    pub frames: u64,
    pub sensor_rows: u64,
    /// Files written (lists, CSVs, JPEGs) and their total size in bytes.
    pub files: u64,
    pub bytes: u64,
}

impl Summary {
    /// Counts `clips` as planned; `files` and `bytes` come from the writer.
    pub fn new(root: &Path, clips: &[ClipPlan], files: u64, bytes: u64) -> Summary {
        let mut splits = Splits::default();
        let mut classes: Vec<ClassCount> = Vec::new();
        let (mut frames, mut sensor_rows) = (0u64, 0u64);
        for clip in clips {
            let s = splits.get_mut(clip.split);
            s.clips += 1;
            match clip.missing {
                Some(Missing::Video) => s.missing_video += 1,
                Some(Missing::Sensor) => s.missing_sensor += 1,
                None => {}
            }
            if clip.missing != Some(Missing::Video) {
                frames += clip.frames as u64;
            }
            if clip.missing != Some(Missing::Sensor) {
                sensor_rows += clip.sensor_rows as u64;
            }
            match classes.iter_mut().find(|c| c.label == clip.class.label()) {
                Some(c) => c.clips += 1,
                None => classes.push(ClassCount {
                    label: clip.class.label(),
                    name: clip.class.name().to_string(),
                    clips: 1,
                }),
            }
        }
        classes.sort_by_key(|c| c.label);
        Summary {
            root: root.display().to_string(),
            splits,
            classes,
            frames,
            sensor_rows,
            files,
            bytes,
        }
    }

    /// The one-line human summary printed without `--json`.
    pub fn line(&self) -> String {
        let s = &self.splits;
        let clips = s.train.clips + s.val.clips + s.test.clips;
        let missing_video = s.train.missing_video + s.val.missing_video + s.test.missing_video;
        let missing_sensor = s.train.missing_sensor + s.val.missing_sensor + s.test.missing_sensor;
        format!(
            "wrote {clips} clips (train {}, val {}, test {}) of {} classes to {}: {} files, {:.1} MB; {} frames, {} sensor rows; {missing_video} clips without video, {missing_sensor} without sensor",
            s.train.clips, s.val.clips, s.test.clips, self.classes.len(), self.root, self.files, self.bytes as f64 / 1e6, self.frames, self.sensor_rows
        )
    }
}
