//! The AVX2 kernel: eight nonces in the 32-bit lanes of one vector, SHA-256 written out with
//! vector adds, shifts and logic (AVX2 has no rotate), and the same on independent streams for
//! the ceiling.
//!
//! As the SHA-NI kernel, it leaves out what does not depend on the nonce: the first compression
//! starts after round 2 (rounds 0 to 2 read only the merkle root's tail, the time and the bits)
//! and the second stops after round 60, whose `e` is the hash's last state word.
//!
//! Everything here is safe to call from a function with AVX2 enabled; the entry points are
//! called from `cpu`, which holds the proof that the CPU has it.

use super::sha256::{header_tail_words, scalar_round, DIGEST_PADDING, K};
use crate::mining::job::{MiningJob, SHA256_IV};
use std::arch::x86_64::*;
use std::hint::black_box;

/// Nonces a batch hashes, one per 32-bit lane.
pub(super) const LANES: usize = 8;

/// Eight SHA-256 states side by side: `s[0]` holds the eight lanes' `a`, and so on.
type Lanes8 = [__m256i; 8];

/// `x` in every lane.
#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u32) -> __m256i {
    _mm256_set1_epi32(x as i32)
}

/// Lane-wise wrapping sum.
#[inline]
#[target_feature(enable = "avx2")]
fn add(a: __m256i, b: __m256i) -> __m256i {
    _mm256_add_epi32(a, b)
}

/// `a ^ b ^ c`.
#[inline]
#[target_feature(enable = "avx2")]
fn xor3(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
    _mm256_xor_si256(_mm256_xor_si256(a, b), c)
}

/// Rotates each lane right by `R` (`L` = 32 - `R`: AVX2 has no rotate).
#[inline]
#[target_feature(enable = "avx2")]
fn rotr<const R: i32, const L: i32>(x: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_srli_epi32::<R>(x), _mm256_slli_epi32::<L>(x))
}

/// Message word `t` (at least 16) from the sixteen before it, in place in the window `w`.
#[inline]
#[target_feature(enable = "avx2")]
fn schedule(w: &mut [__m256i; 16], t: usize) -> __m256i {
    let (w2, w15) = (w[(t - 2) % 16], w[(t - 15) % 16]);
    let s0 = xor3(
        rotr::<7, 25>(w15),
        rotr::<18, 14>(w15),
        _mm256_srli_epi32::<3>(w15),
    );
    let s1 = xor3(
        rotr::<17, 15>(w2),
        rotr::<19, 13>(w2),
        _mm256_srli_epi32::<10>(w2),
    );
    let next = add(add(w[t % 16], s0), add(w[(t - 7) % 16], s1));
    w[t % 16] = next;
    next
}

/// One round with the message word plus round constant `wk`.
#[inline]
#[target_feature(enable = "avx2")]
fn round(s: Lanes8, wk: __m256i) -> Lanes8 {
    let [a, b, c, d, e, f, g, h] = s;
    let big_s1 = xor3(rotr::<6, 26>(e), rotr::<11, 21>(e), rotr::<25, 7>(e));
    let ch = _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
    let t1 = add(add(h, big_s1), add(ch, wk));
    let big_s0 = xor3(rotr::<2, 30>(a), rotr::<13, 19>(a), rotr::<22, 10>(a));
    let maj = _mm256_or_si256(
        _mm256_and_si256(a, b),
        _mm256_and_si256(c, _mm256_or_si256(a, b)),
    );
    [add(t1, add(big_s0, maj)), a, b, c, add(d, t1), e, f, g]
}

/// Rounds `rounds` on each of `N` independent states `s`, round by round across the states,
/// with their message windows `w` (words from 16 on are scheduled).
#[inline]
#[target_feature(enable = "avx2")]
fn rounds<const N: usize>(
    mut s: [Lanes8; N],
    w: &mut [[__m256i; 16]; N],
    rounds: std::ops::Range<usize>,
) -> [Lanes8; N] {
    for t in rounds {
        let k = splat(K[t]);
        for (s, w) in s.iter_mut().zip(w.iter_mut()) {
            let m = if t < 16 { w[t] } else { schedule(w, t) };
            *s = round(*s, add(m, k));
        }
    }
    s
}

/// Word-wise sum: a compression's input states added to its outputs.
#[inline]
#[target_feature(enable = "avx2")]
fn add_lanes(s: Lanes8, t: Lanes8) -> Lanes8 {
    std::array::from_fn(|i| add(s[i], t[i]))
}

