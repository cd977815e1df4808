//! The frames of a clip: what a head-worn camera would see during the activity.
//!
//! The scene is a procedural texture on a wall and a floor (or table) split by the
//! horizon, coloured by the class's scene family; the camera pans, tilts and rolls with the
//! same head motion the IMU rows read (looking down shows more floor, a yaw swing slides
//! the texture sideways). Hands or tools are coloured shapes swinging with the activity's
//! beat. Per clip the lighting, hue, hand colour, size and position, pixel noise and JPEG quality
//! vary.

use super::activity::{ClassSignature, VisualSignature};
use super::motion::Motion;
use super::rng::uniform;
use super::table::{palette, ScenePalette, Texture};
use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;
use rand::Rng;
use std::f32::consts::TAU;

/// Camera field of view, degrees per image width: converts head angles to texture shifts.
const FOV_DEG: f32 = 60.0;
/// Texture contrast below and above the horizon.
const FLOOR_CONTRAST: f32 = 0.5;
const WALL_CONTRAST: f32 = 0.25;

/// One clip's look: the class's scene and objects with this clip's variation.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipLook {
    scene: ScenePalette,
    visual: VisualSignature,
    hands: u8,
    /// Rest position of the first hand (the second mirrors it), image fractions.
    rest: [f32; 2],
    /// Per-clip light level and hue rotation (a 3x3 matrix on RGB).
    gain: f32,
    hue: [[f32; 3]; 3],
    /// Amplitude of per-pixel sensor noise, in [0, 1] colour units.
    pixel_noise: f32,
    /// JPEG quality of every frame of the clip.
    pub quality: u8,
}

impl ClipLook {
    pub fn draw(sig: &ClassSignature, rng: &mut impl Rng) -> ClipLook {
        let scene = ScenePalette {
            angle_deg: sig.visual.tex_angle_deg,
            freq: sig.visual.tex_freq,
            ..palette(sig.scene)
        };
        // Another subject's hands, another knife: colour and size vary per clip.
        let visual = VisualSignature {
            obj_rgb: sig
                .visual
                .obj_rgb
                .map(|c| (c + uniform(rng, -0.08, 0.08)).clamp(0.0, 1.0)),
            obj_size: sig.visual.obj_size * uniform(rng, 0.8, 1.2),
            ..sig.visual
        };
        ClipLook {
            scene,
            visual,
            hands: sig.hands,
            rest: [
                uniform(rng, 0.25, 0.45),
                sig.visual.obj_y + uniform(rng, -0.1, 0.1),
            ],
            gain: uniform(rng, 0.7, 1.3),
            hue: hue_rotation(uniform(rng, -15.0, 15.0).to_radians()),
            pixel_noise: uniform(rng, 0.01, 0.04),
            quality: rng.random_range(60..=90),
        }
    }
}

/// The RGB bytes (row-major, `size` x `size`) of the frame at `t` seconds.
pub fn render(look: &ClipLook, motion: &Motion, t: f32, size: u32, rng: &mut impl Rng) -> Vec<u8> {
    let [pitch, roll, yaw] = motion.angles_deg(t);
    let (sin_r, cos_r) = roll.to_radians().sin_cos();
    let hands = hand_centres(look, motion.beat(t));
    let n = size as usize;
    let mut out = Vec::with_capacity(n * n * 3);
    for py in 0..n {
        for px in 0..n {
            let (x, y) = ((px as f32 + 0.5) / n as f32, (py as f32 + 0.5) / n as f32);
            let (cx, cy) = (x - 0.5, y - 0.5);
            let u = cx * cos_r - cy * sin_r + yaw / FOV_DEG;
            let v = cx * sin_r + cy * cos_r + pitch / FOV_DEG;
            let colour = match hands.iter().any(|h| inside(&look.visual, *h, x, y)) {
                true => look.visual.obj_rgb,
                false => background(&look.scene, u, v),
            };
            let grain = look.pixel_noise * (2.0 * rng.random::<f32>() - 1.0);
            out.extend(tone(look, colour, grain));
        }
    }
    out
}

/// The wall above the horizon (v < 0) and the floor below, both textured.
fn background(scene: &ScenePalette, u: f32, v: f32) -> [f32; 3] {
    let (base, contrast) = if v > 0.0 {
        (scene.floor, FLOOR_CONTRAST)
    } else {
        (scene.wall, WALL_CONTRAST)
    };
    let (sin_a, cos_a) = scene.angle_deg.to_radians().sin_cos();
    let (a, b) = (u * cos_a + v * sin_a, -u * sin_a + v * cos_a);
    let w = TAU * scene.freq;
    let p = match scene.texture {
        Texture::Stripes => 0.5 + 0.5 * (w * a).sin(),
        Texture::Checker => f32::from((w * a).sin() * (w * b).sin() > 0.0),
        Texture::Blobs => {
            0.5 + 0.25
                * ((w * a + 2.0 * (0.5 * w * b).sin()).sin()
                    + (1.3 * w * b + 1.5 * (0.5 * w * a).cos()).sin())
        }
    };
    [0, 1, 2].map(|i| base[i] + (scene.accent[i] - base[i]) * p * contrast)
}

