//! Signature-operation counting for the block sigop-cost limit (BIP141).

use super::flags::Flags;
use super::instruction::{instructions, is_push_only};
use super::opcodes::*;
use crate::primitives::Transaction;

/// Sigops each legacy sigop counts for in the BIP141 cost.
pub const WITNESS_SCALE_FACTOR: u32 = 4;

/// Counts CHECKSIG-family operations. With `accurate`, a CHECKMULTISIG preceded by OP_1..OP_16
/// counts that many keys; otherwise it counts 20. Counting stops at a malformed push, as in
/// Bitcoin Core.
pub fn script_sigops(script: &[u8], accurate: bool) -> u32 {
    let mut n = 0;
    let mut last = OP_INVALIDOPCODE;
    for ins in instructions(script) {
        let Ok(ins) = ins else { break };
        match ins.opcode {
            OP_CHECKSIG | OP_CHECKSIGVERIFY => n += 1,
            OP_CHECKMULTISIG | OP_CHECKMULTISIGVERIFY => {
                n += if accurate && (OP_1..=OP_16).contains(&last) {
                    (last - OP_1 + 1) as u32
                } else {
                    20
                }
            }
            _ => {}
        }
        last = ins.opcode;
    }
    n
}

/// True for the pay-to-script-hash template `OP_HASH160 <20 bytes> OP_EQUAL`.
pub fn is_p2sh(script_pubkey: &[u8]) -> bool {
    script_pubkey.len() == 23
        && script_pubkey[0] == OP_HASH160
        && script_pubkey[1] == 20
        && script_pubkey[22] == OP_EQUAL
}

/// The witness version and program of a segwit output script, if it is one.
pub fn witness_program(script_pubkey: &[u8]) -> Option<(u8, &[u8])> {
    let len = script_pubkey.len();
    if !(4..=42).contains(&len) || script_pubkey[1] as usize + 2 != len {
        return None;
    }
    match script_pubkey[0] {
        OP_0 => Some((0, &script_pubkey[2..])),
        v @ OP_1..=OP_16 => Some((v - OP_1 + 1, &script_pubkey[2..])),
        _ => None,
    }
}

/// The last push of a push-only script (the redeem script of a P2SH spend).
fn last_push(script_sig: &[u8]) -> Option<&[u8]> {
    if !is_push_only(script_sig) {
        return None;
    }
    instructions(script_sig)
        .filter_map(|i| i.ok())
        .last()
        .map(|i| i.data.unwrap_or(&[]))
}

/// Legacy sigops of a transaction's scripts (inexact CHECKMULTISIG counting).
pub fn legacy_tx_sigops(tx: &Transaction) -> u32 {
    let ins: u32 = tx
        .inputs
        .iter()
        .map(|i| script_sigops(&i.script_sig, false))
        .sum();
    let outs: u32 = tx
        .outputs
        .iter()
        .map(|o| script_sigops(&o.script_pubkey, false))
        .sum();
    ins + outs
}

/// Sigops in the redeem scripts of P2SH inputs; `spent_scripts[i]` is the script_pubkey input
/// `i` spends.
pub fn p2sh_tx_sigops(tx: &Transaction, spent_scripts: &[&[u8]]) -> u32 {
    tx.inputs
        .iter()
        .zip(spent_scripts)
        .filter(|(_, spk)| is_p2sh(spk))
        .filter_map(|(i, _)| last_push(&i.script_sig))
        .map(|redeem| script_sigops(redeem, true))
        .sum()
}

/// Sigops of one input's witness program (BIP141): 1 for P2WPKH, the witness script's accurate
/// count for P2WSH, also when nested in P2SH.
pub fn witness_input_sigops(script_sig: &[u8], spent: &[u8], witness: &[Vec<u8>]) -> u32 {
    let program = match witness_program(spent) {
        Some(p) => Some(p),
        None if is_p2sh(spent) => last_push(script_sig).and_then(witness_program),
        None => None,
    };
    match program {
        Some((0, p)) if p.len() == 20 => 1,
        Some((0, p)) if p.len() == 32 => witness.last().map_or(0, |ws| script_sigops(ws, true)),
        _ => 0,
    }
}

/// The BIP141 sigop cost of a transaction: legacy and P2SH sigops scaled by 4, plus witness
/// sigops when `flags` include P2SH / WITNESS. A coinbase only has legacy sigops.
pub fn tx_sigop_cost(tx: &Transaction, spent_scripts: &[&[u8]], flags: Flags) -> u32 {
    let mut cost = legacy_tx_sigops(tx) * WITNESS_SCALE_FACTOR;
    if tx.is_coinbase() {
        return cost;
    }
    if flags.contains(Flags::P2SH) {
        cost += p2sh_tx_sigops(tx, spent_scripts) * WITNESS_SCALE_FACTOR;
    }
    if flags.contains(Flags::WITNESS) {
        cost += tx
            .inputs
            .iter()
            .zip(spent_scripts)
            .map(|(i, spk)| witness_input_sigops(&i.script_sig, spk, &i.witness))
            .sum::<u32>();
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multisig_counts_accurately_only_when_asked() {
        let s = [OP_2, OP_3, OP_CHECKMULTISIG, OP_CHECKSIG];
        assert_eq!(script_sigops(&s, false), 21);
        assert_eq!(script_sigops(&s, true), 4);
    }

    #[test]
    fn witness_programs_are_recognised() {
        let mut p2wpkh = vec![OP_0, 20];
        p2wpkh.extend([0u8; 20]);
        assert_eq!(witness_program(&p2wpkh), Some((0, &[0u8; 20][..])));
        assert_eq!(witness_input_sigops(&[], &p2wpkh, &[]), 1);
        let mut p2tr = vec![OP_1, 32];
        p2tr.extend([0u8; 32]);
        assert_eq!(witness_program(&p2tr).map(|p| p.0), Some(1));
        assert_eq!(witness_program(&[OP_0, 1, 0]), None);
    }
}
