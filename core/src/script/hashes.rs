//! The hash functions scripts use besides double SHA-256.

use ripemd::Ripemd160;
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub use crate::primitives::hash::{sha256, sha256d};

/// RIPEMD-160.
pub fn ripemd160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(data).into()
}

/// SHA-1.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

/// RIPEMD-160 of SHA-256: public key and script hashes.
pub fn hash160(data: &[u8]) -> [u8; 20] {
    ripemd160(&sha256(data))
}

/// A SHA-256 hasher primed with BIP340's tag prefix `sha256(tag) || sha256(tag)`.
pub fn tagged_hasher(tag: &str) -> Sha256 {
    let t = sha256(tag.as_bytes());
    let mut h = Sha256::new();
    h.update(t);
    h.update(t);
    h
}

/// BIP340 tagged hash of `data`.
pub fn tagged_hash(tag: &str, data: &[u8]) -> [u8; 32] {
    let mut h = tagged_hasher(tag);
    h.update(data);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::hash::hex_encode;

    #[test]
    fn known_digests_of_abc() {
        assert_eq!(
            hex_encode(&ripemd160(b"abc")),
            "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
        );
        assert_eq!(
            hex_encode(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
