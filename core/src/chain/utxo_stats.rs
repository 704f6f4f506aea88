//! Statistics of the UTXO set as Bitcoin Core's `gettxoutsetinfo` reports them, with its
//! `hash_serialized_3` (Core's `kernel/coinstats.cpp`): SHA-256d over every coin in outpoint
//! order, each as the outpoint (txid, vout u32 LE), the height and coinbase flag as
//! `height << 1 | coinbase` (u32 LE), and the output (value i64 LE, compact-size script). Two
//! nodes with the same set get the same hash, so a UTXO set can be compared with Knots's.

use super::error::ChainError;
use super::state::Chain;
use super::store::ChainStore;
use crate::primitives::encode::write_compact_size;
use crate::primitives::hash::sha256;
use crate::primitives::{BlockHash, Encodable, Hash256, Txid};
use sha2::{Digest, Sha256};

/// What `gettxoutsetinfo` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtxoStats {
    /// Height of the block the set is of.
    pub height: u32,
    /// That block.
    pub best_block: BlockHash,
    /// Unspent outputs.
    pub txouts: u64,
    /// Transactions with at least one unspent output.
    pub transactions: u64,
    /// Core's database-independent size measure.
    pub bogosize: u64,
    /// Sum of the values, satoshis.
    pub total_amount: i64,
    /// `hash_serialized_3`, when asked for.
    pub hash_serialized: Option<Hash256>,
}

/// Core's `GetBogoSize`: txid, vout, height and flag, amount, script length, script.
fn bogo_size(script_len: usize) -> u64 {
    (32 + 4 + 4 + 8 + 2 + script_len) as u64
}

/// Computes the statistics of `chain`'s UTXO set as of its tip (flushed or not), hashing it
/// when `hash`.
pub fn utxo_stats<S: ChainStore>(chain: &Chain<S>, hash: bool) -> Result<UtxoStats, ChainError> {
    let tip = chain.tip();
    let mut stats = UtxoStats {
        height: tip.height,
        best_block: tip.hash,
        txouts: 0,
        transactions: 0,
        bogosize: 0,
        total_amount: 0,
        hash_serialized: None,
    };
    let mut hasher = hash.then(Sha256::new);
    let mut last_txid: Option<Txid> = None;
    let mut record = Vec::with_capacity(128);
    chain.for_each_coin(&mut |op, coin| {
        if last_txid != Some(op.txid) {
            stats.transactions += 1;
            last_txid = Some(op.txid);
        }
        stats.txouts += 1;
        stats.total_amount += coin.output.value;
        stats.bogosize += bogo_size(coin.output.script_pubkey.len());
        if let Some(h) = hasher.as_mut() {
            record.clear();
            op.encode_to(&mut record);
            let code = (coin.height << 1) | u32::from(coin.is_coinbase);
            record.extend_from_slice(&code.to_le_bytes());
            record.extend_from_slice(&coin.output.value.to_le_bytes());
            write_compact_size(&mut record, coin.output.script_pubkey.len() as u64);
            record.extend_from_slice(&coin.output.script_pubkey);
            h.update(&record);
        }
    })?;
    stats.hash_serialized = hasher.map(|h| Hash256(sha256(&h.finalize())));
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::spending_chain;
    use crate::chain::MemStore;
    use crate::params::{Network, Params};

    #[test]
    fn the_hash_covers_each_coin_as_core_serializes_it() {
        let p = Params::new(Network::Regtest);
        let mut chain = Chain::open(p.clone(), MemStore::new()).unwrap();
        for b in spending_chain(&p, 105, 2) {
            chain.process_block(b, 2_000_000_000).unwrap();
        }
        let stats = utxo_stats(&chain, true).unwrap();
        let coins = chain.utxo_snapshot().unwrap();
        assert_eq!(stats.txouts, coins.len() as u64);
        assert_eq!(stats.height, 105);
        // The same bytes written out by hand from the snapshot (BTreeMap order is outpoint
        // order: txid bytes, then vout).
        let mut stream = Vec::new();
        for (op, c) in &coins {
            stream.extend_from_slice(&op.txid.0);
            stream.extend_from_slice(&op.vout.to_le_bytes());
            stream.extend_from_slice(&((c.height * 2) + c.is_coinbase as u32).to_le_bytes());
            stream.extend_from_slice(&c.output.value.to_le_bytes());
            stream.push(c.output.script_pubkey.len() as u8);
            stream.extend_from_slice(&c.output.script_pubkey);
        }
        assert_eq!(
            stats.hash_serialized,
            Some(Hash256(sha256(&sha256(&stream))))
        );
        let total: i64 = coins.values().map(|c| c.output.value).sum();
        assert_eq!(stats.total_amount, total);
        // Flushing changes nothing.
        chain.flush().unwrap();
        assert_eq!(utxo_stats(&chain, true).unwrap(), stats);
        assert_eq!(utxo_stats(&chain, false).unwrap().hash_serialized, None);
    }
}
