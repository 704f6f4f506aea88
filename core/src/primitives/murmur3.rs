//! MurmurHash3 (x86, 32-bit): the fast non-cryptographic hash Bitcoin Core keys its bloom
//! filters and other in-memory structures with. Keyed with a secret seed, it spreads keys a
//! remote peer chooses where that peer cannot predict.

/// MurmurHash3 (x86, 32-bit) of `data` with `seed`.
pub fn murmur3(seed: u32, data: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes(block.try_into().expect("4 bytes"));
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, b) in tail.iter().enumerate() {
            k ^= u32::from(*b) << (8 * i);
        }
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_published_vectors() {
        // Test vectors of MurmurHash3_x86_32 (as in Core's hash tests).
        assert_eq!(murmur3(0, b""), 0);
        assert_eq!(murmur3(0xfba4_c795, b""), 0x6a39_6f08);
        assert_eq!(murmur3(0xffff_ffff, b""), 0x81f1_6f39);
        assert_eq!(murmur3(0, &[0x00]), 0x514e_28b7);
        assert_eq!(murmur3(0xfba4_c795, &[0x00]), 0xea3f_0b17);
        assert_eq!(murmur3(0, &[0xff]), 0xfd6c_f10d);
        assert_eq!(murmur3(0, &[0x00, 0x11]), 0x16c6_b7ab);
        assert_eq!(murmur3(0, &[0x00, 0x11, 0x22]), 0x8eb5_1c3d);
        assert_eq!(murmur3(0, &[0x00, 0x11, 0x22, 0x33]), 0xb447_1bf8);
        assert_eq!(murmur3(0, &[0x00, 0x11, 0x22, 0x33, 0x44]), 0xe230_1fa8);
        let bytes = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        assert_eq!(murmur3(0, &bytes[..6]), 0xfc2e_4a15);
        assert_eq!(murmur3(0, &bytes[..7]), 0xb074_502c);
        assert_eq!(murmur3(0, &bytes[..8]), 0x8034_d2a0);
        assert_eq!(murmur3(0, &bytes), 0xb469_8def);
    }
}
