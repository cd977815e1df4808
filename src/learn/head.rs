//! The SGD softmax head shared by the gradient strategies (finetune, joint, ewc, lwf, er, proto):
//! one weight row (and bias) per class over the L2-normalized embedding, trained with
//! mini-batch SGD + momentum on cross-entropy, plus optional distillation targets (LwF, Li &
//! Hoiem 2016) and an optional quadratic penalty (EWC, Kirkpatrick et al. 2017).
//!
//! A new class's row is imprinted with the normalized mean of its embeddings (Qi et al. 2018),
//! which starts it near its nearest-class-mean solution instead of at random. The cosine form
//! (`scale * cos(w_c, x)`, Hou et al. 2019) removes the weight-norm bias towards recent classes.

use super::config::HeadKind;
use super::linalg::{dot, gemm_f32, normalize_into, Mat};
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

/// A training set: normalized rows, head-row targets and optional distillation targets.
#[derive(Debug, Clone, Default)]
pub struct TrainSet {
    pub x: Vec<f32>,
    pub y: Vec<usize>,
    /// Old-head softmax (temperature `TrainOpts::temperature`) over the first `soft_k` rows.
    pub soft: Vec<f32>,
    pub soft_k: usize,
    /// Loss weight per head row (empty = 1): `balance` makes every class weigh the same.
    pub class_weight: Vec<f32>,
}

impl TrainSet {
    /// Class-balanced loss weights `n / (K n_c)` over the K classes present, so a new class's
    /// many windows do not drown the few exemplars and pseudo-features of old classes.
    pub fn balance(&mut self, rows: usize) {
        let mut counts = vec![0usize; rows];
        self.y.iter().for_each(|y| counts[*y] += 1);
        let present = counts.iter().filter(|c| **c > 0).count().max(1);
        let n = self.y.len() as f32;
        self.class_weight = counts.iter().map(|c| if *c > 0 { n / (present as f32 * *c as f32) } else { 0.0 }).collect();
    }
}

/// SGD settings for one `train` call.
#[derive(Debug, Clone)]
pub struct TrainOpts {
    pub epochs: usize,
    pub lr: f32,
    pub momentum: f32,
    pub batch_size: usize,
    pub distill: f32,
    pub temperature: f32,
}

/// EWC's quadratic penalty `lambda/2 * sum F (theta - anchor)^2`.
#[derive(Debug, Clone, Copy)]
pub struct Penalty<'a> {
    pub lambda: f32,
    pub fisher: &'a Params,
    pub anchor: &'a Params,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    dim: usize,
    kind: HeadKind,
    scale: f32,
    classes: Vec<ClassId>,
    pub params: Params,
}

impl Head {
    pub fn new(dim: usize, kind: HeadKind, scale: f32) -> Head {
        Head { dim, kind, scale, classes: Vec::new(), params: Params::default() }
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
        self.params.w.extend(mean.iter().map(|m| gain * m + noise * rng.gaussian() as f32));
        self.params.b.push(0.0);
        self.classes.push(class);
    }

    pub fn remove_class(&mut self, class: ClassId) -> Option<usize> {
        let row = self.index(class)?;
        self.params.remove_row(row, self.dim);
        self.classes.remove(row);
        Some(row)
    }