/// What an AVX2 search precomputes per job.
struct Avx2Job {
    /// The midstate in every lane.
    mid: Lanes8,
    /// The state after rounds 0 to 2 of the first compression, which do not read the nonce.
    after_three: Lanes8,
    /// The header block's message words, nonce word zero.
    words: [__m256i; 16],
    /// The digest block's padding words.
    digest_padding: [__m256i; 8],
    iv: Lanes8,
    /// Lane offsets 0..8 and the shuffle that byte-swaps each lane.
    offsets: __m256i,
    swap: __m256i,
}

impl Avx2Job {
    /// Precomputes what every nonce of `job` shares.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(job: &MiningJob) -> Avx2Job {
        let words = header_tail_words(job);
        let mut s = job.midstate;
        for (t, w) in words.iter().enumerate().take(3) {
            s = scalar_round(s, K[t].wrapping_add(*w));
        }
        let swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
        Avx2Job {
            mid: job.midstate.map(|x| splat(x)),
            after_three: s.map(|x| splat(x)),
            words: words.map(|x| splat(x)),
            digest_padding: DIGEST_PADDING.map(|x| splat(x)),
            iv: SHA256_IV.map(|x| splat(x)),
            offsets: _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0),
            swap: _mm256_broadcastsi128_si256(swap),
        }
    }

    /// The last state word of the hashes of nonces `first..first + 8`, one per lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn top_words(&self, first: u32) -> __m256i {
        let nonces = add(splat(first), self.offsets);
        let mut w = self.words;
        w[3] = _mm256_shuffle_epi8(nonces, self.swap);
        let [s] = rounds([self.after_three], &mut [w], 3..64);
        let s = add_lanes(s, self.mid);
        let w: [__m256i; 16] = std::array::from_fn(|i| match i {
            0..8 => s[i],
            _ => self.digest_padding[i - 8],
        });
        // After round 60, e is the hash's last word: rounds 61 to 63 only move it to h.
        let [t] = rounds([self.iv], &mut [w], 0..61);
        add(t[4], splat(SHA256_IV[7]))
    }
}

/// The eight lanes of `v`, lane 0 first.
#[inline]
#[target_feature(enable = "avx2")]
fn lanes(v: __m256i) -> [u32; LANES] {
    let lo = _mm256_castsi256_si128(v);
    let hi = _mm256_extracti128_si256::<1>(v);
    [
        _mm_cvtsi128_si32(lo),
        _mm_extract_epi32::<1>(lo),
        _mm_extract_epi32::<2>(lo),
        _mm_extract_epi32::<3>(lo),
        _mm_cvtsi128_si32(hi),
        _mm_extract_epi32::<1>(hi),
        _mm_extract_epi32::<2>(hi),
        _mm_extract_epi32::<3>(hi),
    ]
    .map(|x| x as u32)
}

/// The first of `batches` batches of eight nonces from `first` with a candidate, and the mask
/// of its candidate lanes.
#[target_feature(enable = "avx2")]
pub(super) fn scan(job: &MiningJob, first: u32, batches: u32) -> Option<(u32, u32)> {
    let prepared = Avx2Job::new(job);
    (0..batches).find_map(|b| {
        let at = first + b * LANES as u32;
        let mask = super::candidates(job, &lanes(prepared.top_words(at)));
        (mask != 0).then_some((at, mask))
    })
}

/// The last state word of the hashes of nonces `first..first + 8`.
#[cfg(test)]
#[target_feature(enable = "avx2")]
pub(super) fn top_words(job: &MiningJob, first: u32) -> [u32; LANES] {
    lanes(Avx2Job::new(job).top_words(first))
}

/// `count` full compressions on each lane of `N` chained eight-lane states.
#[target_feature(enable = "avx2")]
pub(super) fn compress_streams<const N: usize>(count: u32) -> u32 {
    let block = [splat(super::STREAM_BLOCK_WORD); 16];
    let mut s: [Lanes8; N] = std::array::from_fn(|i| [splat(i as u32); 8]);
    for _ in 0..count {
        // Opaque and one per stream, so each stream's message schedule is computed each time,
        // as each nonce's is when mining.
        let mut w: [_; N] = std::array::from_fn(|_| black_box(block));
        let end = rounds(s, &mut w, 0..64);
        s = std::array::from_fn(|i| add_lanes(end[i], s[i]));
    }
    s.iter()
        .fold(0, |acc, s| acc ^ lanes(_mm256_xor_si256(s[5], s[7]))[0])
}
