//! Signature hashes: legacy, BIP143 (segwit v0) and BIP341 (taproot), with the per-transaction
//! midstates that keep hashing linear in the transaction's size.

use super::hashes::{sha256, tagged_hasher};
use super::instruction::instructions;
use super::opcodes::OP_CODESEPARATOR;
use crate::primitives::encode::write_compact_size;
use crate::primitives::{Encodable, Transaction, TxOut};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Signs all inputs and outputs.
pub const SIGHASH_ALL: u8 = 0x01;
/// Signs no outputs.
pub const SIGHASH_NONE: u8 = 0x02;
/// Signs only the output at the input's index.
pub const SIGHASH_SINGLE: u8 = 0x03;
/// Signs only this input (combines with the above).
pub const SIGHASH_ANYONECANPAY: u8 = 0x80;
/// Taproot's implicit hash type of a 64-byte signature (behaves as ALL).
pub const SIGHASH_DEFAULT: u8 = 0x00;

/// Which signature-hash and signature-check rules apply.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SigVersion {
    /// Legacy scripts (and P2SH redeem scripts).
    Base,
    /// Segwit v0 (BIP143).
    WitnessV0,
    /// Taproot key-path spends (BIP341).
    Taproot,
    /// Tapscript leaves (BIP342).
    Tapscript,
}

/// Streams serialization into a SHA-256 hasher so nothing is copied.
struct HashWriter(Sha256);

impl HashWriter {
    fn bytes(&mut self, b: &[u8]) {
        self.0.update(b);
    }
    fn var_bytes(&mut self, b: &[u8]) {
        let mut len = Vec::with_capacity(9);
        write_compact_size(&mut len, b.len() as u64);
        self.0.update(&len);
        self.0.update(b);
    }
    fn single(self) -> [u8; 32] {
        self.0.finalize().into()
    }
    fn double(self) -> [u8; 32] {
        sha256(&self.single())
    }
}

fn writer() -> HashWriter {
    HashWriter(Sha256::new())
}

/// The `1` hash legacy SIGHASH_SINGLE signs when there is no matching output (a historical bug
/// that is now consensus).
const ONE: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};

/// The legacy signature hash of input `index` with `script_code` (its OP_CODESEPARATORs are
/// dropped here; the caller has already removed the signature itself, FindAndDelete).
/// `hash_type` is the full 32-bit value, as the sighash vectors exercise.
pub fn legacy_sighash(
    tx: &Transaction,
    index: usize,
    script_code: &[u8],
    hash_type: i32,
) -> [u8; 32] {
    let base = hash_type & 0x1f;
    let anyone_can_pay = hash_type & i32::from(SIGHASH_ANYONECANPAY) != 0;
    if index >= tx.inputs.len() || (base == i32::from(SIGHASH_SINGLE) && index >= tx.outputs.len())
    {
        return ONE;
    }
    let mut w = writer();
    w.bytes(&tx.version.to_le_bytes());
    let mut count = Vec::with_capacity(9);
    write_compact_size(
        &mut count,
        if anyone_can_pay {
            1
        } else {
            tx.inputs.len() as u64
        },
    );
    w.bytes(&count);
    let code = without_codeseparators(script_code);
    for (i, input) in tx.inputs.iter().enumerate() {
        if anyone_can_pay && i != index {
            continue;
        }
        w.bytes(&input.prevout.encode());
        w.var_bytes(if i == index { &code } else { &[] });
        let zero_sequence =
            i != index && (base == i32::from(SIGHASH_NONE) || base == i32::from(SIGHASH_SINGLE));
        w.bytes(&if zero_sequence { 0 } else { input.sequence }.to_le_bytes());
    }
    count.clear();
    let outputs = match base {
        b if b == i32::from(SIGHASH_NONE) => 0,
        b if b == i32::from(SIGHASH_SINGLE) => index + 1,
        _ => tx.outputs.len(),
    };
    write_compact_size(&mut count, outputs as u64);
    w.bytes(&count);
    for (i, out) in tx.outputs.iter().take(outputs).enumerate() {
        if base == i32::from(SIGHASH_SINGLE) && i != index {
            // Outputs before the signed one are blanked: value -1, empty script.
            w.bytes(&(-1i64).to_le_bytes());
            w.bytes(&[0]);
        } else {
            w.bytes(&out.encode());
        }
    }
    w.bytes(&tx.lock_time.to_le_bytes());
    w.bytes(&hash_type.to_le_bytes());
    w.double()
}

