//! Genesis blocks. Every network but testnet4 carries the same coinbase transaction ("The
//! Times 03/Jan/2009 ..."), only the header fields differ; testnet4's coinbase has its own
//! message and pays to a key of zeros.

use crate::primitives::hash::hex_decode;
use crate::primitives::transaction::COIN;
use crate::primitives::{Block, BlockHeader, Hash256, OutPoint, Transaction, TxIn, TxOut};

const GENESIS_SCRIPT_SIG: &str = "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73";
const GENESIS_OUTPUT_SCRIPT: &str = "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac";

const TESTNET4_SCRIPT_SIG: &str = "04ffff001d01044c4c30332f4d61792f323032342030303030303030303030303030303030303030303165626435386332343439373062336161396437383362623030313031316662653865613865393865303065";
const TESTNET4_OUTPUT_SCRIPT: &str =
    "21000000000000000000000000000000000000000000000000000000000000000000ac";

/// The coinbase transaction shared by every network's genesis block but testnet4's.
pub fn genesis_coinbase() -> Transaction {
    coinbase(GENESIS_SCRIPT_SIG, GENESIS_OUTPUT_SCRIPT)
}

fn coinbase(script_sig: &str, output_script: &str) -> Transaction {
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: hex_decode(script_sig).expect("constant hex"),
            sequence: u32::MAX,
            witness: vec![],
        }],
        outputs: vec![TxOut {
            value: 50 * COIN,
            script_pubkey: hex_decode(output_script).expect("constant hex"),
        }],
        lock_time: 0,
    }
}

/// Builds a genesis block with the shared coinbase and the given header fields.
pub fn genesis_block(time: u32, nonce: u32, bits: u32) -> Block {
    block_with(genesis_coinbase(), time, nonce, bits)
}

/// Testnet4's genesis block ("03/May/2024 000000000000000000001ebd58c2...").
pub fn testnet4_genesis_block() -> Block {
    let coinbase = coinbase(TESTNET4_SCRIPT_SIG, TESTNET4_OUTPUT_SCRIPT);
    block_with(coinbase, 1714777860, 393743547, 0x1d00ffff)
}

fn block_with(coinbase: Transaction, time: u32, nonce: u32, bits: u32) -> Block {
    let header = BlockHeader {
        version: 1,
        prev_blockhash: Hash256::ZERO,
        merkle_root: coinbase.txid(),
        time,
        bits,
        nonce,
    };
    Block {
        header,
        txdata: vec![coinbase],
    }
}
