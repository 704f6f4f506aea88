//! Standardness: what this node relays, beyond what consensus allows (btcd's `policy.go`).

use super::error::RejectReason;
use crate::primitives::{Transaction, TxOut};
use crate::script::instruction::is_push_only;
use crate::script::sigops::{is_p2sh, script_sigops, witness_program};
use crate::script::standard::{classify, is_unspendable, ScriptClass};

/// Relay policy knobs (`minrelaytxfee` and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Minimum fee rate for relay, satoshis per 1000 virtual bytes.
    pub min_relay_fee_per_kvb: i64,
    /// Largest transaction weight relayed.
    pub max_tx_weight: usize,
    /// Most orphans kept (`maxorphantx`).
    pub max_orphans: usize,
    /// Accept transactions that break the standardness rules (btcd's `AcceptNonStd`: the
    /// network's default, or `relaynonstd`/`rejectnonstd`).
    pub accept_non_std: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_relay_fee_per_kvb: 1000,
            max_tx_weight: 400_000,
            max_orphans: 100,
            accept_non_std: false,
        }
    }
}

/// Largest standard scriptSig (a 15-of-15 P2SH multisig spend fits).
const MAX_STANDARD_SCRIPT_SIG: usize = 1650;
/// Most sigops a standard P2SH redeem script may have.
const MAX_STANDARD_P2SH_SIGOPS: u32 = 15;
/// Most keys in a standard bare multisig output.
const MAX_STANDARD_MULTISIG_KEYS: u8 = 3;
/// Largest standard OP_RETURN output script.
const MAX_NULL_DATA_SCRIPT: usize = 83;

/// The minimum fee for a transaction of `vsize` virtual bytes (never zero while the rate is
/// positive, as btcd's `calcMinRequiredTxRelayFee`).
pub fn min_relay_fee(vsize: usize, fee_per_kvb: i64) -> i64 {
    let fee = vsize as i64 * fee_per_kvb / 1000;
    if fee == 0 && fee_per_kvb > 0 {
        fee_per_kvb
    } else {
        fee
    }
}

/// btcd's dust rule: an output is dust when spending it would cost more than a third of its
/// value at the relay fee rate. Unspendable outputs are always dust.
pub fn is_dust(out: &TxOut, fee_per_kvb: i64) -> bool {
    if is_unspendable(&out.script_pubkey) {
        return true;
    }
    let out_size = 8
        + crate::primitives::encode::compact_size_len(out.script_pubkey.len() as u64)
        + out.script_pubkey.len();
    // 41 bytes of outpoint and sequence, plus a typical 107-byte signature script (discounted
    // by the witness scale factor when the output is a witness program).
    let spend = if witness_program(&out.script_pubkey).is_some() {
        107 / 4
    } else {
        107
    };
    let threshold = 3 * (out_size + 41 + spend) as i64;
    out.value * 1000 / threshold < fee_per_kvb
}

fn nonstandard(reason: String) -> RejectReason {
    RejectReason::NonStandard(reason)
}

/// Checks a transaction's own fields against relay policy.
pub fn check_transaction_standard(tx: &Transaction, policy: &Policy) -> Result<(), RejectReason> {
    if !(1..=2).contains(&tx.version) {
        return Err(nonstandard(format!(
            "transaction version {} is not in the valid range of 1-2",
            tx.version
        )));
    }
    let weight = tx.weight();
    if weight > policy.max_tx_weight {
        return Err(nonstandard(format!(
            "weight of transaction {weight} is larger than max allowed weight of {}",
            policy.max_tx_weight
        )));
    }
    for (i, input) in tx.inputs.iter().enumerate() {
        if input.script_sig.len() > MAX_STANDARD_SCRIPT_SIG {
            return Err(nonstandard(format!("transaction input {i}: signature script size of {} bytes is large than max allowed size of {MAX_STANDARD_SCRIPT_SIG} bytes", input.script_sig.len())));
        }
        if !is_push_only(&input.script_sig) {
            return Err(nonstandard(format!(
                "transaction input {i}: signature script is not push only"
            )));
        }
    }
    let mut null_data = 0;
    for (i, out) in tx.outputs.iter().enumerate() {
        match classify(&out.script_pubkey) {
            ScriptClass::NonStandard => {
                return Err(nonstandard(format!("transaction output {i}: non-standard script form")))
            }
            ScriptClass::MultiSig { required, keys } if keys > MAX_STANDARD_MULTISIG_KEYS || required == 0 => {
                return Err(nonstandard(format!("transaction output {i}: multi-signature script with {keys} public keys which is more than the allowed max of {MAX_STANDARD_MULTISIG_KEYS}")))
            }
            ScriptClass::NullData => {
                if out.script_pubkey.len() > MAX_NULL_DATA_SCRIPT {
                    return Err(nonstandard(format!("transaction output {i}: data carrier script is larger than {MAX_NULL_DATA_SCRIPT} bytes")));
                }
                null_data += 1;
            }
            _ if is_dust(out, policy.min_relay_fee_per_kvb) => {
                return Err(nonstandard(format!("transaction output {i}: payment of {} is dust", out.value)))
            }
            _ => {}
        }
    }
    if null_data > 1 {
        return Err(nonstandard(
            "more than one transaction output in a nulldata script".into(),
        ));
    }
    Ok(())
}

