//! `ReplayBuffer`: exemplar embeddings kept under a byte budget, class-balanced, quantized.
//!
//! The owner passes the number of exemplar slots its budget leaves (`capacity`); the buffer
//! splits them over classes by water-filling (every class gets the same share unless it has
//! fewer exemplars available; leftovers go to classes in first-learned order), so a new class
//! takes its share from the largest classes. Within a class the exemplars are kept in priority
//! order and a shrinking class loses its tail:
//! - `Herding` (iCaRL, Rebuffi et al. 2017): greedy choice whose running mean best approximates
//!   the class mean, on L2-normalized embeddings; the tail is the least useful.
//! - `Reservoir` (Vitter 1985, per class as in class-balanced reservoir sampling, Chrysakis &
//!   Moens 2020): a uniform sample of the class's stream; any prefix is uniform too.

use super::bisect::largest_fitting;
use super::linalg::{gemm, normalize_into, Mat};
use super::quant::Quant;
use super::rng::Rng;
use super::snapshot::{Reader, Writer};
use super::{ClassId, LearnError};

/// How exemplars are chosen within a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Herding,
    Reservoir,
}

/// Bookkeeping bytes per class (class id u32 + embeddings seen u64).
pub const CLASS_OVERHEAD: usize = 12;

#[derive(Debug, Clone, PartialEq)]
struct Slot {
    class: ClassId,
    /// Embeddings of this class offered so far (reservoir sampling needs it).
    seen: u64,
    /// Encoded exemplars, `quant.bytes(dim)` each, in priority order.
    codes: Vec<u8>,
}

/// New embeddings of one class offered to the buffer.
#[derive(Debug, Clone)]
pub struct Offer<'a> {
    pub class: ClassId,
    pub rows: Vec<&'a [f32]>,
    /// Herding's target (the class mean over all data seen, when the owner keeps it);
    /// `None` = the mean of the candidates.
    pub target: Option<Vec<f32>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    dim: usize,
    quant: Quant,
    slots: Vec<Slot>,
}

impl ReplayBuffer {
    pub fn new(dim: usize, quant: Quant) -> ReplayBuffer {
        ReplayBuffer {
            dim,
            quant,
            slots: Vec::new(),
        }
    }

    /// Bytes of one stored exemplar.
    pub fn exemplar_bytes(&self) -> usize {
        self.quant.bytes(self.dim)
    }

    /// Exact bytes held: per-class bookkeeping plus encoded exemplars.
    pub fn memory_bytes(&self) -> usize {
        self.slots
            .iter()
            .map(|s| CLASS_OVERHEAD + s.codes.len())
            .sum()
    }

