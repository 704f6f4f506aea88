//! Nonce-search kernels: the instructions that hash nonces, chosen once for the CPU.
//!
//! Every kernel hashes a batch of nonces at once and reports which of them have a hash whose top
//! 32 bits do not exceed the target's; those few are checked in full here, in nonce order, so
//! every kernel finds the same nonce for the same job and range: the lowest that solves it.
//! Picking a kernel is runtime feature detection, which reads the CPU, not the world, so it
//! keeps the core deterministic.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod cpu;
mod portable;
#[cfg(target_arch = "x86_64")]
mod sha256;
#[cfg(target_arch = "x86_64")]
mod sha_ni;

use super::job::MiningJob;
use std::fmt;
use std::ops::RangeInclusive;

/// Nonces the portable kernel hashes side by side.
const PORTABLE_LANES: usize = 8;

/// A nonce-search kernel this CPU can run. Only [`Kernel::detect`] and [`Kernel::supported`]
/// make one, so a kernel whose instructions the CPU lacks cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel(Choice);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2(cpu::Avx2),
    #[cfg(target_arch = "x86_64")]
    ShaNi2(cpu::ShaNi),
    #[cfg(target_arch = "x86_64")]
    ShaNi4(cpu::ShaNi),
}

/// Every message word of the block [`Kernel::compress_streams`] compresses.
const STREAM_BLOCK_WORD: u32 = 0x5a5a_5a5a;

/// What [`Kernel::compress_streams`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compressed {
    /// SHA-256 compressions run.
    pub compressions: u64,
    /// The final states' words F and H, XORed over the streams: the same for every kernel,
    /// and for `black_box`, so the work is not optimised away.
    pub fold: u32,
}

impl Kernel {
    /// The kernel that runs anywhere: `sha2`'s compression function.
    pub const PORTABLE: Kernel = Kernel(Choice::Portable);

