//! Per-clip random streams: the reason the generator is byte-for-byte deterministic.
//!
//! Each clip owns a ChaCha8 key made of (seed, class label, clip index), and each concern
//! (the plan, the IMU, the frames) reads its own stream of that key. Nothing depends on the
//! order clips are generated in, so threads cannot change the output, and changing one
//! concern (say, the renderer) does not shift the random numbers of another.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The independent random streams of one clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Duration, missing modality, sensor dropout: decided before any file is written.
    Plan = 1,
    /// Subject variation, motion, sensor noise.
    Imu = 2,
    /// Lighting, hue, object placement, pixel noise, JPEG quality.
    Video = 3,
}

/// The generator of `stream` for clip `index` of class `label` under `seed`.
pub fn clip_rng(seed: u64, label: usize, index: usize, stream: Stream) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(label as u64).to_le_bytes());
    key[16..24].copy_from_slice(&(index as u64).to_le_bytes());
    key[24..].copy_from_slice(b"mmclsyn1");
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream as u64);
    rng
}

/// Uniform in [lo, hi).
pub fn uniform(rng: &mut impl Rng, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.random::<f32>()
}

/// Standard normal by Box-Muller (one of the pair; simplicity over speed).
pub fn normal(rng: &mut impl Rng) -> f32 {
    let u1 = 1.0 - rng.random::<f32>(); // in (0, 1]: ln stays finite
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_numbers_and_streams_differ() {
        let draw = |s| clip_rng(7, 3, 11, s).random::<u64>();
        assert_eq!(draw(Stream::Imu), draw(Stream::Imu));
        assert_ne!(draw(Stream::Imu), draw(Stream::Video));
        assert_ne!(
            clip_rng(7, 3, 11, Stream::Imu).random::<u64>(),
            clip_rng(7, 3, 12, Stream::Imu).random::<u64>()
        );
    }

    #[test]
    fn normal_has_unit_spread() {
        let mut rng = clip_rng(1, 0, 0, Stream::Plan);
        let xs: Vec<f32> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }
}
