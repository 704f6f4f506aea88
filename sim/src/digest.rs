//! The trace digest: a running 64-bit FNV-1a over everything observable a run did (blocks
//! connected and disconnected with their times, transactions accepted, disconnects with
//! reasons, bans, crashes and restarts). Equal seeds must give equal digests.

/// A running digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    /// Mixes `bytes` in.
    pub fn add(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The value so far.
    pub fn value(&self) -> u64 {
        self.0
    }
}
