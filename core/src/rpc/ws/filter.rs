//! The transaction filter of `loadtxfilter` (btcd's `wsClientFilter`, from dcrd): watched
//! addresses and outpoints. A transaction is relevant when it spends a watched outpoint or
//! pays a watched address; the outputs paying a watched address become watched outpoints, so
//! their later spends are seen too.

use crate::address::{Address, Payload, WitnessProgram};
use crate::params::Params;
use crate::primitives::hash::sha256;
use crate::primitives::{OutPoint, Transaction, TxIn};
use crate::script::hashes::hash160;
use crate::script::instruction::{instructions, is_push_only};
use crate::script::standard::{classify, ScriptClass};
use std::collections::BTreeSet;

/// What an output script pays to, as btcd's `ExtractPkScriptAddrs` finds it: the address of
/// a standard script, or the key-hash address of each key of a pay-to-pubkey or bare multisig
/// script (btcd matches a key by its key hash too).
pub fn output_payloads(script: &[u8], params: &Params) -> Vec<Payload> {
    match classify(script) {
        ScriptClass::PubKey | ScriptClass::MultiSig { .. } => instructions(script)
            .filter_map(|i| i.ok()?.data)
            .filter(|d| d.len() == 33 || d.len() == 65)
            .map(|key| Payload::PubKeyHash(hash160(key)))
            .collect(),
        _ => Address::from_script_pubkey(script, params)
            .map(|a| a.payload().clone())
            .into_iter()
            .collect(),
    }
}

/// The address an input spends from, as btcd's `ComputePkScript` infers it without the spent
/// output: a compressed key ending a short signature script is P2PKH, any other push-only
/// signature script P2SH of its last push; a two-item witness ending in a compressed key is
/// P2WPKH, any other witness P2WSH of its last item.
pub fn input_payload(input: &TxIn) -> Option<Payload> {
    /// Shortest and longest P2PKH signature scripts (btcd's bounds).
    const P2PKH_SIG_SCRIPT: std::ops::RangeInclusive<usize> = 44..=108;
    let compressed = |k: &[u8]| k.len() == 33 && (k[0] == 2 || k[0] == 3);
    let sig = &input.script_sig;
    if !sig.is_empty() {
        if !is_push_only(sig) {
            return None;
        }
        if P2PKH_SIG_SCRIPT.contains(&sig.len()) && compressed(&sig[sig.len() - 33..]) {
            return Some(Payload::PubKeyHash(hash160(&sig[sig.len() - 33..])));
        }
        let last = instructions(sig).last()?.ok()?;
        return Some(Payload::ScriptHash(hash160(last.data.unwrap_or_default())));
    }
    let last = input.witness.last()?;
    let program = if input.witness.len() == 2 && compressed(last) {
        hash160(last).to_vec()
    } else {
        sha256(last).to_vec()
    };
    WitnessProgram::new(0, program).ok().map(Payload::Witness)
}

/// Watched addresses and outpoints of one client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxFilter {
    addresses: BTreeSet<Payload>,
    unspent: BTreeSet<OutPoint>,
}

impl TxFilter {
    /// A filter watching `addresses` and `outpoints`.
    pub fn new(
        addresses: impl IntoIterator<Item = Payload>,
        outpoints: impl IntoIterator<Item = OutPoint>,
    ) -> Self {
        TxFilter {
            addresses: addresses.into_iter().collect(),
            unspent: outpoints.into_iter().collect(),
        }
    }

    /// How many addresses and outpoints it watches.
    pub fn len(&self) -> usize {
        self.addresses.len() + self.unspent.len()
    }

    /// Whether it watches nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Watches another address.
    pub fn add_address(&mut self, payload: Payload) {
        self.addresses.insert(payload);
    }

    /// Watches another outpoint.
    pub fn add_outpoint(&mut self, outpoint: OutPoint) {
        self.unspent.insert(outpoint);
    }

    /// Whether `outpoint` is watched.
    pub fn has_outpoint(&self, outpoint: &OutPoint) -> bool {
        self.unspent.contains(outpoint)
    }

