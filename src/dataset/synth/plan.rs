//! The plan: every clip the generator will write (split, class, name, counts, missing
//! modality, stuck-sensor run), fixed before the first file is touched.
//!
//! Fresh clips last 8-14 s (200-350 sensor rows at 25 Hz) and get fewer frames than rows
//! (`--video-fps`); each class is split about 70/10/20 into train/val/test, keeping at
//! least one clip in every split (hence `--clips-per-class` >= 3). Under `--like` the
//! clips, labels, splits and sensor rows come from real list files instead.

use super::activity::ClassId;
use super::like::ListEntry;
use super::params::{Knobs, SynthParams};
use super::rng::{clip_rng, uniform, Stream};
use crate::dataset::layout::NOMINAL_RATE_HZ;
use rand::Rng;

pub use crate::dataset::layout::Split;

/// The modality a clip lacks on disk (its file or folder is simply not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Video,
    Sensor,
}

/// A run of sensor rows that repeat the run's first row (a stuck sensor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropout {
    pub start: usize,
    pub len: usize,
}

/// One clip to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipPlan {
    pub split: Split,
    pub class: ClassId,
    /// The clip's position among its class's clips; with the seed and label it keys the
    /// clip's random streams.
    pub index: usize,
    pub name: String,
    pub sensor_rows: usize,
    pub frames: usize,
    pub missing: Option<Missing>,
    pub dropout: Option<Dropout>,
}

impl ClipPlan {
    /// Clip length by the timing rule shared with the reader: rows / 25 Hz.
    pub fn duration_s(&self) -> f64 {
        self.sensor_rows as f64 / NOMINAL_RATE_HZ
    }

    /// Time of 0-based frame `j`: `j * duration / frames`.
    pub fn frame_time_s(&self, j: usize) -> f64 {
        j as f64 * self.duration_s() / self.frames as f64
    }
}

/// The clips of a fresh dataset, in list order (split, then class, then clip).
pub fn fresh(params: &SynthParams, classes: usize, per_class: usize) -> Vec<ClipPlan> {
    let (val, test) = split_sizes(per_class);
    let mut clips: Vec<ClipPlan> = ClassId::all()
        .take(classes)
        .flat_map(|class| {
            (0..per_class).map(move |index| {
                let split = if index < per_class - val - test {
                    Split::Train
                } else if index < per_class - test {
                    Split::Val
                } else {
                    Split::Test
                };
                let mut rng = clip_rng(params.seed(), class.label(), index, Stream::Plan);
                let rows = (uniform(&mut rng, 8.0, 14.0) * NOMINAL_RATE_HZ as f32).round() as usize;
                let frames = frames_for(rows as f64 / NOMINAL_RATE_HZ, params.knobs().video_fps);
                let name = format!("{}_synth_{index:04}", class.name());
                finish(
                    ClipPlan {
                        split,
                        class,
                        index,
                        name,
                        sensor_rows: rows,
                        frames,
                        missing: None,
                        dropout: None,
                    },
                    params.knobs(),
                    &mut rng,
                )
            })
        })
        .collect();
    clips.sort_by_key(|c| c.split); // stable: keeps class and clip order inside a split
    clips
}

/// Validation and test clips of a class of `n` (>= 3): about 10 % and 20 %, at least one each.
pub fn split_sizes(n: usize) -> (usize, usize) {
    let val = ((n as f64 * 0.1).round() as usize).max(1);
    let test = ((n as f64 * 0.2).round() as usize).max(1);
    (val, test)
}

/// The clips of real list files, in their list order, with the user's knobs.
pub fn like(params: &SynthParams, lists: [Vec<ListEntry>; 3]) -> Vec<ClipPlan> {
    let mut seen = [0usize; crate::dataset::layout::CLASS_NAMES.len()];
    let mut out = Vec::new();
    for (split, entries) in Split::ALL.into_iter().zip(lists) {
        for e in entries {
            let slot = &mut seen[e.class.label()];
            let index = *slot;
            *slot += 1;
            let mut rng = clip_rng(params.seed(), e.class.label(), index, Stream::Plan);
            let frames = frames_for(
                e.rgb_frames as f64 / NOMINAL_RATE_HZ,
                params.knobs().video_fps,
            );
            let clip = ClipPlan {
                split,
                class: e.class,
                index,
                name: e.clip,
                sensor_rows: e.sensor_rows,
                frames,
                missing: None,
                dropout: None,
            };
            out.push(finish(clip, params.knobs(), &mut rng));
        }
    }
    out
}

