//! The optional transaction index (btcd's `--txindex`): every main-chain transaction's block
//! and position in it, keyed by txid. Its entries are written in the same batch that connects
//! or disconnects a block, together with the index's own tip, so a crash never leaves the
//! index disagreeing with the chain; [`super::Chain::enable_tx_index`] catches it up when it
//! was off for a while.

use super::error::ChainError;
use super::store::{ChainStore, StoreError, WriteBatch, WriteOp};
use crate::primitives::{
    Block, BlockHash, Decodable, DecodeError, Encodable, Hash256, Reader, Transaction, Txid,
};

/// Where a transaction is: its block and its position among the block's transactions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TxLoc {
    /// The main-chain block holding it.
    pub block: BlockHash,
    /// Position in the block (0 is the coinbase).
    pub position: u32,
}

impl Encodable for TxLoc {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.block.0);
        out.extend_from_slice(&self.position.to_le_bytes());
    }
}

impl Decodable for TxLoc {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxLoc {
            block: Hash256(r.array()?),
            position: r.u32_le()?,
        })
    }
}

/// The transaction `txid` that the index puts at `loc`, in `block` (`loc`'s block).
pub fn tx_at(block: &Block, loc: &TxLoc, txid: &Txid) -> Result<Transaction, ChainError> {
    let position = loc.position as usize;
    block.txdata.get(position).cloned().ok_or_else(|| {
        ChainError::Inconsistent(format!(
            "transaction index puts {txid} at position {position} of block {}",
            loc.block
        ))
    })
}

/// The ops that index `block` (stored as `hash`) and make it the index's tip.
pub fn index_ops(block: &Block, hash: BlockHash) -> impl Iterator<Item = WriteOp> + '_ {
    block
        .txdata
        .iter()
        .enumerate()
        .map(move |(i, tx)| {
            WriteOp::PutTxLoc(
                tx.txid(),
                TxLoc {
                    block: hash,
                    position: i as u32,
                },
            )
        })
        .chain(std::iter::once(WriteOp::PutTxIndexTip(hash)))
}

/// The ops that remove `block`'s transactions and make its parent the index's tip.
pub fn unindex_ops(block: &Block) -> impl Iterator<Item = WriteOp> + '_ {
    block
        .txdata
        .iter()
        .map(|tx| WriteOp::DeleteTxLoc(tx.txid()))
        .chain(std::iter::once(WriteOp::PutTxIndexTip(
            block.header.prev_blockhash,
        )))
}

/// Deletes the transaction index (btcd's `--droptxindex`), logging as btcd; false when there
/// was none.
pub fn drop_tx_index<S: ChainStore>(store: &mut S) -> Result<bool, StoreError> {
    if store.tx_index_tip()?.is_none() {
        log::info!("Not dropping transaction index because it does not exist");
        return Ok(false);
    }
    log::info!("Dropping all transaction index entries.  This might take a while...");
    store.write(WriteBatch {
        ops: vec![WriteOp::ClearTxIndex],
    })?;
    log::info!("Dropped transaction index");
    Ok(true)
}

#[cfg(test)]
mod tests;
