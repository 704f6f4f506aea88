//! Wire and primitive decoding speed on real mainnet blocks, and header hashing speed.
//!
//! `cargo bench -p rbtcd-core --bench wire`. Prints one machine-readable line per figure.

#[path = "../tests/common/mod.rs"]
mod common;

use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::primitives::{Block, Decodable};
use rbtcd_core::wire::{encode_message, Decoder, Message};
use std::hint::black_box;

fn main() {
    let params = Params::new(Network::Mainnet);
    let raw = common::block_records("blocks1-256.bz2");
    let total_bytes: usize = raw.iter().map(Vec::len).sum();

    let blocks_per_sec = common::rate(3.0, raw.len(), || {
        for bytes in &raw {
            let block = Block::decode(black_box(bytes)).unwrap();
            black_box(block.block_hash());
            black_box(block.compute_merkle_root());
        }
    });
    println!(
        "bench: wire_blocks_decoded_hashed_per_sec_1core: {blocks_per_sec:.0} blocks/s \
         (mainnet 1..=255: decode, block hash, merkle root)"
    );

    let stream: Vec<u8> = raw
        .iter()
        .flat_map(|b| encode_message(params.magic, &Message::Block(Block::decode(b).unwrap())))
        .collect();
    let messages_per_sec = common::rate(3.0, raw.len(), || {
        let mut decoder = Decoder::new(params.magic);
        for chunk in stream.chunks(16 * 1024) {
            decoder.push(chunk);
            while let Some(m) = decoder.pull() {
                black_box(m.unwrap());
            }
        }
    });
    println!(
        "bench: wire_block_messages_decoded_per_sec_1core: {messages_per_sec:.0} messages/s \
         (framing, checksum, decode; 16 KiB chunks)"
    );

    let headers: Vec<[u8; 80]> = raw.iter().map(|b| b[..80].try_into().unwrap()).collect();
    let hashes_per_sec = common::rate(3.0, headers.len(), || {
        for h in &headers {
            black_box(sha256d(black_box(h)));
        }
    });
    println!("bench: wire_header_sha256d_per_sec_1core: {hashes_per_sec:.0} hashes/s");

    // The limit for "decode and hash": double-SHA256 over the same bytes, measured now.
    let sha_bytes_per_sec = common::rate(3.0, total_bytes, || {
        for bytes in &raw {
            black_box(sha256d(black_box(bytes)));
        }
    });
    let decode_bytes_per_sec = blocks_per_sec * total_bytes as f64 / raw.len() as f64;
    println!(
        "bench: wire_block_bytes_decoded_hashed_per_sec_1core: {:.1} MB/s",
        decode_bytes_per_sec / 1e6
    );
    println!(
        "bench: sha256d_bytes_limit_1core: {:.1} MB/s",
        sha_bytes_per_sec / 1e6
    );
    println!(
        "ratio: block_decode_hash_vs_sha256d_limit: {:.2}",
        decode_bytes_per_sec / sha_bytes_per_sec
    );
}
