//! Script verification speed: signature checks per second through the interpreter against raw
//! libsecp256k1 verification of the same signatures, and the time to validate
//! `many_inputs_tx.hex` with its inputs signed as P2PKH, P2WPKH and P2TR.
//!
//! The vector transaction has empty signature scripts and no known spent outputs, so the
//! bench gives every input a spent output paying one fixed key and signs it; the transaction's
//! shape (input and output counts, size) is what makes it a validation-cost benchmark.
//!
//! `cargo bench -p rbtcd-core --bench script` runs it in full; under `cargo test` (no
//! `--bench` argument) it runs one quick pass so the code stays exercised.

#[path = "../tests/common/mod.rs"]
mod common;

use rbtcd_core::primitives::hash::hex_decode;
use rbtcd_core::primitives::{Decodable, Reader, Transaction, TxOut};
use rbtcd_core::script::hashes::hash160;
use rbtcd_core::script::sighash::{legacy_sighash, SighashCache, SIGHASH_ALL, SIGHASH_DEFAULT};
use rbtcd_core::script::{Flags, TxVerifier, STANDARD_FLAGS};
use secp256k1::{ecdsa, Keypair, Message, PublicKey, SecretKey, SECP256K1};
use std::time::{Duration, Instant};

/// How the bench signs each input.
#[derive(Clone, Copy, Debug)]
enum Kind {
    P2pkh,
    P2wpkh,
    P2tr,
}

struct Signed {
    tx: Transaction,
    spent: Vec<TxOut>,
    /// (message, signature, key) of every input, for the raw-verification baseline.
    raw: Vec<([u8; 32], ecdsa::Signature)>,
}

fn sign(template: &Transaction, kind: Kind, key: &SecretKey) -> Signed {
    let pubkey = PublicKey::from_secret_key(SECP256K1, key).serialize();
    let keypair = Keypair::from_secret_key(SECP256K1, key);
    let xonly = keypair.x_only_public_key().0.serialize();
    let script_pubkey = match kind {
        Kind::P2pkh => [&[0x76, 0xa9, 20][..], &hash160(&pubkey), &[0x88, 0xac]].concat(),
        Kind::P2wpkh => [&[0x00, 20][..], &hash160(&pubkey)].concat(),
        Kind::P2tr => [&[0x51, 32][..], &xonly].concat(),
    };
    let mut tx = template.clone();
    for input in &mut tx.inputs {
        input.script_sig.clear();
        input.witness.clear();
    }
    let spent: Vec<TxOut> = tx
        .inputs
        .iter()
        .map(|_| TxOut {
            value: 50_000,
            script_pubkey: script_pubkey.clone(),
        })
        .collect();
    let cache = SighashCache::new(&tx, &spent);
    let p2pkh_code = [&[0x76, 0xa9, 20][..], &hash160(&pubkey), &[0x88, 0xac]].concat();
    let mut raw = Vec::new();
    let mut sigs = Vec::new();
    for i in 0..tx.inputs.len() {
        match kind {
            Kind::P2pkh | Kind::P2wpkh => {
                let msg = match kind {
                    Kind::P2pkh => legacy_sighash(&tx, i, &script_pubkey, i32::from(SIGHASH_ALL)),
                    _ => cache.segwit_v0(i, &p2pkh_code, 50_000, SIGHASH_ALL),
                };
                let sig = SECP256K1.sign_ecdsa(&Message::from_digest(msg), key);
                raw.push((msg, sig));
                sigs.push([&sig.serialize_der()[..], &[SIGHASH_ALL]].concat());
            }
            Kind::P2tr => {
                let msg = cache
                    .taproot(i, SIGHASH_DEFAULT, None, None)
                    .expect("defined hash type");
                let sig = SECP256K1.sign_schnorr_no_aux_rand(&Message::from_digest(msg), &keypair);
                sigs.push(sig.as_ref().to_vec());
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

/// The best of `rounds` timings of `f`.
fn best_of(rounds: usize, mut f: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .expect("at least one round")
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 20 } else { 1 };
    let text = String::from_utf8(common::read_vector("many_inputs_tx.hex")).expect("hex text");
    let bytes = hex_decode(text.trim()).expect("hex");
    // The file holds more bytes after the transaction; btcd's benchmark reads just the
    // transaction from its start, and so does this one.
    let mut reader = Reader::new(&bytes);
    let template = Transaction::decode_from(&mut reader).expect("tx decodes");
    let n = template.inputs.len();
    println!(
        "many_inputs_tx.hex: {n} inputs, {} outputs, {} bytes unsigned ({} trailing bytes in the file ignored)",
        template.outputs.len(),
        template.total_size(),
        reader.remaining()
    );
    let key = SecretKey::from_slice(&[0x42; 32]).expect("valid key");
    let pubkey = PublicKey::from_secret_key(SECP256K1, &key);

    // Signature checks per second: P2WPKH (linear hashing), interpreter vs raw libsecp256k1.
    let w = sign(&template, Kind::P2wpkh, &key);
    let flags = STANDARD_FLAGS;
    let interp = best_of(rounds, || {
        TxVerifier::new(&w.tx, &w.spent)
            .verify_all(flags)
            .expect("signed inputs verify");
    });
    let raw = best_of(rounds, || {
        for (msg, sig) in &w.raw {
            SECP256K1
                .verify_ecdsa(&Message::from_digest(*msg), sig, &pubkey)
                .expect("raw signature verifies");
        }
    });
    let interp_rate = n as f64 / interp.as_secs_f64();
    let raw_rate = n as f64 / raw.as_secs_f64();
    println!(
        "ECDSA checks/s: interpreter {interp_rate:.0}, raw libsecp256k1 {raw_rate:.0}, ratio {:.2}",
        interp_rate / raw_rate
    );

    for kind in [Kind::P2pkh, Kind::P2wpkh, Kind::P2tr] {
        let s = sign(&template, kind, &key);
        let flags = if matches!(kind, Kind::P2pkh) {
            Flags::P2SH | Flags::DERSIG
        } else {
            flags
        };
        let t = best_of(rounds, || {
            TxVerifier::new(&s.tx, &s.spent)
                .verify_all(flags)
                .expect("signed inputs verify");
        });
        println!(
            "validate many_inputs_tx as {kind:?}: {:.1} ms ({} bytes signed, {:.0} inputs/s)",
            t.as_secs_f64() * 1e3,
            rbtcd_core::primitives::Encodable::encode(&s.tx).len(),
            n as f64 / t.as_secs_f64()
        );
    }
}