/// `script` with every OP_CODESEPARATOR removed; bytes after a truncated push are kept as-is.
fn without_codeseparators(script: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(script.len());
    let mut it = instructions(script);
    let mut start = 0;
    while let Some(Ok(ins)) = it.next() {
        let end = it.position();
        if ins.opcode != OP_CODESEPARATOR {
            out.extend_from_slice(&script[start..end]);
        }
        start = end;
    }
    out.extend_from_slice(&script[start..]);
    out
}

/// Single-SHA-256 digests over the whole transaction, shared by every input's BIP143 and BIP341
/// hash (BIP143 uses their SHA-256 again).
struct TxDigests {
    prevouts: [u8; 32],
    sequences: [u8; 32],
    outputs: [u8; 32],
}

/// Digests of the spent outputs, which only BIP341 signs.
struct SpentDigests {
    amounts: [u8; 32],
    scripts: [u8; 32],
}

/// Per-transaction signature-hash state: computed on first use, then shared by all inputs.
pub struct SighashCache<'a> {
    tx: &'a Transaction,
    spent: &'a [TxOut],
    tx_digests: OnceLock<TxDigests>,
    bip143: OnceLock<[[u8; 32]; 3]>,
    spent_digests: OnceLock<SpentDigests>,
}

/// Extra data a tapscript signature commits to (BIP342).
#[derive(Clone, Copy, Debug)]
pub struct TapscriptCommit {
    /// The leaf being executed.
    pub leaf_hash: [u8; 32],
    /// Opcode position of the last executed OP_CODESEPARATOR, or `u32::MAX`.
    pub codesep_pos: u32,
}

impl<'a> SighashCache<'a> {
    /// A cache for `tx`, whose inputs spend `spent` (one per input, in order).
    pub fn new(tx: &'a Transaction, spent: &'a [TxOut]) -> Self {
        SighashCache {
            tx,
            spent,
            tx_digests: OnceLock::new(),
            bip143: OnceLock::new(),
            spent_digests: OnceLock::new(),
        }
    }

    fn tx_digests(&self) -> &TxDigests {
        self.tx_digests.get_or_init(|| {
            let (mut p, mut s, mut o) = (writer(), writer(), writer());
            for i in &self.tx.inputs {
                p.bytes(&i.prevout.encode());
                s.bytes(&i.sequence.to_le_bytes());
            }
            for out in &self.tx.outputs {
                o.bytes(&out.encode());
            }
            TxDigests {
                prevouts: p.single(),
                sequences: s.single(),
                outputs: o.single(),
            }
        })
    }

    fn spent_digests(&self) -> &SpentDigests {
        self.spent_digests.get_or_init(|| {
            let (mut a, mut s) = (writer(), writer());
            for out in self.spent {
                a.bytes(&out.value.to_le_bytes());
                s.var_bytes(&out.script_pubkey);
            }
            SpentDigests {
                amounts: a.single(),
                scripts: s.single(),
            }
        })
    }

    /// The BIP143 signature hash of input `index` spending `amount` with `script_code`.
    pub fn segwit_v0(
        &self,
        index: usize,
        script_code: &[u8],
        amount: i64,
        hash_type: u8,
    ) -> [u8; 32] {
        let tx = self.tx;
        let [prevouts, sequences, outputs] = *self.bip143.get_or_init(|| {
            let d = self.tx_digests();
            [
                sha256(&d.prevouts),
                sha256(&d.sequences),
                sha256(&d.outputs),
            ]
        });
        let base = hash_type & 0x1f;
        let anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY != 0;
        let single_or_none = base == SIGHASH_SINGLE || base == SIGHASH_NONE;
        let hash_outputs = if !single_or_none {
            outputs
        } else if base == SIGHASH_SINGLE && index < tx.outputs.len() {
            sha256(&sha256(&tx.outputs[index].encode()))
        } else {
            [0; 32]
        };
        let input = &tx.inputs[index];
        let mut w = writer();
        w.bytes(&tx.version.to_le_bytes());
        w.bytes(&if anyone_can_pay { [0; 32] } else { prevouts });
        w.bytes(&if anyone_can_pay || single_or_none {
            [0; 32]
        } else {
            sequences
        });
        w.bytes(&input.prevout.encode());
        w.var_bytes(script_code);
        w.bytes(&amount.to_le_bytes());
        w.bytes(&input.sequence.to_le_bytes());
        w.bytes(&hash_outputs);
        w.bytes(&tx.lock_time.to_le_bytes());
        w.bytes(&u32::from(hash_type).to_le_bytes());
        w.double()
    }

