//! The SHA-NI kernel: the SHA extensions' round and message instructions on `N` nonces
//! interleaved (one stream of them waits on the round instruction's latency; two fill its
//! throughput), and the same instructions on independent streams for the ceiling.
//!
//! Per nonce this does what `portable` does with `sha2`, less the work that does not depend on
//! the nonce: the first compression starts after rounds 0 and 1 (they read only the merkle
//! root's tail and the time; rounds run in pairs), the padding words of both compressions have
//! their round constants added once per job, and the second compression stops after rounds 60
//! and 61, since `e` after round 60 is the hash's last state word (rounds 61 to 63 only shift
//! it along to `h`). That word is all a batch returns; the caller checks the rare candidate in
//! full.
//!
//! Everything here is safe to call from a function with the same target features; the entry
//! points are called from `cpu`, which holds the proof that the CPU has them.

use super::sha256::{header_tail_words, nonce_word, DIGEST_PADDING, K};
use crate::mining::job::{MiningJob, SHA256_IV};
use std::arch::x86_64::*;
use std::hint::black_box;

/// A SHA-NI state: the words A, B, E, F in one register and C, D, G, H in the other, highest
/// lane first, as `sha256rnds2` takes them.
#[derive(Clone, Copy)]
struct State {
    abef: __m128i,
    cdgh: __m128i,
}

/// Four message words, the first in the lowest lane.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn group(w: &[u32]) -> __m128i {
    _mm_set_epi32(w[3] as i32, w[2] as i32, w[1] as i32, w[0] as i32)
}

/// A state from its eight words in SHA-256's order.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn to_state(s: &[u32; 8]) -> State {
    let w = |i: usize| s[i] as i32;
    State {
        abef: _mm_set_epi32(w(0), w(1), w(4), w(5)),
        cdgh: _mm_set_epi32(w(2), w(3), w(6), w(7)),
    }
}

/// Word-wise sum: a compression's input state added to its output.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn add_states(s: State, t: State) -> State {
    State {
        abef: _mm_add_epi32(s.abef, t.abef),
        cdgh: _mm_add_epi32(s.cdgh, t.cdgh),
    }
}

/// Four rounds with message words plus round constants `wk`.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn rounds4(s: &mut State, wk: __m128i) {
    // After two rounds the old A, B, E, F are the new C, D, G, H, so the registers swap roles.
    s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
    s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32::<0x0E>(wk));
}

/// Message group `G` (rounds `4G..4G + 4`) from the window `w` of the last four groups, where
/// group `g` sits at `g % 4`: given for the first four, scheduled in place after.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn message<const G: usize>(w: &mut [__m128i; 4]) -> __m128i {
    if G >= 4 {
        let [w4, w3, w2, w1] = [w[G % 4], w[(G + 1) % 4], w[(G + 2) % 4], w[(G + 3) % 4]];
        let t = _mm_sha256msg1_epu32(w4, w3);
        let t = _mm_add_epi32(t, _mm_alignr_epi8::<4>(w1, w2));
        w[G % 4] = _mm_sha256msg2_epu32(t, w1);
    }
    w[G % 4]
}

/// Group `G`'s four rounds on each of `N` streams, stream by stream.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn step<const G: usize, const N: usize>(
    s: &mut [State; N],
    w: &mut [[__m128i; 4]; N],
    k: &[__m128i; 16],
) {
    for (s, w) in s.iter_mut().zip(w.iter_mut()) {
        rounds4(s, _mm_add_epi32(message::<G>(w), k[G]));
    }
}

/// Groups 4 to 14, whose message words are all scheduled; written out so that every group
/// index is a constant and the window stays in registers.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn scheduled_steps<const N: usize>(
    s: &mut [State; N],
    w: &mut [[__m128i; 4]; N],
    k: &[__m128i; 16],
) {
    step::<4, N>(s, w, k);
    step::<5, N>(s, w, k);
    step::<6, N>(s, w, k);
    step::<7, N>(s, w, k);
    step::<8, N>(s, w, k);
    step::<9, N>(s, w, k);
    step::<10, N>(s, w, k);
    step::<11, N>(s, w, k);
    step::<12, N>(s, w, k);
    step::<13, N>(s, w, k);
    step::<14, N>(s, w, k);
}

/// A digest's eight words as the first two message groups of the block that hashes it.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn digest_groups(s: State) -> [__m128i; 2] {
    let feba = _mm_shuffle_epi32::<0x1B>(s.abef);
    let dchg = _mm_shuffle_epi32::<0xB1>(s.cdgh);
    [
        _mm_blend_epi16::<0xF0>(feba, dchg),
        _mm_alignr_epi8::<8>(dchg, feba),
    ]
}

/// The round constants in groups of four.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn k_groups() -> [__m128i; 16] {
    std::array::from_fn(|g| group(&K[4 * g..]))
}

/// What a SHA-NI search precomputes per job.
struct ShaNiJob {
    k: [__m128i; 16],
    /// The midstate, added back after the first compression.
    mid: State,
    /// The state after rounds 0 and 1 of the first compression, registers already swapped.
    after_two: State,
    /// The first message group with the nonce lane zero.
    w0: __m128i,
    /// Message groups 1..4 of the header block.
    header_padding: [__m128i; 3],
    /// The same plus round constants.
    header_padding_k: [__m128i; 3],
    /// Message groups 2..4 of the digest block, and the same plus round constants.
    digest_padding: [__m128i; 2],
    digest_padding_k: [__m128i; 2],
    iv: State,
}

