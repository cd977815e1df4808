//! numpy's legacy `RandomState` permutation, bit for bit, so the class order of a
//! seed equals the one the published PyCIL baselines used
//! (`np.random.seed(1993); order = np.random.permutation(n).tolist()`).
//!
//! Three pieces of numpy are reproduced: MT19937 with the legacy integer seeding
//! (`mt19937_seed`, Matsumoto–Nishimura's `init_genrand`), `random_interval`
//! (rejection sampling under the smallest all-ones bit mask covering `max`), and
//! the legacy 1-d `shuffle` (Fisher–Yates from the last element down to index 1).
//! The tests pin orders computed with numpy 2.4 itself.

/// Words in the MT19937 state.
const N: usize = 624;
/// The MT19937 middle word offset.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// The Mersenne Twister as numpy's legacy `RandomState` seeds and draws it.
#[derive(Clone)]
pub struct Mt19937 {
    key: [u32; N],
    /// Next word of `key` to temper; `N` means the state must be regenerated.
    pos: usize,
}

impl Mt19937 {
    /// `np.random.seed(seed)` for an integer seed (numpy refuses seeds outside
    /// `0..2^32`, which `u32` makes unrepresentable).
    pub fn legacy_seed(seed: u32) -> Mt19937 {
        let mut key = [0u32; N];
        let mut value = seed;
        for (pos, word) in key.iter_mut().enumerate() {
            *word = value;
            // `pos + 1 < 625`, so the cast is exact.
            value = 1_812_433_253u32
                .wrapping_mul(value ^ (value >> 30))
                .wrapping_add(pos as u32 + 1);
        }
        Mt19937 { key, pos: N }
    }

    /// numpy's `next_uint32`: one tempered 32-bit word.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.regenerate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// numpy's `mt19937_next64`: the high word is drawn first.
    pub fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        (high << 32) | u64::from(self.next_u32())
    }

    /// numpy's `random_interval`: uniform in `0..=max`. Draws 32-bit words while
    /// `max` fits in 32 bits, 64-bit words beyond, as numpy does.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        loop {
            let value = if max <= u64::from(u32::MAX) {
                u64::from(self.next_u32()) & mask
            } else {
                self.next_u64() & mask
            };
            if value <= max {
                return value;
            }
        }
    }

    /// Regenerates all `N` words in place; wrapping indices read the words
    /// already regenerated, exactly as the reference `genrand_int32` does.
    fn regenerate(&mut self) {
        for i in 0..N {
            let y = (self.key[i] & UPPER_MASK) | (self.key[(i + 1) % N] & LOWER_MASK);
            let twist = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.key[i] = self.key[(i + M) % N] ^ (y >> 1) ^ twist;
        }
        self.pos = 0;
    }
}

/// numpy's legacy `shuffle` of a 1-d array: Fisher–Yates from the end.
pub fn shuffle<T>(rng: &mut Mt19937, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        // `j <= i < items.len()`, so it fits in usize and indexes `items`.
        let j = rng.random_interval(i as u64) as usize;
        items.swap(i, j);
    }
}

/// `np.random.seed(seed); np.random.permutation(n).tolist()`.
pub fn permutation(n: usize, seed: u32) -> Vec<usize> {
    let mut rng = Mt19937::legacy_seed(seed);
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut rng, &mut order);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every expected value below was printed by numpy 2.4.6:
    // `np.random.seed(s); np.random.permutation(n).tolist()` and
    // `np.random.RandomState(s)._bit_generator.random_raw(3)`.

    #[test]
    fn raw_words_match_numpy() {
        let mut rng = Mt19937::legacy_seed(1993);
        let words: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
        assert_eq!(words, [431_310_241, 1_195_554_489, 942_364_593]);
        // The reference implementation's default seed, known first outputs.
        let mut rng = Mt19937::legacy_seed(5489);
        let words: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
        assert_eq!(words, [3_499_211_612, 581_869_302, 3_890_346_734]);
    }

    #[test]
    fn pycil_order_for_seed_1993_matches_numpy() {
        let expected = [
            22, 20, 2, 14, 23, 28, 8, 6, 15, 29, 10, 21, 13, 30, 12, 27, 11, 5, 0, 24, 18, 4, 19,
            26, 9, 7, 16, 3, 31, 17, 25, 1,
        ];
        assert_eq!(permutation(32, 1993), expected);
    }

    #[test]
    fn other_seeds_and_sizes_match_numpy() {
        let cases: [(usize, u32, Vec<usize>); 6] = [
            (
                32,
                1994,
                vec![
                    9, 14, 25, 23, 6, 18, 27, 8, 31, 0, 24, 17, 10, 19, 13, 29, 1, 30, 7, 5, 4, 21,
                    15, 28, 20, 12, 26, 16, 11, 2, 3, 22,
                ],
            ),
            (
                32,
                1995,
                vec![
                    7, 12, 23, 26, 30, 13, 28, 16, 21, 10, 31, 14, 15, 2, 0, 8, 24, 27, 29, 3, 9,
                    11, 1, 22, 25, 20, 5, 17, 19, 6, 18, 4,
                ],
            ),
            (10, 0, vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]),
            (1, 5, vec![0]),
            (7, u32::MAX, vec![1, 5, 0, 6, 4, 2, 3]),
            (2, 1, vec![0, 1]),
        ];
        for (n, seed, expected) in cases {
            assert_eq!(permutation(n, seed), expected, "n={n} seed={seed}");
        }
    }

    #[test]
    fn hundred_classes_seed_42_matches_numpy() {
        let order = permutation(100, 42);
        assert_eq!(order[..10], [83, 53, 70, 45, 44, 39, 22, 80, 10, 0]);
        assert_eq!(order[90..], [91, 74, 86, 82, 20, 60, 71, 14, 92, 51]);
    }

    #[test]
    fn empty_permutation_is_empty() {
        assert!(permutation(0, 1993).is_empty());
    }

    #[test]
    fn interval_stays_in_range() {
        let mut rng = Mt19937::legacy_seed(7);
        for max in [1u64, 2, 3, 31, 1 << 33] {
            for _ in 0..200 {
                assert!(rng.random_interval(max) <= max);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn permutation_holds_every_index_once(n in 0usize..300, seed in proptest::prelude::any::<u32>()) {
            let mut order = permutation(n, seed);
            order.sort_unstable();
            proptest::prop_assert_eq!(order, (0..n).collect::<Vec<_>>());
        }
    }
}
