//! A tiny seeded pseudo-random generator (SplitMix64) for reproducible fault injection.
//!
//! The wire draws every random decision from one of these, so a scenario is a pure function
//! of its seed. SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
//! generators", OOPSLA 2014) passes BigCrush, has a 2⁶⁴ period and needs one `u64` of state:
//! plenty for deciding which frames to drop. It is not for cryptography.

/// The golden-ratio increment of SplitMix64; also used to space out derived seeds.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// A SplitMix64 generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is determined by `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator for sub-stream `stream` of `seed`: different streams of one seed are
    /// independent for all practical purposes, so that, say, each direction of a wire draws
    /// its own decisions and traffic in one direction never changes the fate of the other.
    #[must_use]
    pub fn derive(seed: u64, stream: u64) -> Self {
        // Mixing the seed first keeps seeds that differ by a multiple of GAMMA from
        // producing shifted copies of each other's streams.
        let mut mixer = Self::new(seed);
        let base = mixer.next_u64();
        Self::new(base ^ mix(stream.wrapping_add(1).wrapping_mul(GAMMA)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// A uniformly distributed value in `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        // 2^-53: the spacing of the 53-bit values below 1.
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }

    /// `true` with probability `p` (`p <= 0` never, `p >= 1` always).
    ///
    /// Always draws exactly one value, whatever `p` is, so that changing one probability of a
    /// configuration does not shift the decisions drawn after it.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A value in `[0, n)`; `0` when `n` is `0`.
    ///
    /// Uses the high half of a 64×64-bit product (Lemire's method without the rejection
    /// step): the bias is below `n / 2⁶⁴`, invisible at the sizes a wire uses.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A value in `[low, high]` (inclusive); `low` when `high < low`.
    pub fn range_inclusive(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            // Keep the one-draw-per-call promise of the other helpers.
            let _ = self.next_u64();
            return low;
        }
        let span = high - low;
        match span.checked_add(1) {
            Some(n) => low + self.below(n),
            None => self.next_u64(),
        }
    }
}

/// The SplitMix64 output function (a variant of MurmurHash3's finaliser).
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs of SplitMix64 seeded with 1234567, as published with the
        // reference implementation (Vigna, prng.di.unimi.it).
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(r.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let a: Vec<u64> = (0..8)
            .scan(SplitMix64::derive(7, 0), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..8)
            .scan(SplitMix64::derive(7, 0), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..8)
            .scan(SplitMix64::derive(7, 1), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut r = SplitMix64::new(42);
        for _ in 0..10_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
            assert!(r.below(10) < 10);
            let v = r.range_inclusive(5, 9);
            assert!((5..=9).contains(&v));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range_inclusive(3, 3), 3);
        assert_eq!(r.range_inclusive(4, 1), 4);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        let _ = r.range_inclusive(0, u64::MAX);
    }

    #[test]
    fn chance_is_roughly_fair() {
        let mut r = SplitMix64::new(99);
        let hits = (0..100_000).filter(|_| r.chance(0.25)).count();
        // Expected 25,000 with a standard deviation of about 137.
        assert!((24_000..26_000).contains(&hits), "{hits}");
    }
}
