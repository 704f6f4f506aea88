//! Fuzzing over rbtcd-core. See `fuzz/README.md`.
//!
//! Each target's case (what one input means and the oracles it is checked against) lives here
//! once and is driven two ways: by the seeded, coverage-free mutation loops in `src/bin/`
//! (stable toolchain, no extra tools), and by the coverage-guided libFuzzer targets in
//! `fuzz_targets/` (`cargo fuzz run`), which read their choices from the fuzzer's bytes.

pub mod corpus;
pub mod node_case;
pub mod rpc_case;
pub mod script_case;
/// Reading `../shared/vectors/`: the core's integration-test helpers, shared.
#[path = "../../core/tests/common/mod.rs"]
pub mod vectors;
pub mod wire_case;

use std::path::PathBuf;

/// Where a case's choices come from: a seeded generator, or the bytes libFuzzer mutates.
pub trait Source {
    /// The next 64 bits of choice.
    fn next_u64(&mut self) -> u64;

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability 1/`n` (for a generator).
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// Up to `len` bytes (fewer when a byte source runs out).
    fn bytes(&mut self, len: usize) -> Vec<u8>;

    /// True when nothing is left to choose from (a case then ends).
    fn exhausted(&self) -> bool;
}

/// A small deterministic generator (SplitMix64): the same seed replays the same run.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
}

impl Source for Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    fn exhausted(&self) -> bool {
        false
    }
}

/// Choices read from a fuzzer's input, front to back, each taking as few bytes as its range
/// needs (so libFuzzer's byte-level mutations map onto single decisions); zeros once it runs
/// out.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// Choices from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }
}

impl Source for Bytes<'_> {
    fn next_u64(&mut self) -> u64 {
        let mut word = [0u8; 8];
        let head = self.take(8);
        word[..head.len()].copy_from_slice(head);
        u64::from_le_bytes(word)
    }

    fn below(&mut self, n: usize) -> usize {
        let mut word = [0u8; 8];
        let head = self.take(choice_width(n));
        word[..head.len()].copy_from_slice(head);
        (u64::from_le_bytes(word) % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        self.take(len).to_vec()
    }

    fn exhausted(&self) -> bool {
        self.data.is_empty()
    }
}

/// Bytes a [`Bytes`] source reads for a choice among `n`.
fn choice_width(n: usize) -> usize {
    match n {
        0..=256 => 1,
        257..=65_536 => 2,
        _ => 8,
    }
}

/// A source that records each choice of another as the bytes a [`Bytes`] source would need to
/// make the same choice: running a case on a seeded generator through it gives a libFuzzer
/// input that replays that case (how the node and script corpora are seeded).
pub struct Recorder<S> {
    inner: S,
    /// The recorded input.
    pub tape: Vec<u8>,
}

impl<S: Source> Recorder<S> {
    /// Records the choices `inner` makes.
    pub fn new(inner: S) -> Self {
        Recorder {
            inner,
            tape: Vec::new(),
        }
    }
}

impl<S: Source> Source for Recorder<S> {
    fn next_u64(&mut self) -> u64 {
        let v = self.inner.next_u64();
        self.tape.extend_from_slice(&v.to_le_bytes());
        v
    }

    fn below(&mut self, n: usize) -> usize {
        let v = self.inner.below(n);
        self.tape
            .extend_from_slice(&(v as u64).to_le_bytes()[..choice_width(n)]);
        v
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let b = self.inner.bytes(len);
        self.tape.extend_from_slice(&b);
        b
    }

    fn exhausted(&self) -> bool {
        self.inner.exhausted()
    }
}

/// Byte values that tend to sit on decoding boundaries: CompactSize prefixes, sign bits, zero.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff, 0x40, 0x20];

/// Applies one to four random edits to `data`: bit flips, byte overwrites with boundary
/// values, inserted or deleted runs, duplicated slices.
pub fn mutate(rng: &mut impl Source, data: &mut Vec<u8>) {
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

/// Runs `case` on every file named on the command line (files or directories of files), for
/// replaying a libFuzzer corpus or crash without libFuzzer; exits non-zero if any panicked.
pub fn replay_files(case: impl Fn(&[u8])) {
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        let path = PathBuf::from(arg);
        match std::fs::read_dir(&path) {
            Ok(dir) => files.extend(dir.flatten().map(|e| e.path())),
            Err(_) => files.push(path),
        }
    }
    files.sort();
    let mut failed = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&data))).is_err() {
            eprintln!("failed: {}", f.display());
            failed += 1;
        }
    }
    println!("replayed {} inputs, {failed} failed", files.len());
    if failed > 0 {
        std::process::exit(1);
    }
}
