//! The softmax head shared by the gradient strategies (finetune, joint, ewc, lwf, er, proto):
//! one weight row (and bias) per class over the L2-normalized embedding; `sgd.rs` trains it.
//!
//! A new class's row is imprinted with the normalized mean of its embeddings (Qi et al. 2018),
//! which starts it near its nearest-class-mean solution instead of at random. The cosine form
//! (`scale * cos(w_c, x)`, Hou et al. 2019) removes the weight-norm bias towards recent classes.

use super::config::HeadKind;
use super::linalg::{gemm, normalize_into, Mat};
use super::rng::Rng;
use super::snapshot::{Reader, Writer};
use super::{ClassId, LearnError};

/// Head parameters (or anything shaped like them: Fisher, anchor): `w` is classes x dim.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

impl Params {
    pub fn memory_bytes(&self) -> usize {
        4 * (self.w.len() + self.b.len())
    }

    /// Appends one zero row (a new class).
    pub fn push_zero_row(&mut self, dim: usize) {
        self.w.resize(self.w.len() + dim, 0.0);
        self.b.push(0.0);
    }

    pub fn remove_row(&mut self, row: usize, dim: usize) {
        self.w.drain(row * dim..(row + 1) * dim);
        self.b.remove(row);
    }

    pub fn write(&self, w: &mut Writer) {
        w.f32s(&self.w);
        w.f32s(&self.b);
    }

    pub fn read(r: &mut Reader, rows: usize, dim: usize) -> Result<Params, LearnError> {
        let (w, b) = (r.f32s("head weights")?, r.f32s("head bias")?);
        r.expect_len("head weights", w.len(), rows * dim)?;
        r.expect_len("head bias", b.len(), rows)?;
        Ok(Params { w, b })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub(super) dim: usize,
    pub(super) kind: HeadKind,
    pub(super) scale: f32,
    pub(super) classes: Vec<ClassId>,
    pub params: Params,
    /// Widths of the segments the cosine head normalizes each row over: one segment per
    /// modality block with `LearnerConfig::standardize` (each block's cosine is taken on its
    /// own, so a window with a block absent meets each class through the blocks it has), the
    /// whole row otherwise (empty).
    pub(super) blocks: Vec<usize>,
}

impl Head {
    pub fn new(dim: usize, kind: HeadKind, scale: f32) -> Head {
        Head {
            dim,
            kind,
            scale,
            classes: Vec::new(),
            params: Params::default(),
            blocks: Vec::new(),
        }
    }

    /// The same head normalizing its rows per segment of widths `blocks` (see the field).
    pub fn with_blocks(mut self, blocks: &[usize]) -> Head {
        self.blocks = if blocks.len() >= 2 {
            blocks.to_vec()
        } else {
            Vec::new()
        };
        self
    }

    /// `(start, end)` of each segment a row is normalized over.
    pub(super) fn segments(&self) -> Vec<(usize, usize)> {
        if self.blocks.is_empty() {
            return vec![(0, self.dim)];
        }
        let mut at = 0;
        self.blocks
            .iter()
            .map(|d| {
                at += d;
                (at - d, at)
            })
            .collect()
    }

    /// Bytes a head of `classes` rows holds (class id, weight row, bias).
    pub fn bytes(dim: usize, classes: usize) -> usize {
        classes * (4 + 4 * dim + 4)
    }

    pub fn memory_bytes(&self) -> usize {
        4 * self.classes.len() + self.params.memory_bytes()
    }

    pub fn classes(&self) -> &[ClassId] {
        &self.classes
    }

    pub fn index(&self, class: ClassId) -> Option<usize> {
        self.classes.iter().position(|c| *c == class)
    }

    /// Adds a row imprinted with `mean` (a normalized class mean) plus a little noise.
    pub fn add_class(&mut self, class: ClassId, mean: &[f32], rng: &mut Rng) {
        let gain = match self.kind {
            HeadKind::Cosine => 1.0,
            HeadKind::Linear => self.scale,
        };
        let noise = 0.01 / (self.dim as f32).sqrt();
        self.params.w.extend(
            mean.iter()
                .map(|m| gain * m + noise * rng.gaussian() as f32),
        );
        self.params.b.push(0.0);
        self.classes.push(class);
    }

    pub fn remove_class(&mut self, class: ClassId) -> Option<usize> {
        let row = self.index(class)?;
        self.params.remove_row(row, self.dim);
        self.classes.remove(row);
        Some(row)
    }

    /// The factor on `x . w` in the logits: the cosine head's scale (its rows are used at unit
    /// length); 1 for the linear head, whose scale went into its imprinted rows instead.
    pub(super) fn logit_scale(&self) -> f32 {
        match self.kind {
            HeadKind::Cosine => self.scale,
            HeadKind::Linear => 1.0,
        }
    }

    /// The weights the logits are computed with (for the cosine head, rows normalized per
    /// segment) and the norm of each row's segments, `classes x segments` (1 for the linear
    /// head).
    pub(super) fn effective(&self) -> (Vec<f32>, Vec<f32>) {
        let segments = self.segments();
        match self.kind {
            HeadKind::Linear => (
                self.params.w.clone(),
                vec![1.0; self.classes.len() * segments.len()],
            ),
            HeadKind::Cosine => {
                let mut wn = vec![0.0; self.params.w.len()];
                let mut norms = Vec::with_capacity(self.classes.len() * segments.len());
                for (row, out) in self
                    .params
                    .w
                    .chunks_exact(self.dim)
                    .zip(wn.chunks_exact_mut(self.dim))
                {
                    for (a, b) in &segments {
                        normalize_into(&row[*a..*b], &mut out[*a..*b]);
                        norms.push(super::linalg::norm(&row[*a..*b]).max(1e-12));
                    }
                }
                (wn, norms)
            }
        }
    }

    /// Logits for `n` normalized rows `xn` into `out` (n x classes).
    pub fn logits(&self, xn: &[f32], out: &mut [f32]) {
        let (wn, _) = self.effective();
        self.logits_with(&wn, xn, out);
    }

    pub(super) fn logits_with(&self, wn: &[f32], xn: &[f32], out: &mut [f32]) {
        let (c, n) = (self.classes.len(), xn.len() / self.dim);
        gemm(
            self.logit_scale(),
            Mat::new(xn, n, self.dim),
            Mat::new(wn, c, self.dim).t(),
            0.0,
            out,
            c,
        );
        if self.kind == HeadKind::Linear {
            out.chunks_exact_mut(c).for_each(|row| {
                row.iter_mut()
                    .zip(&self.params.b)
                    .for_each(|(z, b)| *z += b)
            });
        }
    }
    pub fn write(&self, w: &mut Writer) {
        w.u32s(&self.classes);
        self.params.write(w);
    }

    pub fn read(
        r: &mut Reader,
        dim: usize,
        kind: HeadKind,
        scale: f32,
    ) -> Result<Head, LearnError> {
        let classes = r.u32s("head classes")?;
        let params = Params::read(r, classes.len(), dim)?;
        Ok(Head {
            dim,
            kind,
            scale,
            classes,
            params,
            blocks: Vec::new(),
        })
    }
}

/// Numerically stable softmax in place.
pub fn softmax(z: &mut [f32]) {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let mut sum = 0.0;
    z.iter_mut().for_each(|v| {
        *v = (*v - max).exp();
        sum += *v;
    });
    z.iter_mut().for_each(|v| *v /= sum);
}
