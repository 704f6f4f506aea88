use super::*;
use crate::primitives::hash::{hex_decode, hex_encode};
use proptest::prelude::*;

fn params(network: Network) -> Params {
    Params::new(network)
}

/// BIP350's valid addresses and their output scripts.
const VALID: &[(&str, &str)] = &[
    (
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "0014751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    (
        "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
        "5210751e76e8199196d454941c45d1b3a323",
    ),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
];

/// BIP350's invalid addresses (the BIP173 list is superseded by it), invalid on every network.
const INVALID: &[&str] = &[
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
    // BIP173's list.
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
];

#[test]
fn bip350_valid_addresses_give_their_scripts_and_print_back() {
    for (s, script) in VALID {
        let network = if s.to_ascii_lowercase().starts_with("bc1") {
            Network::Mainnet
        } else {
            Network::Testnet3
        };
        let p = params(network);
        let addr = Address::from_str_for(s, &p).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(hex_encode(&addr.script_pubkey()), *script, "{s}");
        assert_eq!(addr.to_string(), s.to_ascii_lowercase());
        let script = hex_decode(script).unwrap();
        assert_eq!(Address::from_script_pubkey(&script, &p), Some(addr));
    }
}

#[test]
fn bip350_and_bip173_invalid_addresses_are_rejected_everywhere() {
    for s in INVALID {
        for network in Network::ALL {
            assert!(
                Address::from_str_for(s, &params(network)).is_err(),
                "{s} accepted on {network}"
            );
        }
    }
}

#[test]
fn rejections_say_why() {
    let main = params(Network::Mainnet);
    let err = |s: &str| Address::from_str_for(s, &main).unwrap_err();
    // A BIP173-era taproot address: bech32 checksum on a v1 program.
    assert_eq!(
        err("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx"),
        AddressError::WrongChecksumVariant {
            version: 1,
            variant: Variant::Bech32
        }
    );
    assert_eq!(
        err("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"),
        AddressError::WrongHrp {
            found: "tb".into(),
            expected: "bc"
        }
    );
    assert_eq!(
        err("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P"),
        AddressError::InvalidProgramLength {
            version: 0,
            len: 16
        }
    );
    assert_eq!(
        err("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"),
        AddressError::Bech32(bech32::Bech32Error::BadChecksum)
    );
    assert_eq!(
        err("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav"),
        AddressError::InvalidProgramLength {
            version: 1,
            len: 41
        }
    );
    assert_eq!(
        err("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"),
        AddressError::WrongVersionByte {
            version: 0x6f,
            network: Network::Mainnet
        }
    );
    assert_eq!(
        err("1111111111111111111114oLvT3"),
        AddressError::Base58(base58::Base58Error::BadChecksum)
    );
    assert_eq!(err(&"1".repeat(91)), AddressError::TooLong(91));
    assert_eq!(
        err(&base58::encode_check(&[0u8; 20])),
        AddressError::Base58Length(20)
    );
}

#[test]
fn base58_addresses_of_known_hashes() {
    let main = params(Network::Mainnet);
    let satoshi = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
    let addr = Address::from_str_for(satoshi, &main).unwrap();
    let hash = hex_decode("62e907b15cbf27d5425399ebf6f0fb50ebb88f18").unwrap();
    assert_eq!(
        addr.payload(),
        &Payload::PubKeyHash(hash.try_into().unwrap())
    );
    assert_eq!(addr.to_string(), satoshi);
    assert_eq!(
        hex_encode(&addr.script_pubkey()),
        "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac"
    );
    let testnet = Address::new(addr.payload().clone(), &params(Network::Testnet3));
    assert_eq!(testnet.to_string(), "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt");
}

#[test]
fn shared_prefixes_are_accepted_on_each_network_that_uses_them() {
    let testnet = params(Network::Testnet3);
    let signet = params(Network::Signet);
    let regtest = params(Network::Regtest);
    let s = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7";
    let on_signet = Address::from_str_for(s, &signet).unwrap();
    assert!(on_signet.is_for(&testnet));
    assert!(!on_signet.is_for(&regtest));
    assert_eq!(on_signet.network(), Network::Signet);
    assert!(matches!(
        Address::from_str_for(s, &regtest),
        Err(AddressError::WrongHrp { .. })
    ));
}

