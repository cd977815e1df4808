//! `analytic`: a closed-form ridge head on fixed random features (RanPAC, McDonnell et al.
//! 2023; ACIL, Zhuang et al. 2022). `h = S H D x̂` (`projection.rs`; through a ReLU when
//! `relu`), accumulated `G = sum h h^T` and `Q = sum h y^T` (one-hot), head
//! `W = (G + lambda I)^-1 Q` by Cholesky. With modality blocks every embedding is accumulated
//! with its modality-absent variants too (`modality::augment`), so the one ridge solution
//! serves windows with a modality absent. With `ridge_select`, lambda is chosen at every
//! `learn` as RanPAC does per task: the statistics without a held-out fifth of the batch (every
//! fifth embedding, with its variants) are solved for each of `RIDGE_CANDIDATES`, the one
//! that classifies the held-out rows best wins (ties: the larger), then everything is
//! accumulated and solved with it. Nothing of the choice is kept but the head it solved.
//! `G` and `Q` are sums, so after any sequence of batches `W` is exactly the batch ridge solution
//! on all data seen (property-tested against an independent solve). New classes add columns to
//! `Q`. Forgetting a class drops its `Q` and `W` columns; its samples stay in `G` as rows whose
//! target is "none of the known classes", i.e. still exactly a batch ridge solution.
//!
//! Memory (exact, all counted): `G` as a packed lower triangle in f64 (P(P+1)/2 x 8 B: f64
//! because `G`'s condition number grows with the data and f32 would cost ~1e-2 relative error),
//! `Q` (C x P f64), `W` (C x P f32), class ids, and the projection's sign bits and row indices.
//! With `projection = 0`, P is the largest multiple of 64 that fits the budget for
//! `planned_classes`: at D = 2304, 32 classes and the default budget, P = 512
//! (G 1 050 624 B + Q 131 072 B + W 65 536 B + 128 B + projection 2 336 B = 1 249 696 B).
//! Without the ReLU the features are a linear map of rank at most D, so P stops at D rounded
//! up to 64: more rows would cost O(P^3) per solve and add no information.

use super::{Batch, Strategy};
use crate::embedding::Embedding;
use crate::learn::bisect::largest_fitting;
use crate::learn::cholesky::{add_gram, cholesky, cholesky_solve, packed_len, unpack_lower};
use crate::learn::config::{LearnerConfig, RIDGE_CANDIDATES};
use crate::learn::linalg::{dot, normalize_into};
use crate::learn::modality::augment;
use crate::learn::projection::Srht;
use crate::learn::snapshot::{Reader, Writer};
use crate::learn::{ClassId, LearnError};

/// Bytes and floating-point operations of one `learn` of `windows` embeddings (see `cost`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cost {
    pub bytes: usize,
    pub flops_project: u64,
    pub flops_accumulate: u64,
    pub flops_solve: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analytic {
    dim: usize,
    config: LearnerConfig,
    proj: Srht,
    classes: Vec<ClassId>,
    /// `G`, packed lower triangle, P x P.
    gram: Vec<f64>,
    /// `Q^T`, one row of P per class.
    q: Vec<f64>,
    /// `W^T`, one row of P per class.
    head: Vec<f32>,
}

/// Bytes the analytic state costs for projection size `p` and `classes` classes.
fn state_bytes(dim: usize, p: usize, classes: usize) -> usize {
    8 * packed_len(p) + classes * (4 + 12 * p) + Srht::bytes(dim, p)
}

/// The automatic P (module docs); 0 when not even P = 1 fits.
fn auto_size(dim: usize, config: &LearnerConfig) -> usize {
    let fits = |p: usize| state_bytes(dim, p, config.planned_classes) <= config.budget_bytes;
    let most = if config.relu {
        Srht::max_size(dim)
    } else {
        Srht::max_size(dim).min(dim.div_ceil(64) * 64)
    };
    let p = largest_fitting(most, fits);
    if p >= 64 {
        p - p % 64
    } else {
        p
    }
}

impl Analytic {
    pub fn new(dim: usize, config: &LearnerConfig) -> Result<Analytic, LearnError> {
        let p = if config.projection == 0 {
            auto_size(dim, config)
        } else {
            config.projection
        };
        if p > Srht::max_size(dim) {
            let why = format!(
                "at most {} (the padded dimension) for dimension {dim}",
                Srht::max_size(dim)
            );
            return Err(LearnError::BadParameter {
                name: "projection".into(),
                value: p.to_string(),
                why,
            });
        }
        if p == 0 {
            let needed = state_bytes(dim, 1, config.planned_classes);
            let what = format!(
                "ridge statistics for P = 1 and {} planned classes",
                config.planned_classes
            );
            return Err(LearnError::BudgetTooSmall {
                strategy: "analytic".into(),
                budget: config.budget_bytes,
                needed,
                what,
            });
        }
        let proj = Srht::new(dim, p, config.seed);
        let (classes, q, head) = (Vec::new(), Vec::new(), Vec::new());
        Ok(Analytic {
            dim,
            config: config.clone(),
            proj,
            classes,
            gram: vec![0.0; packed_len(p)],
            q,
            head,
        })
    }

