//! 256-bit unsigned arithmetic for proof-of-work targets, compact "bits", and chain work.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Not, Shl, Shr, Sub};

/// A 256-bit unsigned integer, little-endian 64-bit limbs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256(pub [u64; 4]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2^256 - 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// From a small value.
    pub fn from_u64(v: u64) -> Self {
        U256([v, 0, 0, 0])
    }

    /// From 32 little-endian bytes (how a block hash is compared against a target).
    pub fn from_le_bytes(b: [u8; 32]) -> Self {
        let mut l = [0u64; 4];
        for (i, limb) in l.iter_mut().enumerate() {
            *limb = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        }
        U256(l)
    }

    /// To 32 little-endian bytes.
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for i in 0..4 {
            b[i * 8..i * 8 + 8].copy_from_slice(&self.0[i].to_le_bytes());
        }
        b
    }

    /// To 32 big-endian bytes (the natural hex order).
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut b = self.to_le_bytes();
        b.reverse();
        b
    }

    /// True when zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Number of significant bits.
    pub fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + 64 - self.0[i].leading_zeros();
            }
        }
        0
    }

    /// The low 64 bits.
    pub fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// Addition that reports overflow.
    pub fn overflowing_add(self, o: U256) -> (U256, bool) {
        let mut r = [0u64; 4];
        let mut carry = false;
        for (i, limb) in r.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *limb = s2;
            carry = c1 || c2;
        }
        (U256(r), carry)
    }

    /// Subtraction that reports underflow.
    pub fn overflowing_sub(self, o: U256) -> (U256, bool) {
        let mut r = [0u64; 4];
        let mut borrow = false;
        for (i, limb) in r.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(o.0[i]);
            let (d2, b2) = d1.overflowing_sub(borrow as u64);
            *limb = d2;
            borrow = b1 || b2;
        }
        (U256(r), borrow)
    }

    /// Multiplication by a u64, `None` on overflow.
    pub fn checked_mul_u64(self, m: u64) -> Option<U256> {
        let mut r = [0u64; 4];
        let mut carry = 0u128;
        for (i, limb) in r.iter_mut().enumerate() {
            let p = self.0[i] as u128 * m as u128 + carry;
            *limb = p as u64;
            carry = p >> 64;
        }
        (carry == 0).then_some(U256(r))
    }

    /// Division by a non-zero u64.
    pub fn div_u64(self, d: u64) -> U256 {
        assert!(d != 0, "division by zero");
        let mut r = [0u64; 4];
        let mut rem = 0u128;
        for i in (0..4).rev() {
            let cur = (rem << 64) | self.0[i] as u128;
            r[i] = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        U256(r)
    }

    /// Long division by a non-zero divisor.
    pub fn div_u256(self, d: U256) -> U256 {
        assert!(!d.is_zero(), "division by zero");
        if d.0[1..] == [0, 0, 0] {
            return self.div_u64(d.0[0]);
        }
        if self < d {
            return U256::ZERO;
        }
        // Shift-subtract over the quotient's bits only (few when the operands are close, as
        // in work from targets), not over all of the dividend's.
        let shift = self.bits() - d.bits();
        let mut q = U256::ZERO;
        let mut rem = self;
        let mut dd = d << shift;
        for i in (0..=shift).rev() {
            if rem >= dd {
                rem = rem - dd;
                q.0[(i / 64) as usize] |= 1 << (i % 64);
            }
            dd = dd >> 1;
        }
        q
    }

    /// Parses big-endian hex (up to 64 digits).
    pub fn from_hex(s: &str) -> Option<U256> {
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        let mut r = U256::ZERO;
        for c in s.chars() {
            r = (r << 4) + U256::from_u64(c.to_digit(16)? as u64);
        }
        Some(r)
    }
}

impl Add for U256 {
    type Output = U256;
    /// Wrapping addition; chain work never approaches 2^256.
    fn add(self, o: U256) -> U256 {
        self.overflowing_add(o).0
    }
}

impl Sub for U256 {
    type Output = U256;
    /// Wrapping subtraction.
    fn sub(self, o: U256) -> U256 {
        self.overflowing_sub(o).0
    }
}

impl Not for U256 {
    type Output = U256;
    fn not(self) -> U256 {
        U256(self.0.map(|l| !l))
    }
}

impl Shl<u32> for U256 {
    type Output = U256;
    fn shl(self, s: u32) -> U256 {
        if s >= 256 {
            return U256::ZERO;
        }
        let (limbs, bits) = ((s / 64) as usize, s % 64);
        let mut r = [0u64; 4];
        for i in (limbs..4).rev() {
            r[i] = self.0[i - limbs] << bits;
            if bits > 0 && i > limbs {
                r[i] |= self.0[i - limbs - 1] >> (64 - bits);
            }
        }
        U256(r)
    }
}