    /// Whether `tx` spends a watched outpoint or pays a watched address; every output paying
    /// a watched address is watched from now on. A coinbase's null input matches nothing.
    pub fn check(&mut self, tx: &Transaction, params: &Params) -> bool {
        let mut relevant = tx.inputs.iter().any(|i| self.unspent.contains(&i.prevout));
        let txid = tx.txid();
        for (n, out) in tx.outputs.iter().enumerate() {
            let pays = output_payloads(&out.script_pubkey, params)
                .iter()
                .any(|p| self.addresses.contains(p));
            if pays {
                self.unspent.insert(OutPoint::new(txid, n as u32));
                relevant = true;
            }
        }
        relevant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::spend;
    use crate::params::Network;
    use crate::primitives::Txid;
    use crate::script::opcodes::{OP_CHECKMULTISIG, OP_CHECKSIG};

    fn p2pkh(h: [u8; 20]) -> Vec<u8> {
        Address::new(Payload::PubKeyHash(h), &Params::new(Network::Regtest)).script_pubkey()
    }

    #[test]
    fn payloads_of_standard_keyed_and_other_scripts() {
        let params = Params::new(Network::Regtest);
        assert_eq!(
            output_payloads(&p2pkh([7; 20]), &params),
            vec![Payload::PubKeyHash([7; 20])]
        );
        let key = [2u8; 33];
        let p2pk = [&[33][..], &key, &[OP_CHECKSIG]].concat();
        assert_eq!(
            output_payloads(&p2pk, &params),
            vec![Payload::PubKeyHash(hash160(&key))]
        );
        let other = [3u8; 33];
        let multisig = [
            &[0x51, 33][..],
            &key,
            &[33],
            &other,
            &[0x52, OP_CHECKMULTISIG],
        ]
        .concat();
        assert_eq!(
            output_payloads(&multisig, &params),
            vec![
                Payload::PubKeyHash(hash160(&key)),
                Payload::PubKeyHash(hash160(&other))
            ]
        );
        assert!(
            output_payloads(&[0x6a, 1, 0], &params).is_empty(),
            "OP_RETURN"
        );
    }

    #[test]
    fn inputs_name_the_address_they_spend_from() {
        let key = [[3u8].as_slice(), &[7; 32]].concat();
        let mut input = spend(&[OutPoint::new(Txid::ZERO, 0)], &[1]).inputs[0].clone();
        input.script_sig = [&[71][..], &[0x30; 71], &[33], &key].concat();
        assert_eq!(
            input_payload(&input),
            Some(Payload::PubKeyHash(hash160(&key)))
        );
        let redeem = [0x51u8];
        input.script_sig = vec![0, 1, redeem[0]];
        assert_eq!(
            input_payload(&input),
            Some(Payload::ScriptHash(hash160(&redeem)))
        );
        input.script_sig = vec![OP_CHECKSIG];
        assert_eq!(input_payload(&input), None, "not push-only");
        input.script_sig.clear();
        input.witness = vec![vec![0x30; 71], key.clone()];
        let p2wpkh = WitnessProgram::new(0, hash160(&key).to_vec()).unwrap();
        assert_eq!(input_payload(&input), Some(Payload::Witness(p2wpkh)));
        input.witness = vec![vec![0x51]];
        let p2wsh = WitnessProgram::new(0, sha256(&[0x51]).to_vec()).unwrap();
        assert_eq!(input_payload(&input), Some(Payload::Witness(p2wsh)));
        input.witness.clear();
        assert_eq!(input_payload(&input), None);
    }

    #[test]
    fn paid_outputs_become_watched_and_their_spends_match() {
        let params = Params::new(Network::Regtest);
        let mut filter = TxFilter::new([Payload::PubKeyHash([9; 20])], []);
        let mut pay = spend(&[OutPoint::new(Txid::ZERO, 5)], &[1000, 2000]);
        pay.outputs[1].script_pubkey = p2pkh([9; 20]);
        let unrelated = spend(&[OutPoint::new(Txid::ZERO, 6)], &[1000]);
        assert!(!filter.check(&unrelated, &params));
        assert!(filter.check(&pay, &params));
        let paid = OutPoint::new(pay.txid(), 1);
        assert!(filter.has_outpoint(&paid));
        assert!(!filter.has_outpoint(&OutPoint::new(pay.txid(), 0)));
        let spender = spend(&[paid], &[500]);
        assert!(filter.check(&spender, &params), "spends a watched outpoint");
        let mut by_outpoint = TxFilter::new([], [OutPoint::new(Txid::ZERO, 6)]);
        assert!(by_outpoint.check(&unrelated, &params));
    }
}
