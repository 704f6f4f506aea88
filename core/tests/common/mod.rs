//! Helpers shared by the core's integration tests and benches: reading `../shared/vectors/`, and
//! the benches' items-per-second measure.
#![allow(dead_code)]

use bzip2::read::BzDecoder;
use rbtcd_core::primitives::{Block, Decodable};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The shared vectors directory: `shared/vectors` in the nearest ancestor of this package that
/// has one (`../shared/vectors` from the project root; also found from a git worktree nested
/// deeper, such as `/work/wt/<name>`).
pub fn vectors_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared/vectors"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| manifest.join("../../shared/vectors"))
}

/// The raw bytes of a vector file.
pub fn read_vector(name: &str) -> Vec<u8> {
    let path = vectors_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A bzip2-compressed vector file, decompressed.
pub fn read_bz2(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    BzDecoder::new(&read_vector(name)[..])
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("decompressing {name}: {e}"));
    out
}

/// The serialized blocks in a record file (magic u32 LE, length u32 LE, block), in order.
pub fn block_records(name: &str) -> Vec<Vec<u8>> {
    let data = read_bz2(name);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= data.len() {
        let len = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap()) as usize;
        out.push(data[pos + 8..pos + 8 + len].to_vec());
        pos += 8 + len;
    }
    assert_eq!(
        pos,
        data.len(),
        "{name}: trailing bytes after the last record"
    );
    out
}

/// The decoded blocks in a record file.
pub fn blocks(name: &str) -> Vec<Block> {
    block_records(name)
        .iter()
        .map(|b| Block::decode(b).expect("vector block decodes"))
        .collect()
}

/// Runs `f` (which processes `per_call` items) repeatedly for about `secs` seconds and returns
/// items per second (the benches' measure).
pub fn rate(secs: f64, per_call: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        f();
        calls += 1;
    }
    (calls * per_call as u64) as f64 / start.elapsed().as_secs_f64()
}
