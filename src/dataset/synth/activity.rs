//! Class signatures: what makes each of the 32 activities recognisable, and how much of
//! that is shared.
//!
//! Every class belongs to one [`MotionFamily`] (how the head moves: its IMU signature) and,
//! independently, to one [`SceneFamily`] (where it happens: its background). The two
//! groupings cut across each other, so classes that share a scene are told apart by the IMU
//! and classes that move alike are told apart by the scene. `--overlap` pulls each class's
//! IMU signature toward its motion-family mean and its visual signature toward its
//! scene-family mean (0 = the designed signatures, 1 = identical within a family).

use super::table;
use crate::dataset::layout::CLASS_NAMES;

/// A class label known to be one of the 32 UESTC-MMEA-CL activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(usize);

impl ClassId {
    /// The class of `label` (folder number - 1), or `None` past the 32 activities.
    pub fn new(label: usize) -> Option<Self> {
        (label < CLASS_NAMES.len()).then_some(Self(label))
    }

    pub fn label(self) -> usize {
        self.0
    }

    /// The class folder, e.g. `20_walking`.
    pub fn name(self) -> &'static str {
        CLASS_NAMES[self.0]
    }

    pub fn all() -> impl Iterator<Item = ClassId> {
        (0..CLASS_NAMES.len()).map(ClassId)
    }
}

/// How the head moves during an activity; classes of one family have similar IMU rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotionFamily {
    Locomotion,
    Still,
    HeadDown,
    ArmWork,
    Transition,
}

/// Where an activity happens; classes of one family share a background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneFamily {
    Kitchen,
    Desk,
    Outdoor,
    Living,
    Chores,
    Bathroom,
}

/// Linear interpolation, the one operation blending and family means need.
pub trait Lerp: Copy {
    fn lerp(self, other: Self, t: f32) -> Self;
}

impl Lerp for f32 {
    fn lerp(self, other: Self, t: f32) -> Self {
        // This form is exact at both ends: overlap 1 makes a family truly identical.
        self * (1.0 - t) + other * t
    }
}

impl Lerp for [f32; 3] {
    fn lerp(self, other: Self, t: f32) -> Self {
        [0, 1, 2].map(|i| self[i].lerp(other[i], t))
    }
}

macro_rules! lerp_fields {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl Lerp for $ty {
            fn lerp(self, other: Self, t: f32) -> Self {
                $ty { $($field: self.$field.lerp(other.$field, t)),* }
            }
        }
    };
}

/// The designed head motion of an activity (device axes: x forward, y left, z up).
///
/// Oscillations come as a fundamental at `freq_hz` and a second harmonic; walking, for
/// example, sways at the stride rate and bounces vertically at twice it (the step rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImuSignature {
    /// Mean head pitch (positive = looking down) and roll, in degrees.
    pub pitch_deg: f32,
    pub roll_deg: f32,
    /// Fundamental frequency of the activity's rhythm.
    pub freq_hz: f32,
    /// Head rotation amplitude (pitch, roll, yaw) at the fundamental and at 2x, degrees.
    pub rot_deg: [f32; 3],
    pub rot_h2_deg: [f32; 3],
    /// Linear acceleration amplitude (x, y, z) at the fundamental and at 2x, in g.
    pub lin_g: [f32; 3],
    pub lin_h2_g: [f32; 3],
    /// Relative frequency spread of the rhythm (beats make the amplitude wander).
    pub jitter: f32,
    /// Slow looking-around amplitude (pitch, roll, yaw), degrees.
    pub wander_deg: [f32; 3],
    /// Broadband body tremor or vehicle vibration, g (gyro follows at ~40 deg/s per g).
    pub tremor_g: f32,
    /// Discrete movements (reach, bend, turn, sit down): expected count per second.
    pub event_rate_hz: f32,
    pub event_dur_s: f32,
    pub event_pitch_deg: f32,
    pub event_yaw_deg: f32,
    /// Acceleration impulse at the height of an event, g.
    pub event_spike_g: [f32; 3],
    /// Above 0.5: one event that does not return (a fall ends lying down).
    pub event_latch: f32,
}

