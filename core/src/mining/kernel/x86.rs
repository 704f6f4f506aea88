//! The x86-64 nonce-search kernels: SHA-NI with two or four nonces interleaved, AVX2 with eight
//! nonces in the lanes of one vector, and the same compression instructions run on independent
//! streams for the benchmark's ceiling.
//!
//! This is the workspace's one module allowed `unsafe`. Its intrinsics are safe inside
//! `#[target_feature]` functions; what is unsafe is calling such a function, since running it on
//! a CPU without the feature is undefined behaviour. So every entry point is a method of a CPU
//! token ([`ShaNi`], [`Avx2`]) that only runtime detection creates, and each `unsafe` block is
//! one such call.
//!
//! Both kernels do per nonce what `portable` does with `sha2`, with the work that does not depend
//! on the nonce taken out: the first compression starts after the rounds that only read the
//! merkle root's tail, time and bits (two rounds for SHA-NI, which runs rounds in pairs; three
//! for AVX2), the padding words of both compressions have their round constants added once, and
//! the second compression stops after round 60, whose `e` is the hash's last state word (the
//! last three rounds only shift it along to `h`). That word is all a kernel returns; the caller
//! checks the rare candidate in full.
#![allow(unsafe_code)]

use crate::mining::job::{MiningJob, NONCE_OFFSET, SHA256_IV};
use std::arch::x86_64::*;
use std::hint::black_box;

/// SHA-256's round constants.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Message words 4..16 of the header's second block: padding and the length (640 bits).
const HEADER_PADDING: [u32; 12] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 640];
/// Message words 8..16 of the second hash's block: padding and the length (256 bits).
const DIGEST_PADDING: [u32; 8] = [0x8000_0000, 0, 0, 0, 0, 0, 0, 256];

/// The message words of the header's second block (big-endian, as SHA-256 reads them) with the
/// nonce word left zero.
fn header_tail_words(job: &MiningJob) -> [u32; 16] {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(job.tail[..NONCE_OFFSET].chunks_exact(4)) {
        *word = u32::from_be_bytes(bytes.try_into().expect("four bytes"));
    }
    w[4..].copy_from_slice(&HEADER_PADDING);
    w
}

/// The nonce as the header's fourth message word: its little-endian bytes read big-endian.
fn nonce_word(nonce: u32) -> u32 {
    nonce.swap_bytes()
}

/// Proof that this CPU runs the SHA-NI kernels (SHA extensions, SSSE3, SSE4.1). Only
/// [`ShaNi::detect`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ShaNi(());

impl ShaNi {
    /// The token, when this CPU has the features.
    pub(super) fn detect() -> Option<ShaNi> {
        let found = is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("ssse3")
            && is_x86_feature_detected!("sse4.1");
        found.then_some(ShaNi(()))
    }

    /// Scans `batches` batches of `N` nonces from `first` (the caller keeps them inside the
    /// nonce space): the first batch with a lane whose hash's top word does not exceed the
    /// target's, as its first nonce and the mask of such lanes.
    pub(super) fn scan<const N: usize>(
        self,
        job: &MiningJob,
        first: u32,
        batches: u32,
    ) -> Option<(u32, u32)> {
        // SAFETY: `self` exists only where `detect` found every feature `sha_ni_scan` enables.
        unsafe { sha_ni_scan::<N>(job, first, batches) }
    }

    /// Runs `count` compressions on each of `N` independent streams; see
    /// [`super::Kernel::compress_streams`].
    pub(super) fn compress_streams<const N: usize>(self, count: u32) -> u32 {
        // SAFETY: `self` exists only where `detect` found every feature `sha_ni_streams` enables.
        unsafe { sha_ni_streams::<N>(count) }
    }

    /// The last state word of the hashes of nonces `first..first + N`.
    #[cfg(test)]
    pub(super) fn top_words<const N: usize>(self, job: &MiningJob, first: u32) -> [u32; N] {
        // SAFETY: `self` exists only where `detect` found every feature `sha_ni_top` enables.
        unsafe { sha_ni_top::<N>(job, first) }
    }
}

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

#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn to_state(s: &[u32; 8]) -> State {
    let w = |i: usize| s[i] as i32;
    State {
        abef: _mm_set_epi32(w(0), w(1), w(4), w(5)),
        cdgh: _mm_set_epi32(w(2), w(3), w(6), w(7)),
    }
}

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