    /// The fastest kernel this CPU runs: SHA-NI with two nonces interleaved where it has the
    /// SHA extensions (two streams already fill the SHA unit; four spill registers), AVX2 with
    /// eight lanes where it has only AVX2, the portable kernel otherwise.
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(cpu) = cpu::ShaNi::detect() {
                return Kernel(Choice::ShaNi2(cpu));
            }
            if let Some(cpu) = cpu::Avx2::detect() {
                return Kernel(Choice::Avx2(cpu));
            }
        }
        Kernel::PORTABLE
    }

    /// Every kernel this CPU runs, the portable one first (for tests and benchmarks).
    pub fn supported() -> Vec<Kernel> {
        #[allow(unused_mut)]
        let mut kernels = vec![Kernel::PORTABLE];
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(cpu) = cpu::Avx2::detect() {
                kernels.push(Kernel(Choice::Avx2(cpu)));
            }
            if let Some(cpu) = cpu::ShaNi::detect() {
                kernels.push(Kernel(Choice::ShaNi2(cpu)));
                kernels.push(Kernel(Choice::ShaNi4(cpu)));
            }
        }
        kernels
    }

    /// Nonces hashed per batch.
    pub fn lanes(self) -> usize {
        match self.0 {
            Choice::Portable => PORTABLE_LANES,
            #[cfg(target_arch = "x86_64")]
            Choice::Avx2(_) => avx2::LANES,
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi2(_) => 2,
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi4(_) => 4,
        }
    }

    /// The first nonce in `nonces`, in increasing order, whose header hash meets the job's
    /// target. Whole batches go to the kernel; the few nonces left at the end of the range are
    /// hashed one by one.
    pub fn search(self, job: &MiningJob, nonces: RangeInclusive<u32>) -> Option<u32> {
        let (first, last) = nonces.into_inner();
        let end = u64::from(last) + 1;
        let lanes = self.lanes() as u64;
        let mut next = u64::from(first);
        while end.saturating_sub(next) >= lanes {
            let batches = u32::try_from((end - next) / lanes).unwrap_or(u32::MAX);
            match self.scan(job, next as u32, batches) {
                None => next += u64::from(batches) * lanes,
                Some((at, mask)) => {
                    let solution = (0..lanes as u32)
                        .filter(|lane| mask & (1 << lane) != 0)
                        .map(|lane| at + lane)
                        .find(|&nonce| solves(job, nonce));
                    if solution.is_some() {
                        return solution;
                    }
                    next = u64::from(at) + lanes;
                }
            }
        }
        (next..end).map(|n| n as u32).find(|&n| solves(job, n))
    }

    /// The kernel's `scan`: the first of `batches` batches from `first` with a candidate.
    fn scan(self, job: &MiningJob, first: u32, batches: u32) -> Option<(u32, u32)> {
        match self.0 {
            Choice::Portable => portable::scan::<PORTABLE_LANES>(job, first, batches),
            #[cfg(target_arch = "x86_64")]
            Choice::Avx2(cpu) => cpu.scan(job, first, batches),
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi2(cpu) => cpu.scan::<2>(job, first, batches),
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi4(cpu) => cpu.scan::<4>(job, first, batches),
        }
    }

    /// Runs `count` chained SHA-256 compressions on each of `streams` independent streams (1,
    /// 2, 4 or 8; `None` otherwise) with this kernel's compression instructions, interleaved as
    /// its search interleaves nonces: what the CPU can do, for comparison with the search.
    /// Stream `i` starts from the state with every word `i` and compresses a block whose every
    /// word is 0x5a5a5a5a. An AVX2 stream is eight lanes, so eight compressions at a time.
    pub fn compress_streams(self, streams: usize, count: u32) -> Option<Compressed> {
        if ![1, 2, 4, 8].contains(&streams) {
            return None;
        }
        let per_stream = match self.0 {
            #[cfg(target_arch = "x86_64")]
            Choice::Avx2(_) => avx2::LANES as u64,
            _ => 1,
        };
        let fold = match self.0 {
            Choice::Portable => portable::compress_streams(streams, count),
            #[cfg(target_arch = "x86_64")]
            Choice::Avx2(cpu) => match streams {
                1 => cpu.compress_streams::<1>(count),
                2 => cpu.compress_streams::<2>(count),
                4 => cpu.compress_streams::<4>(count),
                _ => cpu.compress_streams::<8>(count),
            },
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi2(cpu) | Choice::ShaNi4(cpu) => match streams {
                1 => cpu.compress_streams::<1>(count),
                2 => cpu.compress_streams::<2>(count),
                4 => cpu.compress_streams::<4>(count),
                _ => cpu.compress_streams::<8>(count),
            },
        };
        Some(Compressed {
            compressions: streams as u64 * u64::from(count) * per_stream,
            fold,
        })
    }

    /// The last state word of the hashes of the batch of nonces from `first`.
    #[cfg(test)]
    fn top_words(self, job: &MiningJob, first: u32) -> Vec<u32> {
        match self.0 {
            Choice::Portable => portable::top_words::<PORTABLE_LANES>(job, first).to_vec(),
            #[cfg(target_arch = "x86_64")]
            Choice::Avx2(cpu) => cpu.top_words(job, first).to_vec(),
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi2(cpu) => cpu.top_words::<2>(job, first).to_vec(),
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi4(cpu) => cpu.top_words::<4>(job, first).to_vec(),
        }
    }
}

/// As btcd's log names it: the instructions and the nonces hashed at once.
impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            Choice::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Choice::Avx2(_) => "avx2",
            #[cfg(target_arch = "x86_64")]
            Choice::ShaNi2(_) | Choice::ShaNi4(_) => "sha-ni",
        };
        write!(f, "{name} x{}", self.lanes())
    }
}

/// The lanes (bit `i` for `top_words[i]`) whose hash's top 32 bits do not exceed the target's.
/// Read as a little-endian number the hash has its top 32 bits in the last state word,
/// byte-swapped.
fn candidates(job: &MiningJob, top_words: &[u32]) -> u32 {
    top_words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.swap_bytes() <= job.target_top)
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

/// The full comparison of `nonce`'s hash with the target, for a candidate.
#[cold]
fn solves(job: &MiningJob, nonce: u32) -> bool {
    let mut hash = [0u8; 32];
    for (chunk, word) in hash.chunks_exact_mut(4).zip(portable::hash(job, nonce)) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    job.hash_meets_target(&hash)
}

#[cfg(test)]
mod tests;
