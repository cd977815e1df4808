//! Per-class prototypes: count, mean and (optionally) per-dimension variance, updated
//! incrementally so a class's statistics never need its past embeddings.
//!
//! Each update computes the chunk's statistics in f64 (two passes) and merges them with Chan,
//! Golub & LeVeque's pairwise formula, which is Welford's update for a chunk of any size: the
//! result equals the batch statistics over everything seen, however the data was chunked
//! (property-tested in `tests/learn_props.rs`). Stored in f32 to keep them inside the budget.

use super::snapshot::{Reader, Writer};
use super::{ClassId, LearnError};

/// One class's running statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Prototype {
    pub class: ClassId,
    pub count: u64,
    pub mean: Vec<f32>,
    /// Sum of squared deviations from the mean, per dimension (empty without variance).
    pub m2: Vec<f32>,
}

impl Prototype {
    /// Population variance per dimension (`m2 / count`); empty without variance.
    pub fn variance(&self) -> Vec<f32> {
        let n = self.count.max(1) as f32;
        self.m2.iter().map(|m| (m / n).max(0.0)).collect()
    }
}

/// The prototypes of every known class, in first-learned order.
#[derive(Debug, Clone, PartialEq)]
pub struct Prototypes {
    dim: usize,
    variance: bool,
    classes: Vec<Prototype>,
}

impl Prototypes {
    pub fn new(dim: usize, variance: bool) -> Prototypes {
        Prototypes {
            dim,
            variance,
            classes: Vec::new(),
        }
    }

    /// Bytes one class costs: class id, count, mean (and m2), as stored.
    pub fn bytes_per_class(dim: usize, variance: bool) -> usize {
        4 + 8 + 4 * dim * if variance { 2 } else { 1 }
    }

    /// Exact bytes held, from the buffers' lengths.
    pub fn memory_bytes(&self) -> usize {
        self.classes
            .iter()
            .map(|p| 12 + 4 * (p.mean.len() + p.m2.len()))
            .sum()
    }

    pub fn get(&self, class: ClassId) -> Option<&Prototype> {
        self.classes.iter().find(|p| p.class == class)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Prototype> {
        self.classes.iter()
    }

    pub fn remove(&mut self, class: ClassId) -> bool {
        let before = self.classes.len();
        self.classes.retain(|p| p.class != class);
        before != self.classes.len()
    }

    /// Folds `rows` (each of length `dim`) into `class`'s statistics, creating it if new.
    pub fn update(&mut self, class: ClassId, rows: &[&[f32]]) {
        if rows.is_empty() {
            return;
        }
        let (n_b, mean_b, m2_b) = chunk_stats(rows, self.dim);
        let idx = match self.classes.iter().position(|p| p.class == class) {
            Some(i) => i,
            None => {
                let m2 = if self.variance {
                    vec![0.0; self.dim]
                } else {
                    Vec::new()
                };
                self.classes.push(Prototype {
                    class,
                    count: 0,
                    mean: vec![0.0; self.dim],
                    m2,
                });
                self.classes.len() - 1
            }
        };
        merge(&mut self.classes[idx], n_b, &mean_b, &m2_b);
    }

    pub fn write(&self, w: &mut Writer) {
        w.usize(self.classes.len());
        for p in &self.classes {
            w.u32(p.class);
            w.u64(p.count);
            w.f32s(&p.mean);
            w.f32s(&p.m2);
        }
    }

    pub fn read(r: &mut Reader, dim: usize, variance: bool) -> Result<Prototypes, LearnError> {
        let n = r.usize("prototype count")?;
        let mut classes = Vec::new();
        for _ in 0..n {
            let (class, count) = (r.u32("prototype class")?, r.u64("prototype count")?);
            let (mean, m2) = (r.f32s("prototype mean")?, r.f32s("prototype m2")?);
            r.expect_len("prototype mean", mean.len(), dim)?;
            r.expect_len("prototype m2", m2.len(), if variance { dim } else { 0 })?;
            classes.push(Prototype {
                class,
                count,
                mean,
                m2,
            });
        }
        Ok(Prototypes {
            dim,
            variance,
            classes,
        })
    }
}

/// Count, mean and sum of squared deviations of a chunk, in f64 (two passes).
fn chunk_stats(rows: &[&[f32]], dim: usize) -> (u64, Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let mut mean = vec![0.0f64; dim];
    for r in rows {
        mean.iter_mut()
            .zip(r.iter())
            .for_each(|(m, v)| *m += f64::from(*v));
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut m2 = vec![0.0f64; dim];
    for r in rows {
        for ((s, v), m) in m2.iter_mut().zip(r.iter()).zip(&mean) {
            *s += (f64::from(*v) - m).powi(2);
        }
    }
    (rows.len() as u64, mean, m2)
}

/// Chan et al.'s merge: `delta = mean_b - mean_a`, `mean = mean_a + delta n_b / n`,
/// `m2 = m2_a + m2_b + delta^2 n_a n_b / n`.
fn merge(p: &mut Prototype, n_b: u64, mean_b: &[f64], m2_b: &[f64]) {
    let (n_a, n) = (p.count as f64, (p.count + n_b) as f64);
    let w = n_b as f64 / n;
    let cross = n_a * n_b as f64 / n;
    for (i, m) in p.mean.iter_mut().enumerate() {
        let delta = mean_b[i] - f64::from(*m);
        if let Some(s) = p.m2.get_mut(i) {
            *s = (f64::from(*s) + m2_b[i] + delta * delta * cross) as f32;
        }
        *m = (f64::from(*m) + delta * w) as f32;
    }
    p.count += n_b;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_chunks_equal_one_and_bytes_are_exact() {
        let rows: Vec<Vec<f32>> = (0..7).map(|i| vec![i as f32, (i * i) as f32]).collect();
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let mut one = Prototypes::new(2, true);
        one.update(5, &refs);
        let mut two = Prototypes::new(2, true);
        two.update(5, &refs[..3]);
        two.update(5, &refs[3..]);
        let (a, b) = (one.get(5).unwrap(), two.get(5).unwrap());
        assert_eq!(a.count, 7);
        assert!((a.mean[0] - 3.0).abs() < 1e-6 && (b.mean[0] - 3.0).abs() < 1e-6);
        assert!((a.variance()[0] - 4.0).abs() < 1e-5 && (b.variance()[0] - 4.0).abs() < 1e-5);
        assert_eq!(one.memory_bytes(), Prototypes::bytes_per_class(2, true));
        assert!(one.remove(5) && one.memory_bytes() == 0 && !one.remove(5));
    }
}
