//! Taproot commitments (BIP341) and tapscript's opcode rules (BIP342).

use super::hashes::{tagged_hash, tagged_hasher};
use crate::primitives::encode::write_compact_size;
use secp256k1::{Parity, Scalar, XOnlyPublicKey, SECP256K1};
use sha2::Digest;

/// The annex marker: a last witness element starting with it is the annex.
pub const ANNEX_TAG: u8 = 0x50;
/// The leaf version of BIP342 tapscript.
pub const TAPSCRIPT_LEAF_VERSION: u8 = 0xc0;
/// Bits of a control block's first byte that hold the leaf version.
pub const LEAF_VERSION_MASK: u8 = 0xfe;
/// Control block size without path: version byte and internal key.
pub const CONTROL_BASE_SIZE: usize = 33;
/// Size of one merkle path step.
pub const CONTROL_NODE_SIZE: usize = 32;
/// Deepest allowed script tree.
pub const CONTROL_MAX_NODES: usize = 128;

/// The tagged hash of a leaf: its version and its script.
pub fn tapleaf_hash(leaf_version: u8, script: &[u8]) -> [u8; 32] {
    let mut h = tagged_hasher("TapLeaf");
    let mut prefix = vec![leaf_version];
    write_compact_size(&mut prefix, script.len() as u64);
    h.update(&prefix);
    h.update(script);
    h.finalize().into()
}

/// The tagged hash of two sibling nodes, in lexicographic order.
fn tapbranch_hash(a: &[u8], b: &[u8]) -> [u8; 32] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = tagged_hasher("TapBranch");
    h.update(lo);
    h.update(hi);
    h.finalize().into()
}

/// True when a control block has a valid size: version/key byte block plus whole path steps.
pub fn control_size_ok(control: &[u8]) -> bool {
    control.len() >= CONTROL_BASE_SIZE
        && control.len() <= CONTROL_BASE_SIZE + CONTROL_MAX_NODES * CONTROL_NODE_SIZE
        && (control.len() - CONTROL_BASE_SIZE).is_multiple_of(CONTROL_NODE_SIZE)
}

/// True when `output_key` (the witness program) is the internal key of `control` tweaked with
/// the merkle root reached from `leaf_hash` along the control block's path.
pub fn verify_commitment(control: &[u8], output_key: &[u8], leaf_hash: &[u8; 32]) -> bool {
    let root = control[CONTROL_BASE_SIZE..]
        .chunks(CONTROL_NODE_SIZE)
        .fold(*leaf_hash, |k, node| tapbranch_hash(&k, node));
    let internal = &control[1..CONTROL_BASE_SIZE];
    let (Ok(p), Ok(q)) = (
        XOnlyPublicKey::from_slice(internal),
        XOnlyPublicKey::from_slice(output_key),
    ) else {
        return false;
    };
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(internal);
    data[32..].copy_from_slice(&root);
    let Ok(tweak) = Scalar::from_be_bytes(tagged_hash("TapTweak", &data)) else {
        return false;
    };
    let parity = if control[0] & 1 == 1 {
        Parity::Odd
    } else {
        Parity::Even
    };
    p.tweak_add_check(SECP256K1, &q, parity, tweak)
}

/// BIP342's OP_SUCCESSx opcodes: any of them makes a tapscript succeed unconditionally.
pub fn is_op_success(op: u8) -> bool {
    matches!(op, 80 | 98 | 126..=129 | 131..=134 | 137..=138 | 141..=142 | 149..=153 | 187..=254)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sizes() {
        assert!(!control_size_ok(&[0; 32]));
        assert!(control_size_ok(&[0; 33]));
        assert!(!control_size_ok(&[0; 34]));
        assert!(control_size_ok(&[0; 33 + 128 * 32]));
        assert!(!control_size_ok(&[0; 33 + 129 * 32]));
    }

    #[test]
    fn op_success_set_excludes_checksigadd_and_nops() {
        assert!(is_op_success(0x50) && is_op_success(0x7e) && is_op_success(0xfe));
        assert!(!is_op_success(0xba) && !is_op_success(0xb3) && !is_op_success(0xff));
    }
}
