//! A small seeded random number generator.
//!
//! SplitMix64 is written out here rather than taken from a crate so that a data set's content
//! depends only on `--seed` and this file, never on the version of a dependency.

/// SplitMix64's increment, the golden ratio in 64 bits.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 (Steele, Lea and Flood 2014): 64-bit state, passes BigCrush, trivially seedable.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator for `seed`, decorrelated from other streams by `stream` (e.g. a recipe name).
    pub fn new(seed: u64, stream: &str) -> Self {
        let mut rng = Self { state: seed };
        for byte in stream.bytes() {
            rng.state ^= byte as u64;
            rng.next_u64();
        }
        rng
    }

    /// The generator as it will be after `draws` more calls of [`next_u64`](Self::next_u64)
    /// (SplitMix64's state is a counter), so a long sequence can be drawn in parallel pieces.
    pub fn ahead(&self, draws: u64) -> Self {
        Self {
            state: self.state.wrapping_add(draws.wrapping_mul(GOLDEN_GAMMA)),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (`n > 0`), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value");
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// One element of a non-empty slice.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ahead_is_the_generator_after_that_many_draws() {
        let mut serial = SeededRng::new(3, "ahead");
        let start = serial.clone();
        let drawn: Vec<u64> = (0..10).map(|_| serial.next_u64()).collect();
        let mut from_seven = start.ahead(7);
        assert_eq!(drawn[7..], [0, 0, 0].map(|_| from_seven.next_u64()));
        assert_eq!(start.ahead(10).next_u64(), serial.next_u64());
    }

    #[test]
    fn same_seed_and_stream_give_the_same_sequence() {
        let a: Vec<u64> = (0..5)
            .scan(SeededRng::new(7, "x"), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(SeededRng::new(7, "x"), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .scan(SeededRng::new(7, "y"), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items: Vec<u32> = (0..100).collect();
        SeededRng::new(1, "").shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(items, sorted);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = SeededRng::new(3, "");
        assert!((0..1000).all(|_| rng.below(6) < 6));
    }
}