impl Shr<u32> for U256 {
    type Output = U256;
    fn shr(self, s: u32) -> U256 {
        if s >= 256 {
            return U256::ZERO;
        }
        let (limbs, bits) = ((s / 64) as usize, s % 64);
        let mut r = [0u64; 4];
        for (i, limb) in r.iter_mut().enumerate().take(4 - limbs) {
            *limb = self.0[i + limbs] >> bits;
            if bits > 0 && i + limbs + 1 < 4 {
                *limb |= self.0[i + limbs + 1] << (64 - bits);
            }
        }
        U256(r)
    }
}

impl Ord for U256 {
    fn cmp(&self, o: &Self) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&o.0[i]) {
                Ordering::Equal => continue,
                x => return x,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl fmt::Display for U256 {
    /// 64 hex digits, big-endian.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::hash::hex_encode(&self.to_be_bytes()))
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U256({self})")
    }
}

/// Expands compact `bits` into (target, negative, overflow), exactly as Bitcoin Core's
/// `SetCompact` does.
pub fn compact_to_target(bits: u32) -> (U256, bool, bool) {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    let target = if size <= 3 {
        word >>= 8 * (3 - size);
        U256::from_u64(word as u64)
    } else {
        U256::from_u64(word as u64) << (8 * (size - 3))
    };
    let negative = word != 0 && bits & 0x0080_0000 != 0;
    let overflow =
        word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
    (target, negative, overflow)
}

/// Compresses a target into compact `bits`, as Bitcoin Core's `GetCompact`.
pub fn target_to_compact(target: &U256) -> u32 {
    let mut size = target.bits().div_ceil(8);
    let mut compact = if size <= 3 {
        (target.low_u64() << (8 * (3 - size))) as u32
    } else {
        (*target >> (8 * (size - 3))).low_u64() as u32
    };
    if compact & 0x0080_0000 != 0 {
        compact >>= 8;
        size += 1;
    }
    compact | (size << 24)
}

/// Accumulated proof of work: the expected number of hashes behind a block or chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Work(pub U256);

impl Work {
    /// No work.
    pub const ZERO: Work = Work(U256::ZERO);

    /// The work one header with `bits` represents: 2^256 / (target + 1), zero for an invalid
    /// target.
    pub fn from_bits(bits: u32) -> Work {
        let (t, negative, overflow) = compact_to_target(bits);
        if negative || overflow || t.is_zero() {
            return Work::ZERO;
        }
        // 2^256 / (t+1) == ~t / (t+1) + 1, which stays within 256 bits.
        Work((!t).div_u256(t + U256::ONE) + U256::ONE)
    }
}

impl Add for Work {
    type Output = Work;
    fn add(self, o: Work) -> Work {
        Work(self.0 + o.0)
    }
}

impl Sub for Work {
    type Output = Work;
    fn sub(self, o: Work) -> Work {
        Work(self.0 - o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trips_known_values() {
        for bits in [
            0x1d00ffffu32,
            0x207fffff,
            0x1b0404cb,
            0x1e0377ae,
            0x170331db,
        ] {
            let (t, neg, ovf) = compact_to_target(bits);
            assert!(!neg && !ovf);
            assert_eq!(target_to_compact(&t), bits, "{bits:#x}");
        }
    }

    #[test]
    fn compact_edge_cases_match_core() {
        // Values from Bitcoin Core's arith_uint256 tests.
        assert_eq!(compact_to_target(0x01003456).0, U256::ZERO);
        assert_eq!(compact_to_target(0x01123456).0, U256::from_u64(0x12));
        assert_eq!(compact_to_target(0x02123456).0, U256::from_u64(0x1234));
        assert_eq!(compact_to_target(0x05009234).0, U256::from_u64(0x92340000));
        let (t, neg, _) = compact_to_target(0x04923456);
        assert!(neg);
        assert_eq!(t, U256::from_u64(0x12345600));
        assert!(compact_to_target(0xff123456).2);
        assert_eq!(target_to_compact(&U256::from_u64(0x80)), 0x02008000);
    }

    #[test]
    fn genesis_work_is_4295032833() {
        assert_eq!(Work::from_bits(0x1d00ffff).0, U256::from_u64(0x1_0001_0001));
        assert_eq!(Work::from_bits(0x207fffff).0, U256::from_u64(2));
    }

    #[test]
    fn long_division_matches_u128() {
        let a = U256([0x1234_5678_9abc_def0, 0xfeed_beef, 0, 0]);
        let b = U256([0xdead, 0x1, 0, 0]);
        let (x, y) = (
            ((a.0[1] as u128) << 64) | a.0[0] as u128,
            ((b.0[1] as u128) << 64) | b.0[0] as u128,
        );
        let q = a.div_u256(b);
        assert_eq!(((q.0[1] as u128) << 64) | q.0[0] as u128, x / y);
    }
}
