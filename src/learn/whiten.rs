//! The shared-covariance class-mean classifier (Fisher's linear discriminant with shrinkage,
//! as streaming LDA does on frozen features, Hayes & Kanan 2020) that `ncm`, `icarl` and
//! `joint` use when `LearnerConfig::shrinkage > 0`, built so that a window with a modality
//! absent is scored from the blocks it has (docs/learning.md).
//!
//! - `Features`: every modality block of an embedding normalized on its own (the encoder
//!   normalizes per modality before fusing, so a block reads the same whether or not the
//!   others are present) and, when the block is wider than the per-block size `q`, projected
//!   to `q` by its own SRHT (`projection.rs`); `h` concatenates the blocks, `P = sum P_b`.
//! - `Stats`: per class the count and mean of `h`, and one within-class scatter `S` (packed
//!   f64), merged chunk by chunk with Chan et al.'s formula (as `prototypes.rs`), so it equals
//!   the batch scatter however the data came (`tests/learn_props.rs`).
//! - `Discriminants`: for every non-empty subset `s` of the blocks, with
//!   `Sigma_s = (1 - a) S_ss / n + a (tr(S_ss) / (n P_s)) I` (shrinkage `a` towards the scaled
//!   identity, Ledoit & Wolf 2004), `w_{s,c} = Sigma_s^-1 mu_{c,s}` and
//!   `b_{s,c} = -mu_{c,s} . w_{s,c} / 2`. A window is scored by the subset of its present
//!   blocks: the Gaussian log-likelihood of what it has, i.e. the shared-covariance model
//!   marginalized exactly over the absent blocks. Scores are log-likelihoods (no logit scale).
//!
//! A training row with a block absent is learned with that block imputed by the mean of the
//! known class means (zero before any class): the scatter stays a within-class scatter and the
//! row's class gets no evidence in the block it lacks.

use super::cholesky::{add_gram, cholesky, cholesky_solve, packed_len, packed_row};
use super::linalg::{dot, normalize_into};
use super::projection::Srht;
use super::snapshot::{Reader, Writer};
use super::{ClassId, LearnError};

/// At most this many modality blocks (the discriminants cost `2^blocks - 1` tables).
pub const MAX_BLOCKS: usize = 8;

/// The per-block feature map (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Block widths in the embedding, in order.
    dims: Vec<usize>,
    /// Per block: its SRHT, or `None` when the block is used as it is.
    projs: Vec<Option<Srht>>,
}

/// The blocks the feature map splits `dim` into: the modality blocks, or the whole.
pub fn blocks(dim: usize, modality_dims: &[usize]) -> Vec<usize> {
    if modality_dims.len() < 2 {
        vec![dim]
    } else {
        modality_dims.to_vec()
    }
}

impl Features {
    pub fn new(dims: &[usize], q: usize, seed: u64) -> Features {
        let projs = dims
            .iter()
            .enumerate()
            .map(|(b, d)| (q < *d).then(|| Srht::new(*d, q, seed ^ (b as u64 + 1) << 32)))
            .collect();
        Features {
            dims: dims.to_vec(),
            projs,
        }
    }

    /// Bytes the projections of `dims` at per-block size `q` keep.
    pub fn bytes(dims: &[usize], q: usize) -> usize {
        dims.iter()
            .filter(|d| q < **d)
            .map(|d| Srht::bytes(*d, q))
            .sum()
    }

    pub fn memory_bytes(&self) -> usize {
        self.projs.iter().flatten().map(Srht::memory_bytes).sum()
    }

    /// Output width of each block, `P_b`.
    pub fn sizes(&self) -> Vec<usize> {
        self.dims
            .iter()
            .zip(&self.projs)
            .map(|(d, p)| p.as_ref().map_or(*d, Srht::size))
            .collect()
    }