impl ShaNiJob {
    /// Precomputes what every nonce of `job` shares.
    #[inline]
    #[target_feature(enable = "sha,ssse3,sse4.1")]
    fn new(job: &MiningJob) -> ShaNiJob {
        let k = k_groups();
        let words = header_tail_words(job);
        let mid = to_state(&job.midstate);
        let w0 = group(&words);
        let wk0 = _mm_add_epi32(w0, k[0]);
        let after_two = State {
            abef: mid.abef,
            cdgh: _mm_sha256rnds2_epu32(mid.cdgh, mid.abef, wk0),
        };
        let header_padding = std::array::from_fn(|g| group(&words[4 * (g + 1)..]));
        let digest_padding = std::array::from_fn(|g| group(&DIGEST_PADDING[4 * g..]));
        ShaNiJob {
            k,
            mid,
            after_two,
            w0,
            header_padding,
            header_padding_k: std::array::from_fn(|g| _mm_add_epi32(header_padding[g], k[g + 1])),
            digest_padding,
            digest_padding_k: std::array::from_fn(|g| _mm_add_epi32(digest_padding[g], k[g + 2])),
            iv: to_state(&SHA256_IV),
        }
    }

    /// The last state word of the hashes of nonces `first..first + N`, computed side by side.
    #[inline]
    #[target_feature(enable = "sha,ssse3,sse4.1")]
    fn top_words<const N: usize>(&self, first: u32) -> [u32; N] {
        let k = &self.k;
        let mut s = [self.after_two; N];
        let [p1, p2, p3] = self.header_padding;
        let mut w = [[self.w0, p1, p2, p3]; N];
        for (i, (s, w)) in s.iter_mut().zip(&mut w).enumerate() {
            let nonce = nonce_word(first.wrapping_add(i as u32));
            w[0] = _mm_insert_epi32::<3>(self.w0, nonce as i32);
            let wk = _mm_add_epi32(w[0], k[0]);
            s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32::<0x0E>(wk));
        }
        for wk in self.header_padding_k {
            s.iter_mut().for_each(|s| rounds4(s, wk));
        }
        scheduled_steps(&mut s, &mut w, k);
        step::<15, N>(&mut s, &mut w, k);

        let mut t = [self.iv; N];
        let [p2, p3] = self.digest_padding;
        for (w, s) in w.iter_mut().zip(&s) {
            let [d0, d1] = digest_groups(add_states(*s, self.mid));
            *w = [d0, d1, p2, p3];
        }
        step::<0, N>(&mut t, &mut w, k);
        step::<1, N>(&mut t, &mut w, k);
        for wk in self.digest_padding_k {
            t.iter_mut().for_each(|t| rounds4(t, wk));
        }
        scheduled_steps(&mut t, &mut w, k);
        let mut top = [0u32; N];
        for ((top, t), w) in top.iter_mut().zip(&t).zip(&mut w) {
            // Rounds 60 and 61 only: F of their result is e after round 60, which rounds 61 to
            // 63 would shift to H unchanged.
            let wk = _mm_add_epi32(message::<15>(w), k[15]);
            let abef = _mm_sha256rnds2_epu32(t.cdgh, t.abef, wk);
            *top = (_mm_cvtsi128_si32(abef) as u32).wrapping_add(SHA256_IV[7]);
        }
        top
    }
}

/// The first of `batches` batches of `N` nonces from `first` with a candidate, and the mask of
/// its candidate lanes.
#[target_feature(enable = "sha,ssse3,sse4.1")]
pub(super) fn scan<const N: usize>(
    job: &MiningJob,
    first: u32,
    batches: u32,
) -> Option<(u32, u32)> {
    let prepared = ShaNiJob::new(job);
    (0..batches).find_map(|b| {
        let at = first + b * N as u32;
        let mask = super::candidates(job, &prepared.top_words::<N>(at));
        (mask != 0).then_some((at, mask))
    })
}

/// The last state word of the hashes of nonces `first..first + N`.
#[cfg(test)]
#[target_feature(enable = "sha,ssse3,sse4.1")]
pub(super) fn top_words<const N: usize>(job: &MiningJob, first: u32) -> [u32; N] {
    ShaNiJob::new(job).top_words::<N>(first)
}

/// `count` full compressions on each of `N` chained states, interleaved as the miner's are.
#[target_feature(enable = "sha,ssse3,sse4.1")]
pub(super) fn compress_streams<const N: usize>(count: u32) -> u32 {
    let k = k_groups();
    let block = [group(&[super::STREAM_BLOCK_WORD; 4]); 4];
    let mut s: [State; N] = std::array::from_fn(|i| to_state(&[i as u32; 8]));
    for _ in 0..count {
        // Opaque and one per stream, so each stream's message schedule is computed each time,
        // as each nonce's is when mining.
        let mut w: [_; N] = std::array::from_fn(|_| black_box(block));
        let start = s;
        step::<0, N>(&mut s, &mut w, &k);
        step::<1, N>(&mut s, &mut w, &k);
        step::<2, N>(&mut s, &mut w, &k);
        step::<3, N>(&mut s, &mut w, &k);
        scheduled_steps(&mut s, &mut w, &k);
        step::<15, N>(&mut s, &mut w, &k);
        for (s, start) in s.iter_mut().zip(start) {
            *s = add_states(*s, start);
        }
    }
    // The lowest lanes hold F and H.
    s.iter().fold(0, |acc, s| {
        acc ^ _mm_cvtsi128_si32(_mm_xor_si128(s.abef, s.cdgh)) as u32
    })
}
