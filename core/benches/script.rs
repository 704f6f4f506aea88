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
mod signing;

use rbtcd_core::primitives::hash::hex_decode;
use rbtcd_core::primitives::{Decodable, Reader, Transaction};
use rbtcd_core::script::{Flags, TxVerifier, STANDARD_FLAGS};
use secp256k1::SecretKey;
use signing::{best_of, sign, Kind};

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

    // Signature checks per second on one thread: P2WPKH (linear hashing), interpreter vs raw
    // libsecp256k1 parsing and verifying the same signatures.
    let w = sign(&template, Kind::P2wpkh, &key);
    let flags = STANDARD_FLAGS;
    let interp = best_of(rounds, || {
        TxVerifier::new(&w.tx, &w.spent)
            .verify_all(flags)
            .expect("signed inputs verify");
    });
    let raw = best_of(rounds, || {
        for check in &w.raw {
            assert!(check.verify(), "raw signature verifies");
        }
    });
    let interp_rate = n as f64 / interp.as_secs_f64();
    let raw_rate = n as f64 / raw.as_secs_f64();
    println!(
        "ECDSA checks/s: interpreter {interp_rate:.0}, raw libsecp256k1 {raw_rate:.0}, ratio {:.2}",
        interp_rate / raw_rate
    );

    for kind in Kind::ALL {
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