    /// `h` of a raw embedding (absent blocks zero) and the bit mask of its present blocks.
    pub fn map(&self, x: &[f32]) -> (Vec<f32>, u32) {
        let (mut h, mut mask, mut at) = (Vec::new(), 0u32, 0);
        for (b, (d, proj)) in self.dims.iter().zip(&self.projs).enumerate() {
            let block = x.get(at..at + d).unwrap_or_default();
            at += d;
            let mut unit = vec![0.0; *d];
            if block.len() == *d && block.iter().any(|v| *v != 0.0) {
                normalize_into(block, &mut unit);
                mask |= 1 << b;
            }
            match proj {
                None => h.extend(unit),
                Some(p) => {
                    let (mut work, mut out) = (vec![0.0; p.padded()], vec![0.0; p.size()]);
                    p.project(&unit, false, &mut work, &mut out);
                    h.extend(out);
                }
            }
        }
        (h, mask)
    }
}

/// Per-class means and the shared within-class scatter of `h` (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    p: usize,
    /// Rows in the scatter.
    count: u64,
    /// Within-class scatter, packed lower triangle, `P x P`.
    scatter: Vec<f64>,
    classes: Vec<ClassId>,
    counts: Vec<u64>,
    /// `classes.len() x P`.
    means: Vec<f32>,
}

impl Stats {
    pub fn new(p: usize) -> Stats {
        Stats {
            p,
            count: 0,
            scatter: vec![0.0; packed_len(p)],
            classes: Vec::new(),
            counts: Vec::new(),
            means: Vec::new(),
        }
    }

    /// Bytes held with `classes` classes: the scatter and, per class, id, count and mean.
    pub fn bytes(p: usize, classes: usize) -> usize {
        8 * packed_len(p) + classes * (4 + 8 + 4 * p)
    }

    pub fn memory_bytes(&self) -> usize {
        8 * self.scatter.len()
            + 4 * self.classes.len()
            + 8 * self.counts.len()
            + 4 * self.means.len()
    }

    pub fn classes(&self) -> &[ClassId] {
        &self.classes
    }

    /// The mean of the class means (zero before any class): what an absent block is imputed by.
    pub fn grand_mean(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.p];
        let n = self.classes.len().max(1) as f32;
        for m in self.means.chunks_exact(self.p) {
            out.iter_mut().zip(m).for_each(|(o, v)| *o += v / n);
        }
        out
    }

    /// Folds `rows` (`n x P`) of `class` in: the chunk's own scatter around its mean plus
    /// Chan et al.'s `n_a n_b / n delta delta^T` for the shift of the class mean.
    pub fn update(&mut self, class: ClassId, rows: &[f32]) {
        let (p, n_b) = (self.p, rows.len() / self.p.max(1));
        if n_b == 0 {
            return;
        }
        let c = self.class_index(class);
        let mut mean_b = vec![0.0f64; p];
        for r in rows.chunks_exact(p) {
            mean_b
                .iter_mut()
                .zip(r)
                .for_each(|(m, v)| *m += f64::from(*v));
        }
        mean_b.iter_mut().for_each(|m| *m /= n_b as f64);
        let centered: Vec<f64> = rows
            .chunks_exact(p)
            .flat_map(|r| r.iter().zip(&mean_b).map(|(v, m)| f64::from(*v) - m))
            .collect();
        add_gram(&mut self.scatter, &centered, n_b, p);
        let (n_a, mean_a) = (self.counts[c], &mut self.means[c * p..(c + 1) * p]);
        let n = (n_a + n_b as u64) as f64;
        let delta: Vec<f64> = mean_b
            .iter()
            .zip(mean_a.iter())
            .map(|(b, a)| b - f64::from(*a))
            .collect();
        add_rank_one(&mut self.scatter, &delta, n_a as f64 * n_b as f64 / n);
        let w = n_b as f64 / n;
        mean_a
            .iter_mut()
            .zip(&delta)
            .for_each(|(m, d)| *m = (f64::from(*m) + d * w) as f32);
        self.counts[c] += n_b as u64;
        self.count += n_b as u64;
    }

    /// Makes `class` known (zero count) if it is not, so classes keep the order they are added
    /// in; returns its index.
    pub fn class_index(&mut self, class: ClassId) -> usize {
        self.classes
            .iter()
            .position(|k| *k == class)
            .unwrap_or_else(|| {
                self.classes.push(class);
                self.counts.push(0);
                self.means.resize(self.means.len() + self.p, 0.0);
                self.classes.len() - 1
            })
    }

    /// Drops a class's mean; its rows stay in the scatter (still a within-class estimate).
    pub fn remove(&mut self, class: ClassId) {
        if let Some(c) = self.classes.iter().position(|k| *k == class) {
            self.classes.remove(c);
            self.counts.remove(c);
            self.means.drain(c * self.p..(c + 1) * self.p);
        }
    }

    pub fn write(&self, w: &mut Writer) {
        w.u64(self.count);
        w.f64s(&self.scatter);
        w.u32s(&self.classes);
        w.u64s(&self.counts);
        w.f32s(&self.means);
    }

    pub fn read(r: &mut Reader, p: usize) -> Result<Stats, LearnError> {
        let count = r.u64("whitened count")?;
        let scatter = r.f64s("whitened scatter")?;
        r.expect_len("whitened scatter", scatter.len(), packed_len(p))?;
        let classes = r.u32s("whitened classes")?;
        let counts = r.u64s("whitened class counts")?;
        r.expect_len("whitened class counts", counts.len(), classes.len())?;
        let means = r.f32s("whitened means")?;
        r.expect_len("whitened means", means.len(), classes.len() * p)?;
        Ok(Stats {
            p,
            count,
            scatter,
            classes,
            counts,
            means,
        })
    }
}