    pub fn read(
        r: &mut Reader,
        dim: usize,
        config: &LearnerConfig,
    ) -> Result<Analytic, LearnError> {
        let p = r.usize("projection size")?;
        let mut a = Analytic::new(
            dim,
            &LearnerConfig {
                projection: p,
                ..config.clone()
            },
        )?;
        a.config = config.clone();
        a.classes = r.u32s("analytic classes")?;
        a.gram = r.f64s("analytic gram")?;
        a.q = r.f64s("analytic q")?;
        a.head = r.f32s("analytic head")?;
        r.expect_len("analytic gram", a.gram.len(), packed_len(p))?;
        r.expect_len("analytic q", a.q.len(), a.classes.len() * p)?;
        r.expect_len("analytic head", a.head.len(), a.classes.len() * p)?;
        Ok(a)
    }

    /// Makes `class` known (a zero column of `Q` and `W`) if it is not; `learn` does this for
    /// new labels, the benchmark calls it to time the steps of a learn separately.
    pub fn add_class(&mut self, class: ClassId) {
        if !self.classes.contains(&class) {
            let p = self.projection_size();
            self.classes.push(class);
            self.q.resize(self.q.len() + p, 0.0);
            self.head.resize(self.head.len() + p, 0.0);
        }
    }

    /// The random-feature size P.
    pub fn projection_size(&self) -> usize {
        self.proj.size()
    }

    /// Random features `h` of one embedding (any finite vector of the learner's dimension).
    pub fn features(&self, x: &[f32]) -> Vec<f32> {
        let mut xn = vec![0.0; self.dim];
        normalize_into(x, &mut xn);
        self.project_rows(&xn)
    }

    /// Random features of a batch, `len x P`.
    pub fn project(&self, embeddings: &[Embedding]) -> Vec<f32> {
        let mut xn = vec![0.0; embeddings.len() * self.dim];
        for (e, o) in embeddings.iter().zip(xn.chunks_exact_mut(self.dim)) {
            normalize_into(e.as_slice(), o);
        }
        self.project_rows(&xn)
    }

    /// Random features of normalized rows (`dim` wide), `rows x P`.
    fn project_rows(&self, xn: &[f32]) -> Vec<f32> {
        let p = self.projection_size();
        let mut out = vec![0.0; xn.len() / self.dim * p];
        let mut work = vec![0.0; self.proj.padded()];
        for (x, o) in xn.chunks_exact(self.dim).zip(out.chunks_exact_mut(p)) {
            self.proj.project(x, self.config.relu, &mut work, o);
        }
        out
    }

    /// The batch's rows with their modality-absent variants, projected, split into the rows
    /// fitted and the rows held out for choosing lambda (every fifth embedding, only with
    /// `ridge_select` and at least five embeddings).
    fn split_features(&self, batch: &Batch) -> [(Vec<f32>, Vec<ClassId>); 2] {
        let xn = batch.normalized(self.dim);
        let hold = self.config.ridge_select && batch.labels.len() >= 5;
        let mut parts = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
        for (i, (row, label)) in xn.chunks_exact(self.dim).zip(batch.labels).enumerate() {
            let part = &mut parts[usize::from(hold && i % 5 == 4)];
            part.0.extend_from_slice(row);
            part.1.push(*label);
        }
        parts.map(|(x, y)| {
            let (x, y) = augment(x, y, &self.config.modality_dims);
            (self.project_rows(&x), y)
        })
    }

    /// The lambda of `RIDGE_CANDIDATES` whose solution of `self`'s statistics classifies
    /// `held` best (ties: the larger).
    fn choose_ridge(&self, held: &(Vec<f32>, Vec<ClassId>)) -> f64 {
        let p = self.projection_size();
        let mut best = (self.config.ridge, -1i64);
        for lambda in RIDGE_CANDIDATES {
            let mut trial = self.clone();
            trial.solve_with(lambda);
            let correct = held
                .0
                .chunks_exact(p)
                .zip(&held.1)
                .filter(|(h, y)| trial.best_class(h) == Some(**y))
                .count() as i64;
            if correct >= best.1 {
                best = (lambda, correct);
            }
        }
        best.0
    }

    /// The best-scoring class for random features `h`.
    fn best_class(&self, h: &[f32]) -> Option<ClassId> {
        let p = self.projection_size();
        let scores = self.head.chunks_exact(p).map(|w| dot(w, h));
        let best = scores
            .enumerate()
            .fold(None, |b: Option<(usize, f32)>, (i, s)| match b {
                Some((_, top)) if top >= s => b,
                _ => Some((i, s)),
            });
        best.and_then(|(i, _)| self.classes.get(i).copied())
    }

