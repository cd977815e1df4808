//! The designed signature of each of the 32 activities (overlap 0).
//!
//! IMU values are hand-set from what a head-worn MPU sees: walking bounces vertically at
//! ~1.8 Hz, stairs bounce slower and harder with the head tilted to the steps, brushing
//! teeth shakes one axis at ~4 Hz, typing is near-static with a tremor, a fall is one large
//! impact followed by a lying pose. Visual details inside a scene (texture angle and
//! frequency, object colour, size, swing) are drawn once per class from a fixed generator,
//! so they do not depend on the user's `--seed`.

use super::activity::{
    ClassId, ClassSignature, ImuSignature, MotionFamily, SceneFamily, VisualSignature,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The designed (overlap 0) signature of `class`.
pub fn design(class: ClassId) -> ClassSignature {
    let (motion, scene, imu) = imu_design(class.label());
    let hands = match motion {
        MotionFamily::Locomotion | MotionFamily::Still => 0,
        MotionFamily::Transition => 1,
        MotionFamily::HeadDown | MotionFamily::ArmWork => 2,
    };
    ClassSignature {
        motion,
        scene,
        hands,
        imu,
        visual: visual_design(class, scene),
    }
}

/// A motionless upright head: the base every activity is built from.
fn still(pitch_deg: f32) -> ImuSignature {
    ImuSignature {
        pitch_deg,
        roll_deg: 0.0,
        freq_hz: 0.3,
        rot_deg: [0.5, 0.3, 0.5],
        rot_h2_deg: [0.0; 3],
        lin_g: [0.002; 3],
        lin_h2_g: [0.0; 3],
        jitter: 0.05,
        wander_deg: [2.0, 1.0, 4.0],
        tremor_g: 0.004,
        event_rate_hz: 0.0,
        event_dur_s: 1.0,
        event_pitch_deg: 0.0,
        event_yaw_deg: 0.0,
        event_spike_g: [0.0; 3],
        event_latch: 0.0,
    }
}

/// Gait: sway at the stride rate, vertical bounce and nod at the step rate (2x).
fn gait(pitch_deg: f32, stride_hz: f32, bounce_g: f32) -> ImuSignature {
    ImuSignature {
        freq_hz: stride_hz,
        rot_deg: [1.0, 2.5, 3.0],
        rot_h2_deg: [2.0, 0.5, 0.5],
        lin_g: [0.03, 0.08, 0.02],
        lin_h2_g: [0.08, 0.02, bounce_g],
        tremor_g: 0.01,
        wander_deg: [3.0, 1.0, 10.0],
        ..still(pitch_deg)
    }
}

/// A rhythmic arm task: the head follows the arm weakly along `lin_g`.
fn arm(pitch_deg: f32, freq_hz: f32, lin_g: [f32; 3], rot_deg: [f32; 3]) -> ImuSignature {
    ImuSignature {
        freq_hz,
        lin_g,
        rot_deg,
        jitter: 0.08,
        wander_deg: [2.0, 1.0, 5.0],
        ..still(pitch_deg)
    }
}

/// Repeated discrete movements of the head and trunk.
fn moves(
    pitch_deg: f32,
    rate_hz: f32,
    dur_s: f32,
    ev_pitch: f32,
    ev_yaw: f32,
    spike: [f32; 3],
) -> ImuSignature {
    ImuSignature {
        event_rate_hz: rate_hz,
        event_dur_s: dur_s,
        event_pitch_deg: ev_pitch,
        event_yaw_deg: ev_yaw,
        event_spike_g: spike,
        ..still(pitch_deg)
    }
}

// One row per class reads better as a table than as rustfmt's blocks.
#[rustfmt::skip]
fn imu_design(label: usize) -> (MotionFamily, SceneFamily, ImuSignature) {
    use MotionFamily::*;
    use SceneFamily::*;
    match label {
        0 => (Locomotion, Outdoor, ImuSignature { rot_h2_deg: [3.0, 0.5, 0.5], ..gait(18.0, 0.75, 0.32) }),
        1 => (Locomotion, Outdoor, ImuSignature { lin_h2_g: [0.12, 0.02, 0.40], ..gait(24.0, 0.85, 0.40) }),
        2 => (Transition, Kitchen, moves(8.0, 0.12, 2.2, -28.0, 0.0, [0.0; 3])),
        3 => (Transition, Living, ImuSignature { event_latch: 1.0, ..moves(5.0, 0.0, 0.8, 85.0, 20.0, [1.6, 1.0, 2.6]) }),
        4 => (HeadDown, Desk, ImuSignature { rot_deg: [0.8, 0.3, 4.0], freq_hz: 0.25, ..still(35.0) }),
        5 => (ArmWork, Chores, arm(45.0, 0.8, [0.02, 0.12, 0.02], [2.0, 2.0, 8.0])),
        6 => (ArmWork, Kitchen, arm(40.0, 2.0, [0.02, 0.01, 0.05], [1.0, 0.3, 0.3])),
        7 => (ArmWork, Chores, arm(40.0, 0.6, [0.12, 0.02, 0.03], [5.0, 1.0, 2.0])),
        8 => (HeadDown, Desk, arm(40.0, 2.5, [0.02, 0.01, 0.005], [0.3, 1.0, 0.5])),
        9 => (ArmWork, Kitchen, arm(35.0, 1.2, [0.01, 0.10, 0.01], [1.0, 4.0, 3.0])),
        10 => (ArmWork, Kitchen, arm(35.0, 3.0, [0.05, 0.04, 0.01], [0.5, 0.5, 1.0])),
        11 => (Still, Outdoor, ImuSignature { wander_deg: [2.0, 1.0, 10.0], ..still(0.0) }),
        12 => (HeadDown, Living, ImuSignature { rot_deg: [1.0, 0.5, 1.0], freq_hz: 0.5, ..still(40.0) }),
        13 => (HeadDown, Desk, ImuSignature { freq_hz: 4.0, lin_g: [0.01, 0.01, 0.004], tremor_g: 0.006, ..still(15.0) }),
        14 => (Transition, Kitchen, ImuSignature { freq_hz: 1.2, lin_g: [0.0, 0.0, 0.03], ..moves(25.0, 0.2, 1.2, -10.0, 0.0, [0.0; 3]) }),
        15 => (ArmWork, Kitchen, arm(30.0, 1.0, [0.04, 0.04, 0.01], [1.0, 1.0, 3.0])),
        16 => (Transition, Desk, moves(15.0, 0.15, 1.5, 25.0, 15.0, [0.1, 0.0, 0.0])),
        17 => (Transition, Kitchen, ImuSignature { lin_h2_g: [0.03, 0.0, 0.1], ..moves(10.0, 0.1, 1.5, 40.0, 0.0, [0.0, 0.0, 0.3]) }),
        18 => (ArmWork, Chores, ImuSignature { event_rate_hz: 0.1, event_pitch_deg: 10.0, ..arm(35.0, 0.5, [0.05, 0.02, 0.01], [6.0, 1.0, 2.0]) }),
        19 => (Locomotion, Outdoor, gait(0.0, 0.9, 0.25)),
        20 => (HeadDown, Desk, moves(30.0, 0.2, 1.0, 0.0, 10.0, [0.0; 3])),
        21 => (ArmWork, Bathroom, arm(10.0, 4.0, [0.01, 0.08, 0.01], [0.3, 0.3, 1.5])),
        22 => (ArmWork, Kitchen, arm(30.0, 1.5, [0.06, 0.01, 0.01], [0.5, 0.5, 3.0])),
        23 => (Locomotion, Chores, ImuSignature { event_rate_hz: 0.08, event_pitch_deg: 30.0, rot_deg: [0.5, 1.0, 1.5], ..gait(10.0, 0.8, 0.2) }),
        24 => (HeadDown, Living, ImuSignature { freq_hz: 3.5, lin_g: [0.01, 0.005, 0.005], ..still(45.0) }),
        25 => (Still, Living, ImuSignature { freq_hz: 0.4, rot_deg: [3.0, 0.5, 1.0], wander_deg: [2.0, 1.0, 15.0], ..still(-3.0) }),
        26 => (Transition, Bathroom, moves(5.0, 0.15, 2.0, 5.0, 25.0, [0.4, 0.0, 0.0])),
        27 => (Locomotion, Outdoor, ImuSignature { lin_g: [0.02, 0.02, 0.05], lin_h2_g: [0.0; 3], rot_deg: [0.5, 3.0, 1.0], tremor_g: 0.08, ..gait(10.0, 1.2, 0.0) }),
        28 => (Transition, Living, moves(10.0, 0.15, 2.5, 30.0, 0.0, [0.1, 0.0, 0.5])),
        29 => (Transition, Bathroom, moves(20.0, 0.2, 1.2, 30.0, 10.0, [0.2, 0.0, 0.0])),
        30 => (Locomotion, Outdoor, ImuSignature { wander_deg: [5.0, 1.0, 20.0], ..gait(5.0, 0.7, 0.15) }),
        _ => (Still, Living, ImuSignature { wander_deg: [1.0, 0.5, 3.0], tremor_g: 0.003, ..still(-2.0) }),
    }
}

/// The background every class of a scene family shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenePalette {
    /// Above the horizon, below it (floor, table top), and the texture's accent colour.
    pub wall: [f32; 3],
    pub floor: [f32; 3],
    pub accent: [f32; 3],
    pub texture: Texture,
    /// Texture angle and frequency the family's classes vary around.
    pub angle_deg: f32,
    pub freq: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Texture {
    Stripes,
    Checker,
    Blobs,
}

#[rustfmt::skip]
pub fn palette(scene: SceneFamily) -> ScenePalette {
    let p = |wall, floor, accent, texture, angle_deg, freq| ScenePalette { wall, floor, accent, texture, angle_deg, freq };
    match scene {
        SceneFamily::Kitchen => p([0.85, 0.82, 0.70], [0.55, 0.40, 0.30], [0.95, 0.95, 0.95], Texture::Checker, 0.0, 4.0),
        SceneFamily::Desk => p([0.70, 0.75, 0.80], [0.45, 0.30, 0.20], [0.20, 0.20, 0.25], Texture::Stripes, 90.0, 3.0),
        SceneFamily::Outdoor => p([0.55, 0.70, 0.90], [0.35, 0.45, 0.25], [0.50, 0.50, 0.45], Texture::Blobs, 30.0, 2.5),
        SceneFamily::Living => p([0.80, 0.70, 0.60], [0.40, 0.25, 0.25], [0.70, 0.30, 0.20], Texture::Stripes, 0.0, 2.0),
        SceneFamily::Chores => p([0.90, 0.90, 0.85], [0.60, 0.55, 0.45], [0.40, 0.35, 0.30], Texture::Checker, 45.0, 3.0),
        SceneFamily::Bathroom => p([0.80, 0.90, 0.90], [0.85, 0.85, 0.85], [0.30, 0.60, 0.70], Texture::Checker, 0.0, 6.0),
    }
}

/// Class-specific look around the family palette, from a generator keyed by the class only.
fn visual_design(class: ClassId, scene: SceneFamily) -> VisualSignature {
    let base = palette(scene);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED_C1A5_0000 + class.label() as u64);
    let mut unit = move || rng.random::<f32>();
    VisualSignature {
        tex_angle_deg: base.angle_deg + 60.0 * (unit() - 0.5),
        tex_freq: base.freq * (0.7 + 0.7 * unit()),
        obj_rgb: [unit(), unit(), unit()].map(|c| 0.15 + 0.8 * c),
        obj_size: 0.08 + 0.10 * unit(),
        obj_amp: 0.05 + 0.15 * unit(),
        obj_y: 0.55 + 0.3 * unit(),
        obj_dir_deg: 180.0 * unit(),
        obj_boxiness: unit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_a_rhythm_and_a_sane_pose() {
        for class in ClassId::all() {
            let d = design(class);
            assert!(
                d.imu.freq_hz > 0.0 && d.imu.freq_hz <= 5.0,
                "{}",
                class.name()
            );
            assert!(d.imu.pitch_deg.abs() <= 60.0, "{}", class.name());
        }
    }

    #[test]
    fn the_examples_of_the_design_hold() {
        let f = |l| design(ClassId::new(l).unwrap());
        assert_eq!(f(6).scene, f(22).scene); // cut_fruits and wash_dish share the kitchen
        assert_eq!(f(8).scene, f(13).scene); // writing and type_pc share the desk
        assert!(f(3).imu.event_latch > 0.5); // a fall does not get up again
        assert!(f(1).imu.lin_h2_g[2] > f(19).imu.lin_h2_g[2]); // stairs bounce harder than walking
    }
}
