//! Bitcoin Core's `key_io` address vectors: every valid address parses on its chain to its
//! script and prints back; every invalid string is refused on every network.

mod common;

use rbtcd_core::address::Address;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use serde_json::Value;

fn vectors(name: &str) -> Vec<Value> {
    serde_json::from_slice(&common::read_vector(name)).expect("vector file is JSON")
}

#[test]
fn valid_addresses_parse_to_their_scripts_and_print_back() {
    let mut checked = 0;
    for v in vectors("key_io_valid.json") {
        let (s, script, meta) = (v[0].as_str().unwrap(), v[1].as_str().unwrap(), &v[2]);
        if meta["isPrivkey"].as_bool().unwrap() {
            continue;
        }
        let network = match meta["chain"].as_str().unwrap() {
            "main" => Network::Mainnet,
            "test" => Network::Testnet3,
            "testnet4" => Network::Testnet4,
            "signet" => Network::Signet,
            "regtest" => Network::Regtest,
            other => panic!("unknown chain {other}"),
        };
        let params = Params::new(network);
        let addr = Address::from_str_for(s, &params).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(hex_encode(&addr.script_pubkey()), script, "{s}");
        assert_eq!(addr.to_string(), s, "{s}");
        checked += 1;
    }
    assert!(checked > 20, "only {checked} addresses in the vectors");
}

#[test]
fn invalid_strings_are_refused_everywhere() {
    for v in vectors("key_io_invalid.json") {
        let s = v[0].as_str().unwrap();
        for network in Network::ALL {
            assert!(
                Address::from_str_for(s, &Params::new(network)).is_err(),
                "{s:?} accepted on {network}"
            );
        }
    }
}
