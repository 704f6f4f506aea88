//! Classifying output scripts into the standard templates (btcd's `ScriptClass`).

use super::instruction::instructions;
use super::opcodes::*;
use super::sigops::{is_p2sh, witness_program};

/// The template an output script follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptClass {
    /// `<pubkey> OP_CHECKSIG`.
    PubKey,
    /// `OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`.
    PubKeyHash,
    /// `OP_HASH160 <20> OP_EQUAL`.
    ScriptHash,
    /// Segwit v0 with a 20-byte program.
    WitnessV0KeyHash,
    /// Segwit v0 with a 32-byte program.
    WitnessV0ScriptHash,
    /// Segwit v1 with a 32-byte program (taproot).
    WitnessV1Taproot,
    /// Any other witness program (future versions).
    WitnessUnknown,
    /// `m <pubkeys...> n OP_CHECKMULTISIG` with `m` required of `n` keys.
    MultiSig { required: u8, keys: u8 },
    /// `OP_RETURN` followed only by pushes.
    NullData,
    /// Anything else.
    NonStandard,
}

impl ScriptClass {
    /// btcd's / Core's name for the class, as shown by `decodescript` and friends.
    pub fn name(self) -> &'static str {
        match self {
            ScriptClass::PubKey => "pubkey",
            ScriptClass::PubKeyHash => "pubkeyhash",
            ScriptClass::ScriptHash => "scripthash",
            ScriptClass::WitnessV0KeyHash => "witness_v0_keyhash",
            ScriptClass::WitnessV0ScriptHash => "witness_v0_scripthash",
            ScriptClass::WitnessV1Taproot => "witness_v1_taproot",
            ScriptClass::WitnessUnknown => "witness_unknown",
            ScriptClass::MultiSig { .. } => "multisig",
            ScriptClass::NullData => "nulldata",
            ScriptClass::NonStandard => "nonstandard",
        }
    }
}

fn is_pubkey(data: &[u8]) -> bool {
    matches!(
        (data.len(), data.first()),
        (33, Some(2 | 3)) | (65, Some(4))
    )
}

fn small_int(op: u8) -> Option<u8> {
    (OP_1..=OP_16).contains(&op).then(|| op - OP_1 + 1)
}

fn multisig(script: &[u8]) -> Option<ScriptClass> {
    let ins: Vec<_> = instructions(script).collect::<Result<_, _>>().ok()?;
    let (first, rest) = ins.split_first()?;
    let (last, middle) = rest.split_last()?;
    let (n_op, keys) = middle.split_last()?;
    let required = small_int(first.opcode)?;
    let n = small_int(n_op.opcode)?;
    let ok = last.opcode == OP_CHECKMULTISIG
        && keys.len() == n as usize
        && required <= n
        && keys.iter().all(|k| k.data.is_some_and(is_pubkey));
    ok.then_some(ScriptClass::MultiSig { required, keys: n })
}

/// Classifies an output script.
pub fn classify(script: &[u8]) -> ScriptClass {
    if let Some((version, program)) = witness_program(script) {
        return match (version, program.len()) {
            (0, 20) => ScriptClass::WitnessV0KeyHash,
            (0, 32) => ScriptClass::WitnessV0ScriptHash,
            (1, 32) => ScriptClass::WitnessV1Taproot,
            (0, _) => ScriptClass::NonStandard,
            _ => ScriptClass::WitnessUnknown,
        };
    }
    if is_p2sh(script) {
        return ScriptClass::ScriptHash;
    }
    if script.len() == 25
        && script[..3] == [OP_DUP, OP_HASH160, 20]
        && script[23..] == [OP_EQUALVERIFY, OP_CHECKSIG]
    {
        return ScriptClass::PubKeyHash;
    }
    // At least a push opcode and OP_CHECKSIG: a lone OP_CHECKSIG (an output any peer can
    // relay) has no key between them.
    if script.len() >= 2
        && script.last() == Some(&OP_CHECKSIG)
        && is_pubkey(&script[1..script.len() - 1])
    {
        let len = script[0] as usize;
        if len == script.len() - 2 {
            return ScriptClass::PubKey;
        }
    }
    if script.first() == Some(&OP_RETURN)
        && instructions(&script[1..]).all(|i| matches!(i, Ok(i) if i.opcode <= OP_16))
    {
        return ScriptClass::NullData;
    }
    multisig(script).unwrap_or(ScriptClass::NonStandard)
}

/// True for scripts that can never be spent (start with OP_RETURN or exceed the size limit).
pub fn is_unspendable(script: &[u8]) -> bool {
    script.first() == Some(&OP_RETURN) || script.len() > 10_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_checksig_is_non_standard() {
        // Found by the rpc_json fuzz target (`decodescript ac`): the slice between the push
        // and OP_CHECKSIG started past its end, a panic reachable by relaying a transaction.
        assert_eq!(classify(&[OP_CHECKSIG]), ScriptClass::NonStandard);
        assert_eq!(classify(&[0x21, OP_CHECKSIG]), ScriptClass::NonStandard);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_classify_without_panicking(script in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            classify(&script);
        }
    }

    #[test]
    fn classifies_the_standard_templates() {
        let mut p2pkh = vec![OP_DUP, OP_HASH160, 20];
        p2pkh.extend([1u8; 20]);
        p2pkh.extend([OP_EQUALVERIFY, OP_CHECKSIG]);
        assert_eq!(classify(&p2pkh), ScriptClass::PubKeyHash);
        let mut p2pk = vec![33, 2];
        p2pk.extend([5u8; 32]);
        p2pk.push(OP_CHECKSIG);
        assert_eq!(classify(&p2pk), ScriptClass::PubKey);
        let mut ms = vec![OP_1, 33, 3];
        ms.extend([7u8; 32]);
        ms.extend([OP_1, OP_CHECKMULTISIG]);
        assert_eq!(
            classify(&ms),
            ScriptClass::MultiSig {
                required: 1,
                keys: 1
            }
        );
        assert_eq!(classify(&[OP_RETURN, 2, 0xab, 0xcd]), ScriptClass::NullData);
        assert_eq!(
            classify(&[OP_RETURN, OP_CHECKSIG]),
            ScriptClass::NonStandard
        );
        let mut tr = vec![OP_1, 32];
        tr.extend([9u8; 32]);
        assert_eq!(classify(&tr), ScriptClass::WitnessV1Taproot);
        assert_eq!(classify(&[OP_2, 2, 0, 0]), ScriptClass::WitnessUnknown);
        assert_eq!(classify(&[]), ScriptClass::NonStandard);
    }
}