    /// `G += H^T H` (`cholesky::add_gram`) and `Q[c] += h` per row.
    /// Labels must already be known classes.
    pub fn accumulate(&mut self, h: &[f32], labels: &[ClassId]) {
        let p = self.projection_size();
        let hd: Vec<f64> = h.iter().map(|v| f64::from(*v)).collect();
        add_gram(&mut self.gram, &hd, labels.len(), p);
        for (row, label) in hd.chunks_exact(p).zip(labels) {
            if let Some(c) = self.classes.iter().position(|k| k == label) {
                self.q[c * p..(c + 1) * p]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(q, v)| *q += v);
            }
        }
    }

    /// `W = (G + lambda I)^-1 Q` with the configured lambda (`solve_with`).
    pub fn solve(&mut self) {
        self.solve_with(self.config.ridge);
    }

    /// `W = (G + lambda I)^-1 Q`. If rounding ever made the factorization fail, lambda is raised
    /// tenfold until it succeeds (the head is left as it was if even 1e6 x lambda fails).
    pub fn solve_with(&mut self, ridge: f64) {
        let (p, c) = (self.projection_size(), self.classes.len());
        let mut b = vec![0.0f64; p * c];
        for (k, row) in self.q.chunks_exact(p).enumerate() {
            row.iter().enumerate().for_each(|(i, v)| b[i * c + k] = *v);
        }
        for attempt in 0..7 {
            let mut a = unpack_lower(&self.gram, p);
            let lambda = ridge * 10f64.powi(attempt);
            (0..p).for_each(|i| a[i * p + i] += lambda);
            if cholesky(&mut a, p).is_ok() {
                cholesky_solve(&a, p, &mut b, c);
                self.head = (0..c * p).map(|j| b[(j % p) * c + j / p] as f32).collect();
                return;
            }
        }
    }

    /// Bytes held with `classes` classes and the flops of one learn of `windows` embeddings:
    /// projection `windows (N log2 N + D)`, accumulation `windows (P^2 + P)` (lower half of
    /// `H^T H` plus `Q`), solve `P^3/3 + 2 P^2 C` (Cholesky, two triangular solves).
    pub fn cost(&self, windows: usize, classes: usize) -> Cost {
        let (n, p, c, w) = (
            self.proj.padded() as u64,
            self.projection_size() as u64,
            classes as u64,
            windows as u64,
        );
        Cost {
            bytes: state_bytes(self.dim, self.projection_size(), classes),
            flops_project: w * (n * u64::from(n.max(2).ilog2()) + self.dim as u64),
            flops_accumulate: w * (p * p + p),
            flops_solve: p * p * p / 3 + 2 * p * p * c,
        }
    }
}

impl Strategy for Analytic {
    fn config(&self) -> &LearnerConfig {
        &self.config
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn classes(&self) -> Vec<ClassId> {
        self.classes.clone()
    }
    fn fixed_bytes(&self, classes: usize) -> usize {
        state_bytes(self.dim, self.projection_size(), classes)
    }
    fn fixed_what(&self) -> String {
        format!("ridge statistics for P = {}", self.projection_size())
    }
    fn memory_bytes(&self) -> usize {
        8 * (self.gram.len() + self.q.len())
            + 4 * (self.head.len() + self.classes.len())
            + self.proj.memory_bytes()
    }

    fn learn_batch(&mut self, batch: &Batch) -> usize {
        batch.new_classes.iter().for_each(|c| self.add_class(*c));
        let [fit, held] = self.split_features(batch);
        self.accumulate(&fit.0, &fit.1);
        let mut ridge = self.config.ridge;
        if !held.1.is_empty() {
            ridge = self.choose_ridge(&held);
            self.accumulate(&held.0, &held.1);
        }
        self.solve_with(ridge);
        0
    }

    fn scores(&self, x: &[f32]) -> Vec<f32> {
        let h = self.features(x);
        self.head
            .chunks_exact(self.projection_size())
            .map(|w| self.config.scale * dot(w, &h))
            .collect()
    }

    fn forget_class(&mut self, class: ClassId) {
        let p = self.projection_size();
        if let Some(c) = self.classes.iter().position(|k| *k == class) {
            self.classes.remove(c);
            self.q.drain(c * p..(c + 1) * p);
            self.head.drain(c * p..(c + 1) * p);
        }
    }

    fn write_body(&self, w: &mut Writer) {
        w.usize(self.projection_size());
        w.u32s(&self.classes);
        w.f64s(&self.gram);
        w.f64s(&self.q);
        w.f32s(&self.head);
    }
}
