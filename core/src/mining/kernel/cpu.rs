//! Proof that the CPU has an instruction set, and the calls into the kernels that need it.
//!
//! This is the workspace's one module allowed `unsafe`. The kernels' intrinsics are safe inside
//! `#[target_feature]` functions; what is unsafe is calling such a function from code compiled
//! for the baseline CPU, since running it where the instructions are missing is undefined
//! behaviour. So the kernels are reached only through the methods of a token ([`ShaNi`],
//! [`Avx2`]) that runtime detection alone creates, and each `unsafe` block is one such call.
#![allow(unsafe_code)]

use super::{avx2, sha_ni};
use crate::mining::job::MiningJob;

/// Proof that this CPU runs the SHA-NI kernel (SHA extensions, SSSE3, SSE4.1). Only
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
        // SAFETY: `self` exists only where `detect` found every feature `scan` enables.
        unsafe { sha_ni::scan::<N>(job, first, batches) }
    }

    /// Runs `count` compressions on each of `N` independent streams; see
    /// [`super::Kernel::compress_streams`].
    pub(super) fn compress_streams<const N: usize>(self, count: u32) -> u32 {
        // SAFETY: `self` exists only where `detect` found every feature this function enables.
        unsafe { sha_ni::compress_streams::<N>(count) }
    }

    /// The last state word of the hashes of nonces `first..first + N`.
    #[cfg(test)]
    pub(super) fn top_words<const N: usize>(self, job: &MiningJob, first: u32) -> [u32; N] {
        // SAFETY: `self` exists only where `detect` found every feature `top_words` enables.
        unsafe { sha_ni::top_words::<N>(job, first) }
    }
}

/// Proof that this CPU runs the AVX2 kernel. Only [`Avx2::detect`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Avx2(());

impl Avx2 {
    /// The token, when this CPU has AVX2.
    pub(super) fn detect() -> Option<Avx2> {
        is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }

    /// As [`ShaNi::scan`], eight nonces a batch.
    pub(super) fn scan(self, job: &MiningJob, first: u32, batches: u32) -> Option<(u32, u32)> {
        // SAFETY: `self` exists only where `detect` found AVX2, the one feature `scan` enables.
        unsafe { avx2::scan(job, first, batches) }
    }

    /// Runs `count` compressions on each of eight lanes of `N` independent streams; see
    /// [`super::Kernel::compress_streams`].
    pub(super) fn compress_streams<const N: usize>(self, count: u32) -> u32 {
        // SAFETY: `self` exists only where `detect` found AVX2, the one feature this enables.
        unsafe { avx2::compress_streams::<N>(count) }
    }

    /// The last state word of the hashes of nonces `first..first + 8`.
    #[cfg(test)]
    pub(super) fn top_words(self, job: &MiningJob, first: u32) -> [u32; avx2::LANES] {
        // SAFETY: `self` exists only where `detect` found AVX2, the one feature this enables.
        unsafe { avx2::top_words(job, first) }
    }
}