/// Checks that each input spends a standard output in a standard way; `spent[i]` is the output
/// input `i` spends.
pub fn check_inputs_standard(tx: &Transaction, spent: &[TxOut]) -> Result<(), RejectReason> {
    for (i, (input, prev)) in tx.inputs.iter().zip(spent).enumerate() {
        let class = classify(&prev.script_pubkey);
        if class == ScriptClass::NonStandard {
            return Err(nonstandard(format!(
                "transaction input #{i} has a non-standard script form"
            )));
        }
        if is_p2sh(&prev.script_pubkey) {
            let redeem = crate::script::instruction::instructions(&input.script_sig)
                .filter_map(Result::ok)
                .last()
                .and_then(|ins| ins.data);
            let sigops = redeem.map_or(0, |r| script_sigops(r, true));
            if sigops > MAX_STANDARD_P2SH_SIGOPS {
                return Err(nonstandard(format!("transaction input #{i} has {sigops} signature operations which is more than the allowed max amount of {MAX_STANDARD_P2SH_SIGOPS}")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{OutPoint, TxIn};

    fn p2wpkh(value: i64) -> TxOut {
        let mut s = vec![0, 20];
        s.extend([3u8; 20]);
        TxOut {
            value,
            script_pubkey: s,
        }
    }

    #[test]
    fn dust_threshold_matches_btcd_for_p2pkh_and_p2wpkh() {
        let mut p2pkh = vec![0x76, 0xa9, 20];
        p2pkh.extend([1u8; 20]);
        p2pkh.extend([0x88, 0xac]);
        // btcd: P2PKH dust below 546 satoshis at 1000 sat/kvB; P2WPKH below 294.
        assert!(is_dust(
            &TxOut {
                value: 545,
                script_pubkey: p2pkh.clone()
            },
            1000
        ));
        assert!(!is_dust(
            &TxOut {
                value: 546,
                script_pubkey: p2pkh
            },
            1000
        ));
        assert!(is_dust(&p2wpkh(293), 1000));
        assert!(!is_dust(&p2wpkh(294), 1000));
    }

    #[test]
    fn standardness_rejects_with_reasons() {
        let base = Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout: OutPoint::new(Default::default(), 0),
                script_sig: vec![],
                sequence: 0,
                witness: vec![],
            }],
            outputs: vec![p2wpkh(10_000)],
            lock_time: 0,
        };
        let p = Policy::default();
        assert!(check_transaction_standard(&base, &p).is_ok());
        let mut v3 = base.clone();
        v3.version = 3;
        assert!(
            matches!(check_transaction_standard(&v3, &p), Err(RejectReason::NonStandard(r)) if r.contains("version"))
        );
        let mut dusty = base.clone();
        dusty.outputs[0].value = 1;
        assert!(
            matches!(check_transaction_standard(&dusty, &p), Err(RejectReason::NonStandard(r)) if r.contains("dust"))
        );
        let mut nonpush = base;
        nonpush.inputs[0].script_sig = vec![0x76];
        assert!(
            matches!(check_transaction_standard(&nonpush, &p), Err(RejectReason::NonStandard(r)) if r.contains("push only"))
        );
    }

    #[test]
    fn min_fee_is_never_zero_for_positive_rates() {
        assert_eq!(min_relay_fee(500, 1), 1);
        assert_eq!(min_relay_fee(250, 1000), 250);
        assert_eq!(min_relay_fee(250, 0), 0);
    }
}
