//! Signing a transaction's inputs as P2PKH, P2WPKH or P2TR key-path spends of one key, for the
//! script benches (the core's single-threaded `script` bench and the daemon's all-cores
//! `scripts` bench), with each signature kept as its bytes for the raw libsecp256k1 baseline;
//! and the timing both use.

use rbtcd_core::primitives::{Transaction, TxOut};
use rbtcd_core::script::hashes::hash160;
use rbtcd_core::script::sighash::{legacy_sighash, SighashCache, SIGHASH_ALL, SIGHASH_DEFAULT};
use secp256k1::{
    ecdsa, schnorr, Keypair, Message, PublicKey, SecretKey, XOnlyPublicKey, SECP256K1,
};
use std::time::{Duration, Instant};

/// The best of `rounds` timings of `f`: the figure least disturbed by the rest of the machine.
pub fn best_of(rounds: usize, mut f: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .expect("at least one round")
}

/// How an input is signed.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    P2pkh,
    P2wpkh,
    P2tr,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 3] = [Kind::P2pkh, Kind::P2wpkh, Kind::P2tr];
}

/// One signature as it sits in the transaction, and the message it signs: what libsecp256k1
/// alone has to do for it is parse the key and signature and verify.
pub enum RawCheck {
    /// DER signature (without the hash type byte), compressed key.
    Ecdsa {
        msg: [u8; 32],
        der: Vec<u8>,
        key: [u8; 33],
    },
    /// BIP340 signature, x-only key.
    Schnorr {
        msg: [u8; 32],
        sig: [u8; 64],
        key: [u8; 32],
    },
}

impl RawCheck {
    /// Parses the key and signature and verifies, as the interpreter must at the least.
    pub fn verify(&self) -> bool {
        match self {
            RawCheck::Ecdsa { msg, der, key } => {
                let (Ok(sig), Ok(key)) =
                    (ecdsa::Signature::from_der(der), PublicKey::from_slice(key))
                else {
                    return false;
                };
                SECP256K1
                    .verify_ecdsa(&Message::from_digest(*msg), &sig, &key)
                    .is_ok()
            }
            RawCheck::Schnorr { msg, sig, key } => {
                let (Ok(sig), Ok(key)) = (
                    schnorr::Signature::from_slice(sig),
                    XOnlyPublicKey::from_slice(key),
                ) else {
                    return false;
                };
                SECP256K1
                    .verify_schnorr(&sig, &Message::from_digest(*msg), &key)
                    .is_ok()
            }
        }
    }
}

/// A signed transaction, the outputs its inputs spend, and its signatures for the baseline.
pub struct Signed {
    pub tx: Transaction,
    pub spent: Vec<TxOut>,
    pub raw: Vec<RawCheck>,
}

/// The value of every output [`sign`] spends, in satoshis.
pub const SPENT_VALUE: i64 = 50_000;

/// The output script paying `key` as `kind` (the taproot output key is the untweaked x-only
/// key, which a key-path spend signs for directly).
pub fn script_pubkey(kind: Kind, key: &SecretKey) -> Vec<u8> {
    let pubkey = PublicKey::from_secret_key(SECP256K1, key).serialize();
    match kind {
        Kind::P2pkh => [&[0x76, 0xa9, 20][..], &hash160(&pubkey), &[0x88, 0xac]].concat(),
        Kind::P2wpkh => [&[0x00, 20][..], &hash160(&pubkey)].concat(),
        Kind::P2tr => {
            let xonly = Keypair::from_secret_key(SECP256K1, key)
                .x_only_public_key()
                .0;
            [&[0x51, 32][..], &xonly.serialize()].concat()
        }
    }
}

/// `template` with every input signed as `kind` by `key`, each spending a [`SPENT_VALUE`]
/// output paying [`script_pubkey`] of that kind and key.
pub fn sign(template: &Transaction, kind: Kind, key: &SecretKey) -> Signed {
    let pubkey = PublicKey::from_secret_key(SECP256K1, key).serialize();
    let keypair = Keypair::from_secret_key(SECP256K1, key);
    let xonly = keypair.x_only_public_key().0.serialize();
    // BIP143 signs P2WPKH spends with the P2PKH script of the key as the script code.
    let p2pkh = script_pubkey(Kind::P2pkh, key);
    let script_pubkey = script_pubkey(kind, key);
    let mut tx = template.clone();
    for input in &mut tx.inputs {
        input.script_sig.clear();
        input.witness.clear();
    }
    let spent: Vec<TxOut> = tx
        .inputs
        .iter()
        .map(|_| TxOut {
            value: SPENT_VALUE,
            script_pubkey: script_pubkey.clone(),
        })
        .collect();
    let cache = SighashCache::new(&tx, &spent);
    let mut raw = Vec::new();
    let mut sigs = Vec::new();
    for i in 0..tx.inputs.len() {
        match kind {
            Kind::P2pkh | Kind::P2wpkh => {
                let msg = match kind {
                    Kind::P2pkh => legacy_sighash(&tx, i, &script_pubkey, i32::from(SIGHASH_ALL)),
                    _ => cache.segwit_v0(i, &p2pkh, SPENT_VALUE, SIGHASH_ALL),
                };
                let der = SECP256K1
                    .sign_ecdsa(&Message::from_digest(msg), key)
                    .serialize_der()
                    .to_vec();
                sigs.push([&der[..], &[SIGHASH_ALL]].concat());
                raw.push(RawCheck::Ecdsa {
                    msg,
                    der,
                    key: pubkey,
                });
            }
            Kind::P2tr => {
                let msg = cache
                    .taproot(i, SIGHASH_DEFAULT, None, None)
                    .expect("defined hash type");
                let sig = SECP256K1.sign_schnorr_no_aux_rand(&Message::from_digest(msg), &keypair);
                sigs.push(sig.as_ref().to_vec());
                raw.push(RawCheck::Schnorr {
                    msg,
                    sig: *sig.as_ref(),
                    key: xonly,
                });
            }
        }
    }
    drop(cache);
    for (input, sig) in tx.inputs.iter_mut().zip(sigs) {
        match kind {
            Kind::P2pkh => {
                input.script_sig = [&[sig.len() as u8][..], &sig, &[33], &pubkey].concat();
            }
            Kind::P2wpkh => input.witness = vec![sig, pubkey.to_vec()],
            Kind::P2tr => input.witness = vec![sig],
        }
    }
    Signed { tx, spent, raw }
}