    /// The BIP341 signature hash of input `index`; `None` for an undefined hash type or
    /// SIGHASH_SINGLE without a matching output. `annex_hash` is the SHA-256 of the
    /// length-prefixed annex when there is one; `tapscript` is set for script-path spends.
    pub fn taproot(
        &self,
        index: usize,
        hash_type: u8,
        annex_hash: Option<&[u8; 32]>,
        tapscript: Option<&TapscriptCommit>,
    ) -> Option<[u8; 32]> {
        if !matches!(hash_type, 0x00..=0x03 | 0x81..=0x83) {
            return None;
        }
        let tx = self.tx;
        let output_type = if hash_type == SIGHASH_DEFAULT {
            SIGHASH_ALL
        } else {
            hash_type & 3
        };
        let anyone_can_pay = hash_type & SIGHASH_ANYONECANPAY != 0;
        if output_type == SIGHASH_SINGLE && index >= tx.outputs.len() {
            return None;
        }
        let mut w = HashWriter(tagged_hasher("TapSighash"));
        w.bytes(&[0, hash_type]);
        w.bytes(&tx.version.to_le_bytes());
        w.bytes(&tx.lock_time.to_le_bytes());
        if !anyone_can_pay {
            let d = self.tx_digests();
            let s = self.spent_digests();
            w.bytes(&d.prevouts);
            w.bytes(&s.amounts);
            w.bytes(&s.scripts);
            w.bytes(&d.sequences);
        }
        if output_type == SIGHASH_ALL {
            w.bytes(&self.tx_digests().outputs);
        }
        let spend_type = (u8::from(tapscript.is_some()) << 1) | u8::from(annex_hash.is_some());
        w.bytes(&[spend_type]);
        let input = &tx.inputs[index];
        if anyone_can_pay {
            let spent = &self.spent[index];
            w.bytes(&input.prevout.encode());
            w.bytes(&spent.value.to_le_bytes());
            w.var_bytes(&spent.script_pubkey);
            w.bytes(&input.sequence.to_le_bytes());
        } else {
            w.bytes(&(index as u32).to_le_bytes());
        }
        if let Some(annex) = annex_hash {
            w.bytes(annex);
        }
        if output_type == SIGHASH_SINGLE {
            w.bytes(&sha256(&tx.outputs[index].encode()));
        }
        if let Some(leaf) = tapscript {
            w.bytes(&leaf.leaf_hash);
            w.bytes(&[0]); // key_version 0: BIP342's 32-byte keys
            w.bytes(&leaf.codesep_pos.to_le_bytes());
        }
        Some(w.single())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::opcodes::*;

    #[test]
    fn codeseparators_are_stripped_but_truncated_tails_kept() {
        let s = [
            OP_1,
            OP_CODESEPARATOR,
            1,
            OP_CODESEPARATOR,
            OP_CODESEPARATOR,
            OP_PUSHDATA1,
        ];
        assert_eq!(
            without_codeseparators(&s),
            vec![OP_1, 1, OP_CODESEPARATOR, OP_PUSHDATA1]
        );
    }

    #[test]
    fn single_without_matching_output_signs_one() {
        let tx = Transaction {
            version: 1,
            inputs: vec![Default::default(), Default::default()],
            outputs: vec![Default::default()],
            lock_time: 0,
        };
        assert_eq!(legacy_sighash(&tx, 1, &[], 3), ONE);
        assert_ne!(legacy_sighash(&tx, 0, &[], 3), ONE);
    }
}
