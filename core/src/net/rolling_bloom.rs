//! A rolling bloom filter, as Bitcoin Core's `CRollingBloomFilter`: a fixed-size set that
//! remembers at least the last `n` inserted keys (and up to 1.5 `n`), with a chosen false
//! positive rate, in constant memory. The node keeps refused transactions in one (Core's
//! `m_recent_rejects`), so a flood of distinct bad transactions costs a fixed 1.3 MB instead of
//! a set that grows with every one.
//!
//! Keys are split into three generations of `n / 2`; each position of the filter holds two bits
//! naming the generation that last set it (0: none). Starting a new generation clears the
//! positions of the oldest one, so the filter forgets in blocks instead of filling up.

use crate::primitives::murmur3::murmur3;

/// A rolling bloom filter over byte strings (hashes, in the node).
#[derive(Clone, Debug)]
pub struct RollingBloom {
    /// Pairs of words: bit `b` of word `2i` and of word `2i + 1` are the low and high bits of one
    /// position's generation number.
    data: Vec<u64>,
    hash_funcs: u32,
    entries_per_generation: u32,
    entries_this_generation: u32,
    generation: u32,
    tweak: u32,
}

impl RollingBloom {
    /// A filter remembering at least the last `elements` keys with false positive rate
    /// `fp_rate` (0 < rate < 1); `tweak` (from the node's seeded generator) keys the hashes so
    /// a remote peer cannot choose keys that collide.
    pub fn new(elements: u32, fp_rate: f64, tweak: u32) -> RollingBloom {
        let log_fp = fp_rate.clamp(1e-12, 0.5).ln();
        let hash_funcs = ((log_fp / 0.5f64.ln()).round() as u32).clamp(1, 50);
        let entries_per_generation = elements.max(1).div_ceil(2);
        let max_elements = f64::from(entries_per_generation) * 3.0;
        let bits = (-f64::from(hash_funcs) * max_elements
            / (1.0 - (log_fp / f64::from(hash_funcs)).exp()).ln())
        .ceil() as usize;
        RollingBloom {
            data: vec![0; bits.div_ceil(64).max(1) * 2],
            hash_funcs,
            entries_per_generation,
            entries_this_generation: 0,
            generation: 1,
            tweak,
        }
    }

    /// The word pair and bit holding position `n` of `key`.
    fn position(&self, n: u32, key: &[u8]) -> (usize, u32) {
        let h = murmur3(n.wrapping_mul(0xfba4_c795).wrapping_add(self.tweak), key);
        let pairs = (self.data.len() / 2) as u64;
        let pair = ((u64::from(h) * pairs) >> 32) as usize;
        (pair * 2, h & 63)
    }

    /// Adds `key`, starting a new generation (and forgetting the oldest) when this one is full.
    pub fn insert(&mut self, key: &[u8]) {
        if self.entries_this_generation == self.entries_per_generation {
            self.entries_this_generation = 0;
            self.generation = if self.generation == 3 {
                1
            } else {
                self.generation + 1
            };
            // Clear every position last set by the generation now reused.
            let low = if self.generation & 1 == 1 { !0 } else { 0 };
            let high = if self.generation & 2 == 2 { !0 } else { 0 };
            for pair in self.data.chunks_exact_mut(2) {
                let (a, b) = (pair[0], pair[1]);
                let mask = (a ^ low) | (b ^ high);
                pair[0] = a & mask;
                pair[1] = b & mask;
            }
        }
        self.entries_this_generation += 1;
        let low = u64::from(self.generation & 1);
        let high = u64::from(self.generation >> 1);
        for n in 0..self.hash_funcs {
            let (at, bit) = self.position(n, key);
            self.data[at] = (self.data[at] & !(1 << bit)) | (low << bit);
            self.data[at + 1] = (self.data[at + 1] & !(1 << bit)) | (high << bit);
        }
    }

    /// True when `key` was inserted within the remembered window (or, rarely, a false
    /// positive).
    pub fn contains(&self, key: &[u8]) -> bool {
        (0..self.hash_funcs).all(|n| {
            let (at, bit) = self.position(n, key);
            ((self.data[at] | self.data[at + 1]) >> bit) & 1 == 1
        })
    }

    /// Forgets everything, keeping the memory.
    pub fn reset(&mut self) {
        self.data.iter_mut().for_each(|w| *w = 0);
        self.entries_this_generation = 0;
        self.generation = 1;
    }

    /// Bytes the filter holds (fixed at creation).
    pub fn memory(&self) -> usize {
        self.data.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&i.to_le_bytes());
        k[31] = 0x5a;
        k
    }

    #[test]
    fn remembers_the_last_n_keys_and_forgets_older_ones() {
        let n = 1000;
        let mut f = RollingBloom::new(n, 0.000_001, 7);
        for i in 0..10 * n {
            f.insert(&key(i));
            // The last n keys are always there.
            let oldest = (i + 1).saturating_sub(n);
            assert!(f.contains(&key(oldest)), "key {oldest} lost at {i}");
            assert!(f.contains(&key(i)));
        }
        // Keys from several generations ago are gone (bar false positives).
        let remembered = (0..5 * n).filter(|i| f.contains(&key(*i))).count();
        assert!(remembered < 5, "{remembered} old keys still found");
    }

    #[test]
    fn false_positive_rate_is_near_the_target_and_memory_is_fixed() {
        let mut f = RollingBloom::new(120_000, 0.000_001, 99);
        let bytes = f.memory();
        assert!((1_200_000..1_400_000).contains(&bytes), "{bytes} bytes");
        for i in 0..300_000 {
            f.insert(&key(i));
        }
        assert_eq!(f.memory(), bytes, "inserting does not grow the filter");
        let false_hits = (1_000_000..1_200_000)
            .filter(|i| f.contains(&key(*i)))
            .count();
        assert!(false_hits <= 2, "{false_hits} false positives in 200,000");
        f.reset();
        assert!(!f.contains(&key(299_999)));
    }

    #[test]
    fn the_tweak_changes_positions() {
        let a = RollingBloom::new(100, 0.01, 1);
        let b = RollingBloom::new(100, 0.01, 2);
        let differs = (0..50).any(|n| {
            a.position(n % a.hash_funcs, &key(n)) != b.position(n % b.hash_funcs, &key(n))
        });
        assert!(differs);
    }
}
