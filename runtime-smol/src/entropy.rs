//! Randomness from the operating system, for what must not be predictable: RPC credentials and
//! the node's seed (the core draws everything else from that seed).

use std::io::Read;

/// `N` random bytes from `/dev/urandom`.
pub fn os_random<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// A random 64-bit seed for the node.
pub fn os_seed() -> std::io::Result<u64> {
    os_random::<8>().map(u64::from_le_bytes)
}
