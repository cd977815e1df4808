//! What the learner benchmarks share: class-structured embeddings shaped like the encoder's,
//! and small helpers. (A directory module, so that Cargo does not take it for a bench.)

#![allow(dead_code)] // each bench uses its own part

use mmcl::embedding::Embedding;
use mmcl::learn::rng::Rng;

/// Class-structured embeddings: a low-rank latent `shared + ALPHA * class mean + noise` (rank
/// `LATENT`, like real pooled CNN/IMU features, whose energy sits in a few hundred directions)
/// mapped to D dims, plus a little isotropic noise, then normalized per modality block.
pub struct Synth {
    dim: usize,
    mixing: Vec<f32>,
    shared: Vec<f32>,
    means: Vec<Vec<f32>>,
    rng: Rng,
}

const LATENT: usize = 64;
const ALPHA: f32 = 0.3;

impl Synth {
    pub fn new(dim: usize, classes: usize, seed: u64) -> Synth {
        let mut rng = Rng::new(seed);
        let gauss =
            |rng: &mut Rng, n: usize| (0..n).map(|_| rng.gaussian() as f32).collect::<Vec<f32>>();
        let mixing = gauss(&mut rng, dim * LATENT);
        let shared = gauss(&mut rng, LATENT);
        let means = (0..classes).map(|_| gauss(&mut rng, LATENT)).collect();
        Synth {
            dim,
            mixing,
            shared,
            means,
            rng,
        }
    }

    pub fn window(&mut self, class: usize) -> Embedding {
        let z: Vec<f32> = (0..LATENT)
            .map(|k| self.shared[k] + ALPHA * self.means[class][k] + self.rng.gaussian() as f32)
            .collect();
        let scale = 1.0 / (LATENT as f32).sqrt();
        let mut v: Vec<f32> = self
            .mixing
            .chunks_exact(LATENT)
            .map(|row| {
                scale * row.iter().zip(&z).map(|(a, b)| a * b).sum::<f32>()
                    + 0.5 * self.rng.gaussian() as f32
            })
            .collect();
        let split = 1280.min(self.dim / 2);
        for block in [0..split, split..self.dim] {
            let n = v[block.clone()].iter().map(|x| x * x).sum::<f32>().sqrt();
            v[block].iter_mut().for_each(|x| *x /= n);
        }
        Embedding::new(v, self.dim).expect("finite")
    }

    pub fn class(&mut self, class: usize, n: usize) -> (Vec<Embedding>, Vec<u32>) {
        (
            (0..n).map(|_| self.window(class)).collect(),
            vec![class as u32; n],
        )
    }
}

/// A usize from the environment, `default` when unset or unreadable.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The value at fraction `q` of the sorted `xs` (0.5: the median).
pub fn quantile(xs: &mut [f64], q: f64) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let i = ((xs.len() as f64 - 1.0) * q).round() as usize;
    xs[i.min(xs.len() - 1)]
}
