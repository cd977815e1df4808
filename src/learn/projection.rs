//! The analytic head's fixed random projection: a subsampled randomized Hadamard transform
//! (SRHT, Ailon & Chazelle 2009), `h = S H D x` (optionally through a ReLU, as RanPAC): random signs `D`, the unnormalized
//! Walsh-Hadamard transform `H` over the embedding zero-padded to a power of two `N`, and `P`
//! distinct rows `S`. Each output is `sum_j ±x_j`, so on a unit-norm embedding it has unit
//! variance like a Gaussian random feature (RanPAC uses Gaussian rows; orthogonal rows are at
//! least as good, Yu et al. 2016), but it costs `N log2 N` adds per embedding instead of
//! `P x D` multiply-adds, and it is regenerated from the seed: what it keeps is `D` sign bits
//! and `P` row indices.

use super::rng::Rng;

#[derive(Debug, Clone, PartialEq)]
pub struct Srht {
    dim: usize,
    n: usize,
    /// One sign bit per input dimension (1 = negate).
    signs: Vec<u64>,
    /// The `P` Hadamard rows kept, ascending.
    rows: Vec<u32>,
}

impl Srht {
    /// The largest P this projection supports for `dim` (distinct rows of an N x N transform).
    pub fn max_size(dim: usize) -> usize {
        dim.max(1).next_power_of_two()
    }

    /// Bytes an `Srht` of size `p` keeps.
    pub fn bytes(dim: usize, p: usize) -> usize {
        dim.div_ceil(64) * 8 + 4 * p
    }

    /// `p <= max_size(dim)` (checked by the caller).
    pub fn new(dim: usize, p: usize, seed: u64) -> Srht {
        let mut rng = Rng::new(seed ^ 0x5352_4854_0000_0001);
        let n = Srht::max_size(dim);
        let signs = (0..dim.div_ceil(64)).map(|_| rng.next_u64()).collect();
        let mut all: Vec<u32> = (0..n as u32).collect();
        for i in 0..p.min(n) {
            let j = i + rng.below((n - i) as u64) as usize;
            all.swap(i, j);
        }
        let mut rows = all[..p.min(n)].to_vec();
        rows.sort_unstable();
        Srht {
            dim,
            n,
            signs,
            rows,
        }
    }

    pub fn memory_bytes(&self) -> usize {
        8 * self.signs.len() + 4 * self.rows.len()
    }

    pub fn size(&self) -> usize {
        self.rows.len()
    }

    /// Padded transform length `N`.
    pub fn padded(&self) -> usize {
        self.n
    }

    /// `out = S H D xn`, through a ReLU when `relu`, for one normalized embedding; `work` is
    /// scratch of length `N`.
    pub fn project(&self, xn: &[f32], relu: bool, work: &mut [f32], out: &mut [f32]) {
        for (i, (w, x)) in work.iter_mut().zip(xn).enumerate() {
            let negate = (self.signs[i / 64] >> (i % 64)) & 1 == 1;
            *w = if negate { -x } else { *x };
        }
        work[self.dim..].iter_mut().for_each(|w| *w = 0.0);
        fwht(work);
        let floor = if relu { 0.0 } else { f32::NEG_INFINITY };
        for (o, r) in out.iter_mut().zip(&self.rows) {
            *o = work[*r as usize].max(floor);
        }
    }
}

/// In-place unnormalized fast Walsh-Hadamard transform (length a power of two). The first
/// three butterfly stages run as one radix-8 step per chunk of 8 (they are too narrow to
/// vectorize one by one); the wider stages vectorize as written.
pub fn fwht(x: &mut [f32]) {
    let mut h = 1;
    if x.len() >= 8 {
        x.chunks_exact_mut(8).for_each(radix8);
        h = 8;
    }
    while h < x.len() {
        for block in x.chunks_exact_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
                let (s, d) = (*a + *b, *a - *b);
                *a = s;
                *b = d;
            }
        }
        h *= 2;
    }
}

/// Stages h = 1, 2, 4 of the transform on 8 values.
fn radix8(v: &mut [f32]) {
    let mut t = [0.0f32; 8];
    t.copy_from_slice(v);
    for h in [1, 2, 4] {
        let mut u = [0.0f32; 8];
        for i in 0..8 {
            u[i] = if i & h == 0 {
                t[i] + t[i + h]
            } else {
                t[i - h] - t[i]
            };
        }
        t = u;
    }
    v.copy_from_slice(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fwht_matches_the_hadamard_matrix() {
        let mut x = [1.0, 2.0, 3.0, 4.0];
        fwht(&mut x);
        assert_eq!(x, [10.0, -2.0, -4.0, 0.0]);
        // Length 16 against H_16[i][j] = (-1)^popcount(i & j) (also checks the radix-8 step).
        let v: Vec<f32> = (0..16).map(|i| (i * i % 7) as f32 - 3.0).collect();
        let mut y = v.clone();
        fwht(&mut y);
        for (i, yi) in y.iter().enumerate() {
            let expected: f32 = v
                .iter()
                .enumerate()
                .map(|(j, vj)| {
                    if (i & j).count_ones() % 2 == 0 {
                        *vj
                    } else {
                        -vj
                    }
                })
                .sum();
            assert_eq!(*yi, expected);
        }
    }

    #[test]
    fn projection_is_deterministic_and_preserves_norms_before_relu() {
        let (a, b) = (Srht::new(5, 8, 9), Srht::new(5, 8, 9));
        assert_eq!(a, b);
        assert_ne!(a, Srht::new(5, 8, 10));
        let x = [0.6, 0.0, 0.8, 0.0, 0.0];
        let mut work = vec![0.0; a.padded()];
        let mut out = vec![0.0; 8];
        a.project(&x, true, &mut work, &mut out);
        // H is sqrt(N) times orthonormal: the squared outputs before relu sum to N |x|^2.
        let energy: f32 = work.iter().map(|v| v * v).sum();
        assert!((energy - 8.0).abs() < 1e-5);
        assert!(out.iter().all(|v| *v >= 0.0));
        assert_eq!(a.memory_bytes(), Srht::bytes(5, 8));
    }
}