    /// Exemplars held in total.
    pub fn len(&self) -> usize {
        self.slots.iter().map(|s| s.codes.len()).sum::<usize>() / self.exemplar_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exemplars held for `class`.
    pub fn class_len(&self, class: ClassId) -> usize {
        self.slot(class)
            .map_or(0, |s| s.codes.len() / self.exemplar_bytes())
    }

    fn slot(&self, class: ClassId) -> Option<&Slot> {
        self.slots.iter().find(|s| s.class == class)
    }

    /// Every exemplar decoded, with its class, in class then priority order.
    pub fn decoded(&self) -> (Vec<f32>, Vec<ClassId>) {
        let mut x = Vec::with_capacity(self.len() * self.dim);
        let mut y = Vec::with_capacity(self.len());
        for s in &self.slots {
            for code in s.codes.chunks_exact(self.exemplar_bytes()) {
                let at = x.len();
                x.resize(at + self.dim, 0.0);
                self.quant.decode(code, &mut x[at..]);
                y.push(s.class);
            }
        }
        (x, y)
    }

    /// Drops a class and its exemplars; false if it had none.
    pub fn remove_class(&mut self, class: ClassId) -> bool {
        let before = self.slots.len();
        self.slots.retain(|s| s.class != class);
        before != self.slots.len()
    }

    /// Adds the offered embeddings, then fits everything into `capacity` exemplars (class-balanced).
    /// Returns how many previously stored exemplars were evicted.
    pub fn insert(
        &mut self,
        capacity: usize,
        offers: &[Offer],
        selection: Selection,
        rng: &mut Rng,
    ) -> usize {
        for o in offers {
            if self.slot(o.class).is_none() {
                self.slots.push(Slot {
                    class: o.class,
                    seen: 0,
                    codes: Vec::new(),
                });
            }
        }
        let avail: Vec<usize> = self
            .slots
            .iter()
            .map(|s| {
                s.codes.len() / self.exemplar_bytes()
                    + offers
                        .iter()
                        .find(|o| o.class == s.class)
                        .map_or(0, |o| o.rows.len())
            })
            .collect();
        let targets = water_fill(capacity, &avail);
        let mut evicted = 0;
        for (i, target) in targets.into_iter().enumerate() {
            let offer = offers.iter().find(|o| o.class == self.slots[i].class);
            evicted += match (offer, selection) {
                (None, _) => self.truncate(i, target),
                (Some(o), Selection::Reservoir) => self.reservoir(i, o, target, rng),
                (Some(o), Selection::Herding) => self.herd(i, o, target),
            };
        }
        evicted
    }

    fn truncate(&mut self, slot: usize, keep: usize) -> usize {
        let eb = self.exemplar_bytes();
        let codes = &mut self.slots[slot].codes;
        let before = codes.len() / eb;
        codes.truncate(keep * eb);
        before.saturating_sub(keep)
    }

    fn reservoir(&mut self, slot: usize, offer: &Offer, target: usize, rng: &mut Rng) -> usize {
        let mut evicted = self.truncate(slot, target);
        let (eb, quant) = (self.exemplar_bytes(), self.quant);
        let s = &mut self.slots[slot];
        let mut code = Vec::with_capacity(eb);
        for row in &offer.rows {
            s.seen += 1;
            let held = s.codes.len() / eb;
            code.clear();
            quant.encode(row, &mut code);
            if held < target {
                s.codes.extend_from_slice(&code);
            } else if let Some(j) = Some(rng.below(s.seen) as usize).filter(|j| *j < target) {
                s.codes[j * eb..(j + 1) * eb].copy_from_slice(&code);
                evicted += 1;
            }
        }
        evicted
    }

    fn herd(&mut self, slot: usize, offer: &Offer, target: usize) -> usize {
        let eb = self.exemplar_bytes();
        let old: Vec<&[u8]> = self.slots[slot].codes.chunks_exact(eb).collect();
        let mut cand = vec![0.0f32; (old.len() + offer.rows.len()) * self.dim];
        let mut raw = vec![0.0f32; self.dim];
        for (i, code) in old.iter().enumerate() {
            self.quant.decode(code, &mut raw);
            normalize_into(&raw, &mut cand[i * self.dim..(i + 1) * self.dim]);
        }
        for (k, row) in offer.rows.iter().enumerate() {
            let i = old.len() + k;
            normalize_into(row, &mut cand[i * self.dim..(i + 1) * self.dim]);
        }
        let order = herding_order(&cand, self.dim, offer.target.as_deref(), target);
        let mut codes = Vec::with_capacity(target * eb);
        for &i in &order {
            match old.get(i) {
                Some(code) => codes.extend_from_slice(code),
                None => self.quant.encode(offer.rows[i - old.len()], &mut codes),
            }
        }
        let kept_old = order.iter().filter(|i| **i < old.len()).count();
        let evicted = old.len() - kept_old;
        let s = &mut self.slots[slot];
        s.seen += offer.rows.len() as u64;
        s.codes = codes;
        evicted
    }

    pub fn write(&self, w: &mut Writer) {
        w.usize(self.slots.len());
        for s in &self.slots {
            w.u32(s.class);
            w.u64(s.seen);
            w.bytes(&s.codes);
        }
    }

    pub fn read(r: &mut Reader, dim: usize, quant: Quant) -> Result<ReplayBuffer, LearnError> {
        let n = r.usize("buffer class count")?;
        let mut slots = Vec::new();
        for _ in 0..n {
            let (class, seen) = (r.u32("buffer class")?, r.u64("buffer seen")?);
            let codes = r.bytes("buffer exemplars")?.to_vec();
            if codes.len() % quant.bytes(dim) != 0 {
                return Err(r
                    .error(format!(
                        "class {class}: {} exemplar bytes, not a multiple of {}",
                        codes.len(),
                        quant.bytes(dim)
                    ))
                    .into());
            }
            slots.push(Slot { class, seen, codes });
        }
        Ok(ReplayBuffer { dim, quant, slots })
    }
}

/// Balanced split of `capacity` slots: `min(avail, level)` each, the largest level that fits,
/// remainder one by one in class order to classes that still have more available.
pub fn water_fill(capacity: usize, avail: &[usize]) -> Vec<usize> {
    if avail.iter().sum::<usize>() <= capacity {
        return avail.to_vec();
    }
    let fits = |level: usize| avail.iter().map(|a| (*a).min(level)).sum::<usize>() <= capacity;
    let level = largest_fitting(avail.iter().copied().max().unwrap_or(0), fits);
    let mut out: Vec<usize> = avail.iter().map(|a| (*a).min(level)).collect();
    let mut left = capacity - out.iter().sum::<usize>();
    for (o, a) in out.iter_mut().zip(avail) {
        if left > 0 && *a > *o {
            *o += 1;
            left -= 1;
        }
    }
    out
}

/// The first `take` candidates in iCaRL herding order. `cand` holds `n` normalized rows; the
/// candidate Gram matrix (one gemm) makes each step O(n): with `s_i = sum_{j in S} x_j . x_i`,
/// step k+1 picks `argmin_i |x_i|^2 - 2((k+1) mu . x_i - s_i)` = `argmin |(k+1) mu - S - x_i|^2`.
pub fn herding_order(cand: &[f32], dim: usize, target: Option<&[f32]>, take: usize) -> Vec<usize> {
    let n = cand.len() / dim.max(1);
    let x = Mat::new(cand, n, dim);
    let mean: Vec<f32> = match target {
        Some(t) => t.to_vec(),
        None => (0..dim)
            .map(|d| (0..n).map(|i| cand[i * dim + d]).sum::<f32>() / n.max(1) as f32)
            .collect(),
    };
    let mut gram = vec![0.0f32; n * n];
    gemm(1.0, x, x.t(), 0.0, &mut gram, n);
    let mut mu_dot = vec![0.0f32; n];
    gemm(1.0, x, Mat::new(&mean, dim, 1), 0.0, &mut mu_dot, 1);
    let mut s = vec![0.0f32; n];
    let mut taken = vec![false; n];
    let mut order = Vec::with_capacity(take.min(n));
    for k in 0..take.min(n) {
        let k1 = (k + 1) as f32;
        let best = (0..n)
            .filter(|i| !taken[*i])
            .map(|i| (i, gram[i * n + i] - 2.0 * (k1 * mu_dot[i] - s[i])))
            .fold(None, |b: Option<(usize, f32)>, c| {
                if b.is_none_or(|b| c.1 < b.1) {
                    Some(c)
                } else {
                    b
                }
            });
        let Some((j, _)) = best else { break };
        taken[j] = true;
        order.push(j);
        s.iter_mut()
            .zip(&gram[j * n..(j + 1) * n])
            .for_each(|(si, g)| *si += g);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn water_fill_balances_and_respects_capacity() {
        assert_eq!(water_fill(10, &[3, 4]), vec![3, 4]);
        assert_eq!(water_fill(10, &[20, 20, 2]), vec![4, 4, 2]);
        assert_eq!(water_fill(9, &[20, 20, 20, 20]), vec![3, 2, 2, 2]);
        assert_eq!(water_fill(0, &[5]), vec![0]);
    }

    #[test]
    fn herding_first_pick_is_closest_to_the_mean() {
        let cand = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8];
        let order = herding_order(&cand, 2, Some(&[0.6, 0.8]), 3);
        assert_eq!(order[0], 2);
        assert_eq!(order.len(), 3);
    }

    #[test]
    fn new_class_takes_its_share_from_the_largest() {
        let rows: Vec<Vec<f32>> = (0..10).map(|i| vec![i as f32, 1.0]).collect();
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let mut b = ReplayBuffer::new(2, Quant::F16);
        let mut rng = Rng::new(0);
        b.insert(
            8,
            &[Offer {
                class: 0,
                rows: refs.clone(),
                target: None,
            }],
            Selection::Reservoir,
            &mut rng,
        );
        assert_eq!(b.class_len(0), 8);
        let evicted = b.insert(
            8,
            &[Offer {
                class: 1,
                rows: refs[..2].to_vec(),
                target: None,
            }],
            Selection::Herding,
            &mut rng,
        );
        assert_eq!((b.class_len(0), b.class_len(1), evicted), (6, 2, 2));
        assert_eq!(
            b.memory_bytes(),
            2 * CLASS_OVERHEAD + 8 * b.exemplar_bytes()
        );
    }
}
