//! Fuzz drivers over rbtcd-core. See `fuzz/README.md`.
//!
//! The toolchain is stable and has no libFuzzer, so the drivers are plain binaries: a seeded,
//! coverage-free mutation loop over valid inputs. This crate holds what they share.

/// A small deterministic generator (SplitMix64): the same seed replays the same run.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Byte values that tend to sit on decoding boundaries: CompactSize prefixes, sign bits, zero.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff, 0x40, 0x20];

/// Applies one to four random edits to `data`: bit flips, byte overwrites with boundary
/// values, inserted or deleted runs, duplicated slices.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                data[at] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let run = rng.bytes(n);
                data.splice(at..at, run);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                data.drain(at..end);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            _ if len >= 4 => {
                // Overwrite a little-endian u32 with a boundary value (counts, lengths).
                let at = rng.below(len - 3);
                let v: u32 =
                    [0, 1, 0xfc, 0xfd, 0xffff, 0x1_0000, 2000, 50_001, u32::MAX][rng.below(9)];
                data[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            _ => data.push(rng.next_u64() as u8),
        }
    }
}

/// Prints only the first panic's message: a run may catch many, and their inputs are saved or
/// counted rather than each flooding the terminal.
pub fn print_first_panic_only() {
    let default_hook = std::panic::take_hook();
    let first = std::sync::atomic::AtomicBool::new(true);
    std::panic::set_hook(Box::new(move |info| {
        if first.swap(false, std::sync::atomic::Ordering::Relaxed) {
            default_hook(info);
        }
    }));
}

/// The `<seed> <seconds>` arguments every driver takes; prints the usage for `name` and exits
/// with status 2 when they are missing or not numbers.
pub fn seed_and_seconds(name: &str) -> (u64, u64) {
    let args: Vec<String> = std::env::args().collect();
    match (
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
    ) {
        (Some(seed), Some(secs)) => (seed, secs),
        _ => {
            eprintln!("usage: {name} <seed: u64> <seconds: u64>");
            std::process::exit(2);
        }
    }
}
