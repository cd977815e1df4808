//! Training the head: mini-batch SGD + momentum on (class-balanced) cross-entropy, plus
//! optional distillation targets (LwF, Li & Hoiem 2016) and an optional quadratic penalty
//! (EWC, Kirkpatrick et al. 2017), and the empirical diagonal Fisher EWC needs.

use super::config::HeadKind;
use super::head::{softmax, Head, Params};
use super::linalg::{dot, gemm, Mat};
use super::rng::Rng;

/// A training set: normalized rows, head-row targets and optional distillation targets.
#[derive(Debug, Clone, Default)]
pub struct TrainSet {
    pub x: Vec<f32>,
    /// The class of each row (`y` is its head row, mapped by the strategy's head).
    pub labels: Vec<crate::learn::ClassId>,
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
        self.class_weight = counts
            .iter()
            .map(|c| {
                if *c > 0 {
                    n / (present as f32 * *c as f32)
                } else {
                    0.0
                }
            })
            .collect();
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

impl Head {
    /// Mini-batch SGD with momentum over `set` for `opts.epochs` shuffled passes.
    pub fn train(
        &mut self,
        set: &TrainSet,
        opts: &TrainOpts,
        penalty: Option<Penalty>,
        rng: &mut Rng,
    ) {
        let n = set.y.len();
        if n == 0 || self.classes.is_empty() {
            return;
        }
        let mut velocity = Params {
            w: vec![0.0; self.params.w.len()],
            b: vec![0.0; self.params.b.len()],
        };
        let mut order: Vec<usize> = (0..n).collect();
        for _ in 0..opts.epochs {
            rng.shuffle(&mut order);
            for batch in order.chunks(opts.batch_size) {
                let grad = self.gradient(set, batch, opts, penalty);
                for (p, (v, g)) in self
                    .params
                    .w
                    .iter_mut()
                    .zip(velocity.w.iter_mut().zip(&grad.w))
                {
                    *v = opts.momentum * *v + g;
                    *p -= opts.lr * *v;
                }
                for (p, (v, g)) in self
                    .params
                    .b
                    .iter_mut()
                    .zip(velocity.b.iter_mut().zip(&grad.b))
                {
                    *v = opts.momentum * *v + g;
                    *p -= opts.lr * *v;
                }
            }
        }
    }

    /// Mean loss gradient over the rows `batch` of `set`.
    fn gradient(
        &self,
        set: &TrainSet,
        batch: &[usize],
        opts: &TrainOpts,
        penalty: Option<Penalty>,
    ) -> Params {
        let (d, c, m) = (self.dim, self.classes.len(), batch.len());
        let mut xb = Vec::with_capacity(m * d);
        batch
            .iter()
            .for_each(|i| xb.extend_from_slice(&set.x[i * d..(i + 1) * d]));
        let (wn, norms) = self.effective();
        let mut g = vec![0.0; m * c];
        self.logits_with(&wn, &xb, &mut g);
        for (row, &i) in g.chunks_exact_mut(c).zip(batch) {
            self.logit_gradient(row, set, i, opts);
            let weight = set.class_weight.get(set.y[i]).copied().unwrap_or(1.0) / m as f32;
            row.iter_mut().for_each(|v| *v *= weight);
        }
        let mut gw = vec![0.0; c * d];
        gemm(
            self.logit_scale(),
            Mat::new(&g, m, c).t(),
            Mat::new(&xb, m, d),
            0.0,
            &mut gw,
            d,
        );
        let mut gb = vec![0.0; c];
        if self.kind == HeadKind::Cosine {
            // d/dw of w/|w| per segment: project out the radial part, divide by |w|.
            let segments = self.segments();
            let rows = gw.chunks_exact_mut(d).zip(wn.chunks_exact(d));
            for ((gr, wr), nr) in rows.zip(norms.chunks_exact(segments.len())) {
                for ((a, b), n) in segments.iter().zip(nr) {
                    let (g, w) = (&mut gr[*a..*b], &wr[*a..*b]);
                    let radial = dot(g, w);
                    g.iter_mut()
                        .zip(w)
                        .for_each(|(x, w)| *x = (*x - radial * w) / n);
                }
            }
        } else {
            g.chunks_exact(c)
                .for_each(|row| gb.iter_mut().zip(row).for_each(|(s, v)| *s += v));
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
        let segments = self.segments();
        let mut f = Params {
            w: vec![0.0; c * d],
            b: vec![0.0; c],
        };
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
                    for (j, (lo, hi)) in segments.iter().enumerate() {
                        let (w, xs) = (&wr[*lo..*hi], &x[*lo..*hi]);
                        let a = gk * self.scale / norms[k * segments.len() + j];
                        let cos = dot(w, xs);
                        fw[*lo..*hi]
                            .iter_mut()
                            .zip(xs.iter().zip(w))
                            .for_each(|(s, (xv, wv))| *s += (a * (xv - cos * wv)).powi(2));
                    }
                } else {
                    fw.iter_mut()
                        .zip(x)
                        .for_each(|(s, xv)| *s += (gk * xv).powi(2));
                    f.b[k] += gk * gk;
                }
            }
        }
        let inv = 1.0 / n.max(1) as f32;
        f.w.iter_mut().chain(f.b.iter_mut()).for_each(|v| *v *= inv);
        f
    }
}

fn add_penalty(grad: &mut Params, theta: &Params, p: Penalty) {
    let pairs = [
        (&mut grad.w, &theta.w, &p.fisher.w, &p.anchor.w),
        (&mut grad.b, &theta.b, &p.fisher.b, &p.anchor.b),
    ];
    for (g, t, f, a) in pairs {
        for (((gi, ti), fi), ai) in g.iter_mut().zip(t).zip(f).zip(a) {
            *gi += p.lambda * fi * (ti - ai);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_class_set() -> TrainSet {
        let x = vec![1.0, 0.0, 0.9, 0.436, 0.0, 1.0, 0.436, 0.9];
        TrainSet {
            x,
            y: vec![0, 0, 1, 1],
            ..TrainSet::default()
        }
    }

    fn opts() -> TrainOpts {
        TrainOpts {
            epochs: 30,
            lr: 0.1,
            momentum: 0.9,
            batch_size: 2,
            distill: 0.0,
            temperature: 2.0,
        }
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
        let fisher = Params {
            w: vec![1.0; 4],
            b: vec![1.0; 2],
        };
        let anchor = head.params.clone();
        let penalty = Penalty {
            lambda: 1e4,
            fisher: &fisher,
            anchor: &anchor,
        };
        let opts = TrainOpts {
            momentum: 0.0,
            lr: 1e-5,
            ..opts()
        };
        head.train(&two_class_set(), &opts, Some(penalty), &mut rng);
        let moved = head
            .params
            .w
            .iter()
            .zip(&anchor.w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(moved < 0.05, "moved {moved}");
        let f = head.fisher(&two_class_set());
        assert!(f.w.iter().all(|v| *v >= 0.0) && f.w.iter().any(|v| *v > 0.0));
    }
}
