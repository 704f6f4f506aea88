//! Real mainnet blocks 1..=255 (`blocks1-256.bz2`) and the mega transaction through the primitives.

mod common;

use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, Decodable, Encodable, Transaction};

#[test]
fn blocks_1_to_255_round_trip_with_valid_pow_and_merkle_roots() {
    let params = Params::new(Network::Mainnet);
    let raw = common::block_records("blocks1-256.bz2");
    // The file is named 1-256 but holds heights 1..=255 (58,731 bytes, as its README says).
    assert_eq!(raw.len(), 255);
    let mut prev = params.genesis_hash;
    for (i, bytes) in raw.iter().enumerate() {
        let block = Block::decode(bytes).unwrap();
        assert_eq!(&block.encode(), bytes, "block {} re-encodes", i + 1);
        assert_eq!(block.header.prev_blockhash, prev, "block {} links", i + 1);
        assert!(
            block.header.check_proof_of_work(&params.pow_limit),
            "block {} pow",
            i + 1
        );
        let (root, mutated) = block.compute_merkle_root();
        assert_eq!(root, block.header.merkle_root, "block {} merkle", i + 1);
        assert!(!mutated);
        prev = block.block_hash();
        if i == 0 {
            assert_eq!(
                prev.to_string(),
                "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"
            );
        }
    }
    println!("checked {} mainnet blocks", raw.len());
}

#[test]
fn megatx_round_trips() {
    let bytes = common::read_bz2("megatx.bin.bz2");
    let tx = Transaction::decode(&bytes).unwrap();
    assert_eq!(tx.encode(), bytes);
    assert_eq!(tx.total_size(), bytes.len());
    println!(
        "megatx: {} bytes, {} inputs, {} outputs",
        bytes.len(),
        tx.inputs.len(),
        tx.outputs.len()
    );
}