/// Frames of a clip of `duration_s` at `fps`: rounded, at least 2.
pub fn frames_for(duration_s: f64, fps: f32) -> usize {
    ((duration_s * fps as f64).round() as usize).max(2)
}

/// Draws the clip's missing modality and stuck-sensor run.
fn finish(mut clip: ClipPlan, knobs: &Knobs, rng: &mut impl Rng) -> ClipPlan {
    if rng.random::<f32>() < knobs.missing_rate {
        clip.missing = Some(if rng.random::<bool>() {
            Missing::Video
        } else {
            Missing::Sensor
        });
    }
    if rng.random::<f32>() < knobs.dropout_rate && clip.sensor_rows > 1 {
        let len = rng.random_range(10..=50).min(clip.sensor_rows / 2).max(1);
        let start = rng.random_range(0..clip.sensor_rows - len);
        clip.dropout = Some(Dropout { start, len });
    }
    clip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_keep_every_split() {
        assert_eq!(split_sizes(3), (1, 1));
        assert_eq!(split_sizes(10), (1, 2));
        assert_eq!(split_sizes(100), (10, 20));
    }

    #[test]
    fn frames_follow_fps_with_a_floor_of_two() {
        assert_eq!(frames_for(10.0, 3.0), 30);
        assert_eq!(frames_for(0.1, 3.0), 2);
    }

    #[test]
    fn frame_times_span_the_clip() {
        let clip = ClipPlan {
            split: Split::Train,
            class: ClassId::new(0).unwrap(),
            index: 0,
            name: "c".into(),
            sensor_rows: 250,
            frames: 30,
            missing: None,
            dropout: None,
        };
        assert_eq!(clip.frame_time_s(0), 0.0);
        assert!((clip.frame_time_s(15) - 5.0).abs() < 1e-9);
        assert!(clip.frame_time_s(29) < clip.duration_s());
    }

    fn fresh_plan(classes: usize, per_class: usize, seed: u64, fps: f32) -> Vec<ClipPlan> {
        let knobs = Knobs {
            video_fps: fps,
            missing_rate: 0.5,
            dropout_rate: 0.5,
            ..Knobs::default()
        };
        let raw = super::super::params::RawParams {
            classes: Some(classes),
            clips_per_class: Some(per_class),
            like: None,
            seed,
            size: 16,
            knobs,
        };
        let params = SynthParams::new(raw).unwrap();
        fresh(&params, classes, per_class)
    }

    proptest::proptest! {
        #[test]
        fn fresh_plans_keep_their_invariants(classes in 1usize..=32, per_class in 3usize..40, seed: u64, fps in 0.5f32..25.0) {
            let clips = fresh_plan(classes, per_class, seed, fps);
            proptest::prop_assert_eq!(clips.len(), classes * per_class);
            proptest::prop_assert!(clips.windows(2).all(|w| w[0].split <= w[1].split), "list order: split first");
            for class in ClassId::all().take(classes) {
                for split in Split::ALL {
                    proptest::prop_assert!(clips.iter().any(|c| c.class == class && c.split == split), "{:?} {:?} empty", class, split);
                }
            }
            for c in &clips {
                proptest::prop_assert!((200..=350).contains(&c.sensor_rows), "rows {}", c.sensor_rows);
                proptest::prop_assert!(c.frames >= 2 && c.frames <= c.sensor_rows);
                if let Some(d) = c.dropout {
                    proptest::prop_assert!(d.len >= 1 && d.start + d.len <= c.sensor_rows);
                }
            }
        }
    }
}
