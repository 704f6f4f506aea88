//! Address encoding and decoding speed: P2PKH (Base58Check), P2WPKH (Bech32) and P2TR
//! (Bech32m) addresses printed and parsed back.
//!
//! `cargo bench -p rbtcd-core --bench address`. Prints one machine-readable line per figure.

#[path = "../tests/common/mod.rs"]
mod common;

use rbtcd_core::address::{Address, Payload, WitnessProgram};
use rbtcd_core::params::{Network, Params};
use std::hint::black_box;

/// 64 addresses of one kind, from distinct hashes so no string repeats.
fn addresses(params: &Params, payload: impl Fn(u8) -> Payload) -> Vec<Address> {
    (0..64u8)
        .map(|i| Address::new(payload(i), params))
        .collect()
}

fn main() {
    let params = Params::new(Network::Mainnet);
    let kinds = [
        (
            "p2pkh",
            addresses(&params, |i| Payload::PubKeyHash([i; 20])),
        ),
        (
            "p2wpkh",
            addresses(&params, |i| {
                Payload::Witness(WitnessProgram::new(0, vec![i; 20]).unwrap())
            }),
        ),
        (
            "p2tr",
            addresses(&params, |i| {
                Payload::Witness(WitnessProgram::new(1, vec![i; 32]).unwrap())
            }),
        ),
    ];
    for (kind, addrs) in &kinds {
        let per_sec = common::rate(2.0, addrs.len(), || {
            for a in addrs {
                black_box(black_box(a).to_string());
            }
        });
        println!("bench: address_{kind}_encoded_per_sec_1core: {per_sec:.0} addresses/s");
        let strings: Vec<String> = addrs.iter().map(Address::to_string).collect();
        let per_sec = common::rate(2.0, strings.len(), || {
            for s in &strings {
                black_box(Address::from_str_for(black_box(s), &params).unwrap());
            }
        });
        println!("bench: address_{kind}_decoded_per_sec_1core: {per_sec:.0} addresses/s");
    }
}
