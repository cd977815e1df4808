//! Smoothing and hysteresis over windows: one window's prediction is noisy (windows
//! overlap, an activity's start or end falls inside some), so the daemon reports a
//! smoothed class that changes only when another class is clearly and steadily ahead.
//!
//! The rule (`[daemon]` keys in parentheses):
//! 1. Each window's class probabilities `p` are the softmax of the learner's scores; the
//!    smoothed probabilities are an exponential moving average, `s <- (1 - a) s + a p`
//!    (`smoothing` = a; a class the learner did not know yet starts at 0, a forgotten one
//!    is dropped).
//! 2. With no current class, the best smoothed class becomes current once its `s` reaches
//!    `min_confidence`.
//! 3. With a current class c, a challenger b replaces it after it led c by at least
//!    `switch_margin` (s_b >= s_c + margin) in `switch_windows` consecutive windows; the
//!    count restarts when another class leads or the lead shrinks below the margin.
//! 4. When every smoothed probability is below `min_confidence`, there is no current class.

use crate::config::DaemonConfig;
use crate::learn::ClassId;
use std::collections::BTreeMap;

/// The smoothed state of the prediction stream.
#[derive(Debug, Clone)]
pub struct Smoother {
    alpha: f64,
    margin: f64,
    switch_windows: u32,
    min_confidence: f64,
    smoothed: BTreeMap<ClassId, f64>,
    current: Option<ClassId>,
    /// The class leading the current one by the margin, and for how many windows in a row.
    challenger: Option<(ClassId, u32)>,
}

/// The smoothed prediction after a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoothed {
    pub class: Option<ClassId>,
    /// The current class's smoothed probability (0 with no current class).
    pub confidence: f64,
    /// True when `class` differs from the previous window's.
    pub changed: bool,
}

impl Smoother {
    pub fn new(c: &DaemonConfig) -> Smoother {
        Smoother {
            alpha: c.smoothing(),
            margin: c.switch_margin(),
            switch_windows: c.switch_windows(),
            min_confidence: c.min_confidence(),
            smoothed: BTreeMap::new(),
            current: None,
            challenger: None,
        }
    }

    /// Takes one window's scores (`(class, logit)` for every known class).
    pub fn update(&mut self, scores: &[(ClassId, f32)]) -> Smoothed {
        let before = self.current;
        self.average(&softmax(scores));
        let best = self.best();
        self.current = match (self.current, best) {
            (_, None) => None,
            (_, Some((_, s))) if s < self.min_confidence => None,
            (None, Some((b, _))) => Some(b),
            (Some(c), Some((b, s_b))) => Some(self.hysteresis(c, b, s_b)),
        };
        if self.current.is_none() {
            self.challenger = None;
        }
        Smoothed {
            class: self.current,
            confidence: self.current.map_or(0.0, |c| self.prob(c)),
            changed: self.current != before,
        }
    }

    /// Forgets everything (after the classes change under it: a forget).
    pub fn reset(&mut self) {
        self.smoothed.clear();
        self.current = None;
        self.challenger = None;
    }

    fn average(&mut self, p: &BTreeMap<ClassId, f64>) {
        self.smoothed.retain(|c, _| p.contains_key(c));
        for (&c, &v) in p {
            let s = self.smoothed.entry(c).or_insert(0.0);
            *s = (1.0 - self.alpha) * *s + self.alpha * v;
        }
    }

    fn best(&self) -> Option<(ClassId, f64)> {
        self.smoothed
            .iter()
            .map(|(&c, &s)| (c, s))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    }

    fn prob(&self, c: ClassId) -> f64 {
        self.smoothed.get(&c).copied().unwrap_or(0.0)
    }

    /// The class after rule 3, given the current class `c` and the best `b`.
    fn hysteresis(&mut self, c: ClassId, b: ClassId, s_b: f64) -> ClassId {
        if !self.smoothed.contains_key(&c) {
            return b;
        }
        if b == c || s_b < self.prob(c) + self.margin {
            self.challenger = None;
            return c;
        }
        let count = match self.challenger {
            Some((x, n)) if x == b => n + 1,
            _ => 1,
        };
        if count >= self.switch_windows {
            self.challenger = None;
            return b;
        }
        self.challenger = Some((b, count));
        c
    }
}

/// Softmax of the logits, computed stably in f64.
pub fn softmax(scores: &[(ClassId, f32)]) -> BTreeMap<ClassId, f64> {
    let max = scores
        .iter()
        .map(|&(_, s)| f64::from(s))
        .fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<(ClassId, f64)> = scores
        .iter()
        .map(|&(c, s)| (c, (f64::from(s) - max).exp()))
        .collect();
    let sum: f64 = exp.iter().map(|e| e.1).sum();
    exp.into_iter()
        .map(|(c, e)| (c, if sum > 0.0 { e / sum } else { 0.0 }))
        .collect()
}

#[cfg(test)]
mod tests;