/// `packed += w v v^T` on the lower triangle.
fn add_rank_one(packed: &mut [f64], v: &[f64], w: f64) {
    for (i, vi) in v.iter().enumerate() {
        let row = &mut packed[packed_row(i)..packed_row(i) + i + 1];
        row.iter_mut().zip(v).for_each(|(s, vj)| *s += w * vi * vj);
    }
}

/// Per subset of blocks, one row per class: `w_{s,c}` then `b_{s,c}` (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Discriminants {
    sizes: Vec<usize>,
    classes: usize,
    /// Table `mask - 1` for every block mask `1..2^blocks`, `classes x (P_s + 1)`.
    tables: Vec<Vec<f32>>,
}

/// Offsets in `h` and widths of the blocks in `mask`.
fn spans(sizes: &[usize], mask: u32) -> Vec<(usize, usize)> {
    let mut at = 0;
    let mut out = Vec::new();
    for (b, p) in sizes.iter().enumerate() {
        if mask >> b & 1 == 1 {
            out.push((at, *p));
        }
        at += p;
    }
    out
}

fn masks(blocks: usize) -> std::ops::Range<u32> {
    1..1u32 << blocks.min(MAX_BLOCKS)
}

impl Discriminants {
    /// Bytes of the tables for blocks of output widths `sizes` and `classes` classes.
    pub fn bytes(sizes: &[usize], classes: usize) -> usize {
        let per_class: usize = masks(sizes.len())
            .map(|m| spans(sizes, m).iter().map(|s| s.1).sum::<usize>() + 1)
            .sum();
        4 * classes * per_class
    }

    /// Classes (rows per table).
    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn memory_bytes(&self) -> usize {
        4 * self.tables.iter().map(Vec::len).sum::<usize>()
    }

    /// No class yet.
    pub fn empty(sizes: &[usize]) -> Discriminants {
        Discriminants {
            sizes: sizes.to_vec(),
            classes: 0,
            tables: masks(sizes.len()).map(|_| Vec::new()).collect(),
        }
    }

    /// Solves every subset's discriminants from `stats` with shrinkage `a` (module docs).
    pub fn solve(stats: &Stats, sizes: &[usize], a: f32) -> Discriminants {
        let tables = masks(sizes.len())
            .map(|m| match stats.classes.is_empty() {
                true => Vec::new(),
                false => solve_subset(stats, &spans(sizes, m), f64::from(a)),
            })
            .collect();
        Discriminants {
            sizes: sizes.to_vec(),
            classes: stats.classes.len(),
            tables,
        }
    }