lerp_fields!(ImuSignature {
    pitch_deg,
    roll_deg,
    freq_hz,
    rot_deg,
    rot_h2_deg,
    lin_g,
    lin_h2_g,
    jitter,
    wander_deg,
    tremor_g,
    event_rate_hz,
    event_dur_s,
    event_pitch_deg,
    event_yaw_deg,
    event_spike_g,
    event_latch,
});

/// The designed look of an activity inside its scene: texture and hands or tools.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VisualSignature {
    /// Texture orientation (degrees) and frequency (cycles per image width).
    pub tex_angle_deg: f32,
    pub tex_freq: f32,
    /// Colour of the moving objects (hands, tools), linear RGB in [0, 1].
    pub obj_rgb: [f32; 3],
    /// Object half-size, swing amplitude and rest height, as fractions of the image.
    pub obj_size: f32,
    pub obj_amp: f32,
    pub obj_y: f32,
    /// Direction of the swing, degrees from the image x axis.
    pub obj_dir_deg: f32,
    /// Below 0.5 a disk, above a box.
    pub obj_boxiness: f32,
}

lerp_fields!(VisualSignature {
    tex_angle_deg,
    tex_freq,
    obj_rgb,
    obj_size,
    obj_amp,
    obj_y,
    obj_dir_deg,
    obj_boxiness,
});

/// Everything the generator needs to know about one class at a given overlap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassSignature {
    pub motion: MotionFamily,
    pub scene: SceneFamily,
    /// Number of hands or tools in view (0 for locomotion and still activities).
    pub hands: u8,
    pub imu: ImuSignature,
    pub visual: VisualSignature,
}

/// The signature of `class` with `overlap` in [0, 1] applied.
pub fn signature(class: ClassId, overlap: f32) -> ClassSignature {
    let design = table::design(class);
    let imu_mean = mean(
        ClassId::all()
            .map(table::design)
            .filter(|d| d.motion == design.motion)
            .map(|d| d.imu),
    );
    let vis_mean = mean(
        ClassId::all()
            .map(table::design)
            .filter(|d| d.scene == design.scene)
            .map(|d| d.visual),
    );
    ClassSignature {
        imu: design.imu.lerp(imu_mean, overlap),
        visual: design.visual.lerp(vis_mean, overlap),
        ..design
    }
}

/// Running mean by interpolation: after k items the mean moves 1/k of the way to the k-th.
fn mean<T: Lerp>(items: impl Iterator<Item = T>) -> T {
    let mut items = items;
    let first = items
        .next()
        .expect("every family has at least its own class");
    items
        .enumerate()
        .fold(first, |acc, (k, x)| acc.lerp(x, 1.0 / (k as f32 + 2.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(label: usize) -> ClassId {
        ClassId::new(label).unwrap()
    }

    #[test]
    fn class_id_refuses_past_32() {
        assert!(ClassId::new(31).is_some());
        assert!(ClassId::new(32).is_none());
        assert_eq!(class(19).name(), "20_walking");
    }

    #[test]
    fn mean_of_three_is_the_average() {
        let m = mean([1.0f32, 2.0, 6.0].into_iter());
        assert!((m - 3.0).abs() < 1e-6);
    }

    #[test]
    fn full_overlap_makes_a_family_identical_and_zero_keeps_the_design() {
        let (a, b) = (class(5), class(7)); // sweep_floor, mop_floor: both ArmWork and Chores
        assert_eq!(signature(a, 1.0).imu, signature(b, 1.0).imu);
        assert_eq!(signature(a, 1.0).visual, signature(b, 1.0).visual);
        assert_ne!(signature(a, 0.0).imu, signature(b, 0.0).imu);
        assert_eq!(signature(a, 0.0).imu, table::design(a).imu);
    }

    #[test]
    fn families_cut_across_each_other() {
        // Every scene family holds more than one motion family, so the IMU is needed.
        for scene in ClassId::all().map(|c| table::design(c).scene) {
            let motions: Vec<_> = ClassId::all()
                .map(table::design)
                .filter(|d| d.scene == scene)
                .map(|d| d.motion)
                .collect();
            assert!(
                motions.iter().any(|m| *m != motions[0]),
                "{scene:?} has one motion family"
            );
        }
    }
}
