//! Mainnet blocks 1..=255 framed as `block` messages and fed through the streaming decoder.

mod common;

use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, Decodable};
use rbtcd_core::wire::{encode_message, Decoder, Message};

#[test]
fn mainnet_blocks_decode_as_block_messages_in_any_chunking() {
    let params = Params::new(Network::Mainnet);
    let raw = common::block_records("blocks1-256.bz2");
    assert_eq!(raw.len(), 255);
    let stream: Vec<u8> = raw
        .iter()
        .flat_map(|b| encode_message(params.magic, &Message::Block(Block::decode(b).unwrap())))
        .collect();
    assert_eq!(
        stream.len(),
        raw.iter().map(|b| b.len() + 24).sum::<usize>()
    );
    // Uneven chunk sizes, so frames and headers straddle chunk boundaries.
    for chunk in [1usize, 23, 1000, 1 << 20] {
        let mut decoder = Decoder::new(params.magic);
        let mut prev = params.genesis_hash;
        let mut count = 0;
        for c in stream.chunks(chunk) {
            decoder.push(c);
            while let Some(m) = decoder.pull() {
                let Message::Block(block) = m.unwrap() else {
                    panic!("not a block message");
                };
                assert_eq!(
                    block.header.prev_blockhash,
                    prev,
                    "block {} links",
                    count + 1
                );
                assert_eq!(block.compute_merkle_root().0, block.header.merkle_root);
                prev = block.block_hash();
                count += 1;
            }
        }
        assert_eq!(count, 255, "chunk size {chunk}");
        assert_eq!(decoder.buffered(), 0);
    }
}
