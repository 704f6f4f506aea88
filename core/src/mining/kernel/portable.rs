//! The kernel for any CPU: `sha2`'s compression function (which uses the CPU's SHA extensions
//! itself where it finds them), `N` nonces hashed side by side.

use crate::mining::job::{MiningJob, ShaBlock, NONCE_OFFSET, SHA256_IV};

/// The second hash's input block: a 32-byte digest followed by SHA-256 padding for 256 bits.
fn second_hash_block() -> ShaBlock {
    let mut b = [0u8; 64];
    b[32] = 0x80;
    b[56..].copy_from_slice(&(32u64 * 8).to_be_bytes());
    b.into()
}

/// The input blocks of `N` nonces hashed together; only nonce bytes and digests change.
struct Lanes<const N: usize> {
    tails: [ShaBlock; N],
    digests: [ShaBlock; N],
}

impl<const N: usize> Lanes<N> {
    fn new(job: &MiningJob) -> Self {
        Lanes {
            tails: [job.tail; N],
            digests: [second_hash_block(); N],
        }
    }

    /// The final states (the hashes as big-endian words) of nonces `first..first + N`.
    /// Consecutive compressions of one nonce depend on each other, so one nonce at a time
    /// would leave the SHA units waiting on latency; independent nonces overlap.
    #[inline(always)]
    fn hashes(&mut self, job: &MiningJob, first: u32) -> [[u32; 8]; N] {
        let mut states = [job.midstate; N];
        for (k, (state, tail)) in states.iter_mut().zip(&mut self.tails).enumerate() {
            let nonce = first.wrapping_add(k as u32);
            tail[NONCE_OFFSET..NONCE_OFFSET + 4].copy_from_slice(&nonce.to_le_bytes());
            sha2::compress256(state, std::slice::from_ref(tail));
        }
        let mut hashes = [SHA256_IV; N];
        for ((hash, state), digest) in hashes.iter_mut().zip(&states).zip(&mut self.digests) {
            for (chunk, word) in digest[..32].chunks_exact_mut(4).zip(state) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
            sha2::compress256(hash, std::slice::from_ref(digest));
        }
        hashes
    }

    fn top_words(&mut self, job: &MiningJob, first: u32) -> [u32; N] {
        self.hashes(job, first).map(|h| h[7])
    }
}

/// As the SIMD kernels' `scan`: the first of `batches` batches of `N` nonces from `first` with
/// a candidate, and the mask of its candidate lanes.
pub(super) fn scan<const N: usize>(
    job: &MiningJob,
    first: u32,
    batches: u32,
) -> Option<(u32, u32)> {
    let mut lanes = Lanes::<N>::new(job);
    (0..batches).find_map(|b| {
        let at = first + b * N as u32;
        let mask = super::candidates(job, &lanes.top_words(job, at));
        (mask != 0).then_some((at, mask))
    })
}

/// The header hash of `nonce` as SHA-256's final state words.
pub(super) fn hash(job: &MiningJob, nonce: u32) -> [u32; 8] {
    let [h] = Lanes::<1>::new(job).hashes(job, nonce);
    h
}

/// The last state word of the hashes of nonces `first..first + N`.
#[cfg(test)]
pub(super) fn top_words<const N: usize>(job: &MiningJob, first: u32) -> [u32; N] {
    Lanes::<N>::new(job).top_words(job, first)
}

/// `count` compressions on each of `streams` chained states; see
/// [`super::Kernel::compress_streams`].
pub(super) fn compress_streams(streams: usize, count: u32) -> u32 {
    let block = ShaBlock::clone_from_slice(&super::STREAM_BLOCK_WORD.to_be_bytes().repeat(16));
    let mut states: Vec<[u32; 8]> = (0..streams).map(|i| [i as u32; 8]).collect();
    for _ in 0..count {
        for state in &mut states {
            sha2::compress256(state, std::hint::black_box(std::slice::from_ref(&block)));
        }
    }
    states.iter().fold(0, |acc, s| acc ^ s[5] ^ s[7])
}