    /// The weights the logits are computed with (normalized rows for the cosine head) and the
    /// row norms (1 for the linear head).
    fn effective(&self) -> (Vec<f32>, Vec<f32>) {
        match self.kind {
            HeadKind::Linear => (self.params.w.clone(), vec![1.0; self.classes.len()]),
            HeadKind::Cosine => {
                let mut wn = vec![0.0; self.params.w.len()];
                let mut norms = Vec::with_capacity(self.classes.len());
                for (row, out) in self.params.w.chunks_exact(self.dim).zip(wn.chunks_exact_mut(self.dim)) {
                    normalize_into(row, out);
                    norms.push(super::linalg::norm(row).max(1e-12));
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

    fn logits_with(&self, wn: &[f32], xn: &[f32], out: &mut [f32]) {
        let (c, n) = (self.classes.len(), xn.len() / self.dim);
        let alpha = if self.kind == HeadKind::Cosine { self.scale } else { 1.0 };
        gemm_f32(alpha, Mat::new(xn, n, self.dim), Mat::new(wn, c, self.dim).t(), 0.0, out, c);
        if self.kind == HeadKind::Linear {
            out.chunks_exact_mut(c).for_each(|row| row.iter_mut().zip(&self.params.b).for_each(|(z, b)| *z += b));
        }
    }

    /// Mini-batch SGD with momentum over `set` for `opts.epochs` shuffled passes.
    pub fn train(&mut self, set: &TrainSet, opts: &TrainOpts, penalty: Option<Penalty>, rng: &mut Rng) {
        let n = set.y.len();
        if n == 0 || self.classes.is_empty() {
            return;
        }
        let mut velocity = Params { w: vec![0.0; self.params.w.len()], b: vec![0.0; self.params.b.len()] };
        let mut order: Vec<usize> = (0..n).collect();
        for _ in 0..opts.epochs {
            rng.shuffle(&mut order);
            for batch in order.chunks(opts.batch_size) {
                let grad = self.gradient(set, batch, opts, penalty);
                for (p, (v, g)) in self.params.w.iter_mut().zip(velocity.w.iter_mut().zip(&grad.w)) {
                    *v = opts.momentum * *v + g;
                    *p -= opts.lr * *v;
                }
                for (p, (v, g)) in self.params.b.iter_mut().zip(velocity.b.iter_mut().zip(&grad.b)) {
                    *v = opts.momentum * *v + g;
                    *p -= opts.lr * *v;
                }
            }
        }
    }

    /// Mean loss gradient over the rows `batch` of `set`.
    fn gradient(&self, set: &TrainSet, batch: &[usize], opts: &TrainOpts, penalty: Option<Penalty>) -> Params {
        let (d, c, m) = (self.dim, self.classes.len(), batch.len());
        let mut xb = Vec::with_capacity(m * d);
        batch.iter().for_each(|i| xb.extend_from_slice(&set.x[i * d..(i + 1) * d]));
        let (wn, norms) = self.effective();
        let mut g = vec![0.0; m * c];
        self.logits_with(&wn, &xb, &mut g);
        for (row, &i) in g.chunks_exact_mut(c).zip(batch) {
            self.logit_gradient(row, set, i, opts);
            let weight = set.class_weight.get(set.y[i]).copied().unwrap_or(1.0) / m as f32;
            row.iter_mut().for_each(|v| *v *= weight);
        }
        let mut gw = vec![0.0; c * d];
        let alpha = if self.kind == HeadKind::Cosine { self.scale } else { 1.0 };
        gemm_f32(alpha, Mat::new(&g, m, c).t(), Mat::new(&xb, m, d), 0.0, &mut gw, d);
        let mut gb = vec![0.0; c];
        if self.kind == HeadKind::Cosine {
            // d/dw of w/|w|: project out the radial part, divide by |w|.
            for ((gr, wr), nr) in gw.chunks_exact_mut(d).zip(wn.chunks_exact(d)).zip(&norms) {
                let radial = dot(gr, wr);
                gr.iter_mut().zip(wr).for_each(|(x, w)| *x = (*x - radial * w) / nr);
            }
        } else {
            g.chunks_exact(c).for_each(|row| gb.iter_mut().zip(row).for_each(|(s, v)| *s += v));
        }
        let mut grad = Params { w: gw, b: gb };
        if let Some(p) = penalty {
            add_penalty(&mut grad, &self.params, p);
        }
        grad
    }

    /// Turns one row of logits into dLoss/dlogits: `softmax - onehot`, plus the distillation
    /// term `distill * T * (softmax(z_old / T) - soft)` (the T^2-scaled KD gradient).
    fn logit_gradient(&self, z: &mut [f32], set: &TrainSet, i: usize, opts: &TrainOpts) {
        let k = set.soft_k.min(z.len());
        let mut kd = Vec::new();
        if k > 0 && opts.distill > 0.0 {
            kd = z[..k].iter().map(|v| v / opts.temperature).collect();
            softmax(&mut kd);
        }
        softmax(z);
        z[set.y[i]] -= 1.0;
        for (j, q) in kd.iter().enumerate() {
            z[j] += opts.distill * opts.temperature * (q - set.soft[i * k + j]);
        }
    }

    /// Empirical diagonal Fisher of the log-likelihood on `set` (EWC): the mean squared
    /// per-sample gradient of `-log p(y | x)` for every parameter.
    pub fn fisher(&self, set: &TrainSet) -> Params {
        let (d, c, n) = (self.dim, self.classes.len(), set.y.len());
        let (wn, norms) = self.effective();
        let mut f = Params { w: vec![0.0; c * d], b: vec![0.0; c] };
        let mut z = vec![0.0; c];
        for i in 0..n {
            let x = &set.x[i * d..(i + 1) * d];
            self.logits_with(&wn, x, &mut z);
            softmax(&mut z);
            z[set.y[i]] -= 1.0;
            for (k, gk) in z.iter().enumerate() {
                let fw = &mut f.w[k * d..(k + 1) * d];
                if self.kind == HeadKind::Cosine {
                    let wr = &wn[k * d..(k + 1) * d];
                    let (cos, a) = (dot(wr, x), gk * self.scale / norms[k]);
                    fw.iter_mut().zip(x.iter().zip(wr)).for_each(|(s, (xv, wv))| *s += (a * (xv - cos * wv)).powi(2));
                } else {
                    fw.iter_mut().zip(x).for_each(|(s, xv)| *s += (gk * xv).powi(2));
                    f.b[k] += gk * gk;
                }
            }
        }
        let inv = 1.0 / n.max(1) as f32;
        f.w.iter_mut().chain(f.b.iter_mut()).for_each(|v| *v *= inv);
        f
    }

    pub fn write(&self, w: &mut Writer) {
        w.u32s(&self.classes);
        self.params.write(w);
    }

    pub fn read(r: &mut Reader, dim: usize, kind: HeadKind, scale: f32) -> Result<Head, LearnError> {
        let classes = r.u32s("head classes")?;
        let params = Params::read(r, classes.len(), dim)?;
        Ok(Head { dim, kind, scale, classes, params })
    }
}

fn add_penalty(grad: &mut Params, theta: &Params, p: Penalty) {
    let pairs = [(&mut grad.w, &theta.w, &p.fisher.w, &p.anchor.w), (&mut grad.b, &theta.b, &p.fisher.b, &p.anchor.b)];
    for (g, t, f, a) in pairs {
        for (((gi, ti), fi), ai) in g.iter_mut().zip(t).zip(f).zip(a) {
            *gi += p.lambda * fi * (ti - ai);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn two_class_set() -> TrainSet {
        let x = vec![1.0, 0.0, 0.9, 0.436, 0.0, 1.0, 0.436, 0.9];
        TrainSet { x, y: vec![0, 0, 1, 1], ..TrainSet::default() }
    }

    fn opts() -> TrainOpts {
        TrainOpts { epochs: 30, lr: 0.1, momentum: 0.9, batch_size: 2, distill: 0.0, temperature: 2.0 }
    }

    #[test]
    fn training_separates_two_classes_for_both_head_kinds() {
        for kind in [HeadKind::Cosine, HeadKind::Linear] {
            let mut head = Head::new(2, kind, 16.0);
            let mut rng = Rng::new(1);
            head.add_class(10, &[0.0, 1.0], &mut rng); // imprinted on the wrong side on purpose
            head.add_class(11, &[1.0, 0.0], &mut rng);
            head.train(&two_class_set(), &opts(), None, &mut rng);
            let mut z = vec![0.0; 4];
            head.logits(&[1.0, 0.0, 0.0, 1.0], &mut z);
            assert!(z[0] > z[1] && z[3] > z[2], "{kind:?}: {z:?}");
        }
    }

    #[test]
    fn a_strong_penalty_pins_the_weights_and_fisher_is_non_negative() {
        let mut head = Head::new(2, HeadKind::Cosine, 16.0);
        let mut rng = Rng::new(1);
        head.add_class(0, &[0.0, 1.0], &mut rng);
        head.add_class(1, &[1.0, 0.0], &mut rng);
        let fisher = Params { w: vec![1.0; 4], b: vec![1.0; 2] };
        let anchor = head.params.clone();
        let penalty = Penalty { lambda: 1e4, fisher: &fisher, anchor: &anchor };
        let opts = TrainOpts { momentum: 0.0, lr: 1e-5, ..opts() };
        head.train(&two_class_set(), &opts, Some(penalty), &mut rng);
        let moved = head.params.w.iter().zip(&anchor.w).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(moved < 0.05, "moved {moved}");
        let f = head.fisher(&two_class_set());
        assert!(f.w.iter().all(|v| *v >= 0.0) && f.w.iter().any(|v| *v > 0.0));
    }
}
