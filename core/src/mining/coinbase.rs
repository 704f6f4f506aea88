//! The coinbase of a generated block (btcd's `standardCoinbaseScript` and `createCoinbaseTx`).

use crate::chain::block_rules::coinbase_height_prefix;
use crate::primitives::{OutPoint, Transaction, TxIn, TxOut};

/// Tag ending every generated coinbase script, as btcd's `CoinbaseFlags`.
pub const COINBASE_FLAGS: &[u8] = b"/rbtcd/";

/// The coinbase script: the BIP34 height, the extra nonce, then [`COINBASE_FLAGS`].
///
/// btcd pushes the extra nonce as a script number, whose length varies with its value; a
/// fixed 8-byte push keeps the coinbase's size the same for every extra nonce, so rolling it
/// can never push a full template over its weight limit.
pub fn coinbase_script(height: u32, extra_nonce: u64) -> Vec<u8> {
    let mut script = coinbase_height_prefix(height);
    script.push(8);
    script.extend_from_slice(&extra_nonce.to_le_bytes());
    script.push(COINBASE_FLAGS.len() as u8);
    script.extend_from_slice(COINBASE_FLAGS);
    script
}

/// A coinbase at `height` paying `value` to `script_pubkey`.
pub fn coinbase_tx(
    height: u32,
    extra_nonce: u64,
    value: i64,
    script_pubkey: Vec<u8>,
) -> Transaction {
    Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: coinbase_script(height, extra_nonce),
            sequence: u32::MAX,
            witness: vec![],
        }],
        outputs: vec![TxOut {
            value,
            script_pubkey,
        }],
        lock_time: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::tx_rules::check_transaction_sanity;

    #[test]
    fn script_holds_height_extra_nonce_and_flags_at_a_fixed_size() {
        let a = coinbase_script(300, 0);
        let b = coinbase_script(300, u64::MAX);
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b);
        assert!(a.starts_with(&coinbase_height_prefix(300)));
        assert!(a.ends_with(COINBASE_FLAGS));
        // Consensus bounds a coinbase script to 2..=100 bytes at any height.
        let widest = coinbase_tx(u32::MAX, u64::MAX, 50, vec![0x51]);
        assert!(widest.is_coinbase());
        assert_eq!(check_transaction_sanity(&widest), Ok(()));
        assert_eq!(
            check_transaction_sanity(&coinbase_tx(0, 0, 50, vec![0x51])),
            Ok(())
        );
    }
}
