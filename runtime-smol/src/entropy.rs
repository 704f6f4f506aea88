//! Randomness from the operating system, for what must not be predictable: RPC credentials and
//! the node's seed (the core draws everything else from that seed).

/// `N` random bytes from the operating system's generator (`getrandom`).
pub fn os_random<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes)
}

/// A random 64-bit seed for the node.
pub fn os_seed() -> std::io::Result<u64> {
    os_random::<8>().map(u64::from_le_bytes)
}