/// Centres of the visible hands at beat value `beat`; the second hand mirrors the first.
fn hand_centres(look: &ClipLook, beat: f32) -> Vec<[f32; 2]> {
    let (sin_d, cos_d) = look.visual.obj_dir_deg.to_radians().sin_cos();
    let swing = look.visual.obj_amp * beat;
    let first = [look.rest[0] + swing * cos_d, look.rest[1] + swing * sin_d];
    let second = [
        1.0 - look.rest[0] - swing * cos_d,
        look.rest[1] + swing * sin_d,
    ];
    [first, second]
        .into_iter()
        .take(look.hands as usize)
        .collect()
}

fn inside(visual: &VisualSignature, centre: [f32; 2], x: f32, y: f32) -> bool {
    let (dx, dy) = ((x - centre[0]).abs(), (y - centre[1]).abs());
    if visual.obj_boxiness > 0.5 {
        dx <= visual.obj_size && dy <= 0.6 * visual.obj_size
    } else {
        dx * dx + dy * dy <= visual.obj_size * visual.obj_size
    }
}

/// Hue, light and grain applied to a linear colour, then quantised.
fn tone(look: &ClipLook, c: [f32; 3], grain: f32) -> [u8; 3] {
    let m = &look.hue;
    [0, 1, 2].map(|i| {
        let v = (m[i][0] * c[0] + m[i][1] * c[1] + m[i][2] * c[2]) * look.gain + grain;
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    })
}

/// Rotation by `theta` about the grey axis (1, 1, 1): shifts hue, keeps grey grey.
fn hue_rotation(theta: f32) -> [[f32; 3]; 3] {
    let (s, c) = theta.sin_cos();
    let k = (1.0 - c) / 3.0;
    let q = s / 3.0f32.sqrt();
    [
        [c + k, k - q, k + q],
        [k + q, c + k, k - q],
        [k - q, k + q, c + k],
    ]
}

/// The JPEG bytes of one frame. The encoder is deterministic for a fixed quality.
pub fn encode_jpeg(rgb: &[u8], size: u32, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality).encode(
        rgb,
        size,
        size,
        ExtendedColorType::Rgb8,
    )?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::activity::{signature, ClassId};
    use super::super::rng::{clip_rng, Stream};
    use super::*;

    fn frame(label: usize, t: f32) -> Vec<u8> {
        let sig = signature(ClassId::new(label).unwrap(), 0.5);
        let mut rng = clip_rng(2, label, 0, Stream::Video);
        let look = ClipLook::draw(&sig, &mut rng);
        let motion = Motion::draw(&sig.imu, 10.0, &mut clip_rng(2, label, 0, Stream::Imu));
        render(&look, &motion, t, 32, &mut rng)
    }

    #[test]
    fn hue_rotation_keeps_grey_and_is_identity_at_zero() {
        let m = hue_rotation(0.4);
        let grey: Vec<f32> = m.iter().map(|r| r.iter().sum::<f32>() * 0.5).collect();
        assert!(grey.iter().all(|g| (g - 0.5).abs() < 1e-6));
        let id = hue_rotation(0.0);
        assert!((id[0][0] - 1.0).abs() < 1e-6 && id[0][1].abs() < 1e-6);
    }

    #[test]
    fn frames_have_the_size_and_move() {
        let (a, b) = (frame(19, 1.0), frame(19, 2.0));
        assert_eq!(a.len(), 32 * 32 * 3);
        assert_ne!(a, b);
    }

    #[test]
    fn scenes_differ_between_families() {
        // Mean colour of walking (outdoor) vs cooking (kitchen).
        let mean = |f: Vec<u8>| {
            [0, 1, 2].map(|c| f.iter().skip(c).step_by(3).map(|&v| v as f32).sum::<f32>() / 1024.0)
        };
        let (a, b) = (mean(frame(19, 1.0)), mean(frame(15, 1.0)));
        assert!(
            (0..3).map(|i| (a[i] - b[i]).abs()).sum::<f32>() > 10.0,
            "{a:?} vs {b:?}"
        );
    }

    #[test]
    fn jpeg_is_deterministic_and_decodes() {
        let rgb = frame(6, 0.5);
        let (a, b) = (
            encode_jpeg(&rgb, 32, 80).unwrap(),
            encode_jpeg(&rgb, 32, 80).unwrap(),
        );
        assert_eq!(a, b);
        let img = image::load_from_memory(&a).unwrap();
        assert_eq!((img.width(), img.height()), (32, 32));
    }
}