#[test]
fn non_address_scripts_have_no_address() {
    let main = params(Network::Mainnet);
    let p2pk = params(Network::Mainnet).genesis.txdata[0].outputs[0]
        .script_pubkey
        .clone();
    assert_eq!(Address::from_script_pubkey(&p2pk, &main), None);
    assert_eq!(
        Address::from_script_pubkey(&[0x6a, 0x01, 0x00], &main),
        None
    );
    // Version 0 with a 33-byte program is no valid output.
    let bad_v0 = [&[0u8, 33][..], &[7u8; 33]].concat();
    assert_eq!(Address::from_script_pubkey(&bad_v0, &main), None);
}

/// A standard output script of some kind: P2PKH, P2SH or a witness program of any version.
fn any_address_script() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<[u8; 20]>().prop_map(|h| [&[0x76, 0xa9, 20][..], &h, &[0x88, 0xac]].concat()),
        any::<[u8; 20]>().prop_map(|h| [&[0xa9, 20][..], &h, &[0x87]].concat()),
        (prop::bool::ANY, any::<[u8; 32]>()).prop_map(|(short, p)| {
            let len = if short { 20 } else { 32 };
            [&[0, len as u8][..], &p[..len]].concat()
        }),
        (1u8..=16, prop::collection::vec(any::<u8>(), 2..=40))
            .prop_map(|(v, p)| { [&[OP_1 + v - 1, p.len() as u8][..], &p].concat() }),
    ]
}

fn oracle_network(network: Network) -> Option<bitcoin::Network> {
    match network {
        Network::Mainnet => Some(bitcoin::Network::Bitcoin),
        // Testnet4 writes addresses as testnet3 does.
        Network::Testnet3 | Network::Testnet4 => Some(bitcoin::Network::Testnet),
        Network::Signet => Some(bitcoin::Network::Signet),
        Network::Regtest => Some(bitcoin::Network::Regtest),
        Network::Simnet => None,
    }
}

/// Our address for `script` matches rust-bitcoin's both ways (encoding and parsing); on simnet,
/// which rust-bitcoin does not know, it round-trips.
fn check_against_oracle(script: &[u8], network: Network) {
    let p = params(network);
    let ours = Address::from_script_pubkey(script, &p).expect("standard script");
    let text = ours.to_string();
    assert_eq!(Address::from_str_for(&text, &p), Ok(ours.clone()));
    assert_eq!(
        Address::from_str_for(&text.to_ascii_uppercase(), &p).is_ok(),
        matches!(ours.payload(), Payload::Witness(_)),
        "only bech32 may be upper-cased"
    );
    let Some(net) = oracle_network(network) else {
        return;
    };
    let theirs = bitcoin::Address::from_script(bitcoin::Script::from_bytes(script), net)
        .expect("oracle accepts the script");
    assert_eq!(text, theirs.to_string());
    assert_eq!(ours.script_pubkey(), theirs.script_pubkey().to_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_scripts_match_rust_bitcoin(script in any_address_script(), n in 0usize..5) {
        check_against_oracle(&script, Network::ALL[n]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_keys_match_rust_bitcoin(secret in any::<[u8; 32]>(), n in 0usize..4) {
        use bitcoin::secp256k1::{Secp256k1, SecretKey};
        let Ok(sk) = SecretKey::from_slice(&secret) else {
            return Ok(());
        };
        let secp = Secp256k1::new();
        let pk = sk.public_key(&secp);
        let net = oracle_network(Network::ALL[n]).expect("oracle network");
        let compressed = bitcoin::CompressedPublicKey(pk);
        let witness_script = bitcoin::ScriptBuf::from_bytes(
            [&[33u8][..], &pk.serialize(), &[0xac]].concat(),
        );
        let theirs = [
            bitcoin::Address::p2pkh(bitcoin::PublicKey::new(pk), net),
            bitcoin::Address::p2shwpkh(&compressed, net),
            bitcoin::Address::p2wpkh(&compressed, net),
            bitcoin::Address::p2wsh(&witness_script, net),
            bitcoin::Address::p2tr(&secp, pk.x_only_public_key().0, None, net),
        ];
        let p = params(Network::ALL[n]);
        for addr in theirs {
            let ours = Address::from_str_for(&addr.to_string(), &p).unwrap();
            prop_assert_eq!(ours.script_pubkey(), addr.script_pubkey().to_bytes());
            prop_assert_eq!(ours.to_string(), addr.to_string());
        }
    }
}