/// The next four message words from the last sixteen, which move along by four.
#[inline]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn next_group(w: &mut [__m128i; 4]) -> __m128i {
    let t = _mm_sha256msg1_epu32(w[0], w[1]);
    let t = _mm_add_epi32(t, _mm_alignr_epi8::<4>(w[3], w[2]));
    let n = _mm_sha256msg2_epu32(t, w[3]);
    *w = [w[1], w[2], w[3], n];
    n
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
        let mut w = [[self.w0; 4]; N];
        for (i, (s, w)) in s.iter_mut().zip(&mut w).enumerate() {
            let nonce = nonce_word(first.wrapping_add(i as u32));
            let w0 = _mm_insert_epi32::<3>(self.w0, nonce as i32);
            let wk = _mm_add_epi32(w0, k[0]);
            s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32::<0x0E>(wk));
            let [w1, w2, w3] = self.header_padding;
            *w = [w0, w1, w2, w3];
        }
        for wk in self.header_padding_k {
            s.iter_mut().for_each(|s| rounds4(s, wk));
        }
        for k in &k[4..] {
            for (s, w) in s.iter_mut().zip(&mut w) {
                rounds4(s, _mm_add_epi32(next_group(w), *k));
            }
        }
        let mut t = [self.iv; N];
        for ((t, s), w) in t.iter_mut().zip(&s).zip(&mut w) {
            let [d0, d1] = digest_groups(add_states(*s, self.mid));
            let [p2, p3] = self.digest_padding;
            *w = [d0, d1, p2, p3];
            rounds4(t, _mm_add_epi32(d0, k[0]));
        }
        for (t, w) in t.iter_mut().zip(&w) {
            rounds4(t, _mm_add_epi32(w[1], k[1]));
        }
        for wk in self.digest_padding_k {
            t.iter_mut().for_each(|t| rounds4(t, wk));
        }
        for k in &k[4..15] {
            for (t, w) in t.iter_mut().zip(&mut w) {
                rounds4(t, _mm_add_epi32(next_group(w), *k));
            }
        }
        let mut top = [0u32; N];
        for ((top, t), w) in top.iter_mut().zip(&t).zip(&mut w) {
            // Rounds 60 and 61 only: F of their result is e after round 60, which rounds 61 to
            // 63 would shift to H unchanged.
            let wk = _mm_add_epi32(next_group(w), k[15]);
            let abef = _mm_sha256rnds2_epu32(t.cdgh, t.abef, wk);
            *top = (_mm_cvtsi128_si32(abef) as u32).wrapping_add(SHA256_IV[7]);
        }
        top
    }
}

#[target_feature(enable = "sha,ssse3,sse4.1")]
fn sha_ni_scan<const N: usize>(job: &MiningJob, first: u32, batches: u32) -> Option<(u32, u32)> {
    let prepared = ShaNiJob::new(job);
    (0..batches).find_map(|b| {
        let at = first + b * N as u32;
        let mask = super::candidates(job, &prepared.top_words::<N>(at));
        (mask != 0).then_some((at, mask))
    })
}

#[cfg(test)]
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn sha_ni_top<const N: usize>(job: &MiningJob, first: u32) -> [u32; N] {
    ShaNiJob::new(job).top_words::<N>(first)
}

/// `count` full compressions on each of `N` chained states, interleaved as the miner's are.
#[target_feature(enable = "sha,ssse3,sse4.1")]
fn sha_ni_streams<const N: usize>(count: u32) -> u32 {
    let k = k_groups();
    let block = [group(&[super::STREAM_BLOCK_WORD; 4]); 4];
    let mut s: [State; N] = std::array::from_fn(|i| to_state(&[i as u32; 8]));
    for _ in 0..count {
        // Opaque, so the message schedule is computed each time as it is when mining.
        let mut w = [black_box(block); N];
        let start = s;
        for (g, k) in k.iter().enumerate() {
            for (s, w) in s.iter_mut().zip(&mut w) {
                let m = if g < 4 { w[g] } else { next_group(w) };
                rounds4(s, _mm_add_epi32(m, *k));
            }
        }
        for (s, start) in s.iter_mut().zip(start) {
            *s = add_states(*s, start);
        }
    }
    // The lowest lanes hold F and H.
    s.iter()
        .fold(0, |acc, s| acc ^ _mm_cvtsi128_si32(_mm_xor_si128(s.abef, s.cdgh)) as u32)
}