    /// One score per class for features `h` whose present blocks are `mask` (zeros when none).
    pub fn scores(&self, h: &[f32], mask: u32) -> Vec<f32> {
        let Some(table) = mask
            .checked_sub(1)
            .and_then(|i| self.tables.get(i as usize))
        else {
            return vec![0.0; self.classes];
        };
        let hs: Vec<f32> = spans(&self.sizes, mask)
            .iter()
            .flat_map(|(at, p)| h.get(*at..at + p).unwrap_or_default().iter().copied())
            .collect();
        let width = hs.len() + 1;
        table
            .chunks_exact(width)
            .map(|row| dot(&row[..hs.len()], &hs) + row[hs.len()])
            .collect()
    }

    /// Drops class row `c` of every table.
    pub fn remove_row(&mut self, c: usize) {
        let classes = self.classes;
        for t in &mut self.tables {
            let width = t.len() / classes.max(1);
            if c < classes {
                t.drain(c * width..(c + 1) * width);
            }
        }
        self.classes = classes.saturating_sub(1);
    }

    pub fn write(&self, w: &mut Writer) {
        w.usize(self.classes);
        self.tables.iter().for_each(|t| w.f32s(t));
    }

    pub fn read(r: &mut Reader, sizes: &[usize]) -> Result<Discriminants, LearnError> {
        let classes = r.usize("whitened discriminant classes")?;
        let mut tables = Vec::new();
        for m in masks(sizes.len()) {
            let width: usize = spans(sizes, m).iter().map(|s| s.1).sum::<usize>() + 1;
            let t = r.f32s("whitened discriminants")?;
            r.expect_len(
                "whitened discriminants",
                t.len(),
                classes.saturating_mul(width),
            )?;
            tables.push(t);
        }
        Ok(Discriminants {
            sizes: sizes.to_vec(),
            classes,
            tables,
        })
    }
}

/// The table of one subset: `Sigma_s^-1 mu_s` per class and its bias.
fn solve_subset(stats: &Stats, spans: &[(usize, usize)], a: f64) -> Vec<f32> {
    let idx: Vec<usize> = spans.iter().flat_map(|(at, p)| *at..at + p).collect();
    let (ps, c) = (idx.len(), stats.classes.len());
    let mut sigma = sub_covariance(stats, &idx, a);
    let mut b = vec![0.0f64; ps * c];
    for (k, m) in stats.means.chunks_exact(stats.p).enumerate() {
        idx.iter()
            .enumerate()
            .for_each(|(i, j)| b[i * c + k] = f64::from(m[*j]));
    }
    let mean_t = b.clone();
    if cholesky(&mut sigma, ps).is_ok() {
        cholesky_solve(&sigma, ps, &mut b, c);
    }
    let mut table = Vec::with_capacity(c * (ps + 1));
    for k in 0..c {
        let w: Vec<f64> = (0..ps).map(|i| b[i * c + k]).collect();
        let bias = -0.5 * (0..ps).map(|i| w[i] * mean_t[i * c + k]).sum::<f64>();
        table.extend(w.iter().map(|v| *v as f32));
        table.push(bias as f32);
    }
    table
}

/// `Sigma_s` (module docs) as a dense row-major lower triangle; the identity when there is no
/// scatter yet, so a first class is scored by its plain Euclidean distance.
fn sub_covariance(stats: &Stats, idx: &[usize], a: f64) -> Vec<f64> {
    let ps = idx.len();
    let n = stats.count.max(1) as f64;
    let mut sigma = vec![0.0f64; ps * ps];
    for (i, gi) in idx.iter().enumerate() {
        for (j, gj) in idx.iter().enumerate().take(i + 1) {
            let (hi, lo) = if gi >= gj { (*gi, *gj) } else { (*gj, *gi) };
            sigma[i * ps + j] = (1.0 - a) * stats.scatter[packed_row(hi) + lo] / n;
        }
    }
    let trace: f64 = (0..ps).map(|i| sigma[i * ps + i]).sum::<f64>() / (1.0 - a).max(1e-12);
    let ridge = if trace > 0.0 {
        a * trace / ps as f64
    } else {
        1.0
    };
    (0..ps).for_each(|i| sigma[i * ps + i] += ridge);
    sigma
}