/// Proof that this CPU runs the AVX2 kernel. Only [`Avx2::detect`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Avx2(());

/// Nonces an AVX2 batch hashes, one per 32-bit lane.
pub(super) const AVX2_LANES: usize = 8;

impl Avx2 {
    /// The token, when this CPU has AVX2.
    pub(super) fn detect() -> Option<Avx2> {
        is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }

    /// As [`ShaNi::scan`], eight nonces a batch.
    pub(super) fn scan(self, job: &MiningJob, first: u32, batches: u32) -> Option<(u32, u32)> {
        // SAFETY: `self` exists only where `detect` found AVX2, all `avx2_scan` enables.
        unsafe { avx2_scan(job, first, batches) }
    }

    /// Runs `count` compressions on each of eight lanes of `N` independent streams; see
    /// [`super::Kernel::compress_streams`].
    pub(super) fn compress_streams<const N: usize>(self, count: u32) -> u32 {
        // SAFETY: `self` exists only where `detect` found AVX2, all `avx2_streams` enables.
        unsafe { avx2_streams::<N>(count) }
    }

    /// The last state word of the hashes of nonces `first..first + 8`.
    #[cfg(test)]
    pub(super) fn top_words(self, job: &MiningJob, first: u32) -> [u32; AVX2_LANES] {
        // SAFETY: `self` exists only where `detect` found AVX2, all `avx2_top` enables.
        unsafe { avx2_top(job, first) }
    }
}

/// Eight SHA-256 states side by side: `s[0]` holds the eight lanes' `a`, and so on.
type Lanes8 = [__m256i; 8];

#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u32) -> __m256i {
    _mm256_set1_epi32(x as i32)
}

#[inline]
#[target_feature(enable = "avx2")]
fn add(a: __m256i, b: __m256i) -> __m256i {
    _mm256_add_epi32(a, b)
}

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
    let s0 = xor3(rotr::<7, 25>(w15), rotr::<18, 14>(w15), _mm256_srli_epi32::<3>(w15));
    let s1 = xor3(rotr::<17, 15>(w2), rotr::<19, 13>(w2), _mm256_srli_epi32::<10>(w2));
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

/// One scalar round, for the rounds done once per job.
fn scalar_round(s: [u32; 8], wk: u32) -> [u32; 8] {
    let [a, b, c, d, e, f, g, h] = s;
    let big_s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let ch = (e & f) ^ (!e & g);
    let t1 = h
        .wrapping_add(big_s1)
        .wrapping_add(ch)
        .wrapping_add(wk);
    let big_s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let maj = (a & b) | (c & (a | b));
    let t2 = big_s0.wrapping_add(maj);
    [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g]
}

#[inline]
#[target_feature(enable = "avx2")]
fn lanes(v: __m256i) -> [u32; AVX2_LANES] {
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

#[target_feature(enable = "avx2")]
fn avx2_scan(job: &MiningJob, first: u32, batches: u32) -> Option<(u32, u32)> {
    let prepared = Avx2Job::new(job);
    (0..batches).find_map(|b| {
        let at = first + b * AVX2_LANES as u32;
        let mask = super::candidates(job, &lanes(prepared.top_words(at)));
        (mask != 0).then_some((at, mask))
    })
}

#[cfg(test)]
#[target_feature(enable = "avx2")]
fn avx2_top(job: &MiningJob, first: u32) -> [u32; AVX2_LANES] {
    lanes(Avx2Job::new(job).top_words(first))
}

/// `count` full compressions on each lane of `N` chained eight-lane states.
#[target_feature(enable = "avx2")]
fn avx2_streams<const N: usize>(count: u32) -> u32 {
    let block = [splat(super::STREAM_BLOCK_WORD); 16];
    let mut s: [Lanes8; N] = std::array::from_fn(|i| [splat(i as u32); 8]);
    for _ in 0..count {
        // Opaque, so the message schedule is computed each time as it is when mining.
        let mut w = [black_box(block); N];
        let end = rounds(s, &mut w, 0..64);
        s = std::array::from_fn(|i| add_lanes(end[i], s[i]));
    }
    s.iter()
        .fold(0, |acc, s| acc ^ lanes(_mm256_xor_si256(s[5], s[7]))[0])
}
