//! What RPC handlers read of the chain: [`ChainView`], a narrow read-only view the node's
//! [`Chain`] provides. Handlers written against it take no store type, so one method table
//! serves every node, and a consistent read snapshot of the store could answer them beside the
//! node later.

use crate::chain::index::BlockIndex;
use crate::chain::records::BlockUndo;
use crate::chain::tx_index::TxLoc;
use crate::chain::utxo_stats::{utxo_stats, UtxoStats};
use crate::chain::verify::{verify_chain, VerifyError};
use crate::chain::{Chain, ChainError, ChainStore, IndexEntry};
use crate::mempool::{ChainContext, Coin};
use crate::params::Params;
use crate::primitives::{Block, BlockHash, BlockHeader, OutPoint, Txid};

/// Read access to the chain: its index (heights, headers, main chain), stored blocks and
/// coins, the transaction index, and the checks that only read.
pub trait ChainView {
    /// The network's parameters.
    fn params(&self) -> &Params;
    /// The block index.
    fn index(&self) -> &BlockIndex;
    /// A stored block.
    fn block(&self, hash: &BlockHash) -> Result<Option<Block>, ChainError>;
    /// A stored block as the bytes it was stored as (what the network sent).
    fn block_bytes(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, ChainError>;
    /// The coins a connected block's inputs spent, one per non-coinbase input in order.
    fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, ChainError>;
    /// The unspent output at `outpoint` as of the tip (through the UTXO cache).
    fn utxo(&self, outpoint: &OutPoint) -> Result<Option<Coin>, ChainError>;
    /// Statistics of the UTXO set as of the tip, with `hash_serialized_3` when `hash`.
    fn utxo_stats(&self, hash: bool) -> Result<UtxoStats, ChainError>;
    /// Whether the transaction index is kept (`txindex`).
    fn tx_index_enabled(&self) -> bool;
    /// Where the transaction index puts `txid` as of the tip (`None` when it is off or lacks
    /// `txid`).
    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, ChainError>;
    /// Checks the last `depth` main-chain blocks again at `level` (`verifychain`).
    fn verify(&self, level: u32, depth: u32) -> Result<(), VerifyError>;
    /// What mempool acceptance rules ask of the chain, answered from its tip.
    fn tx_context(&self) -> &dyn ChainContext;

    /// The main chain's tip.
    fn tip(&self) -> &IndexEntry {
        self.index().tip()
    }
    /// A known block's header.
    fn header(&self, hash: &BlockHash) -> Option<BlockHeader> {
        self.index().get(hash).map(|e| e.header)
    }
    /// The height of `hash` when it is on the main chain.
    fn main_height(&self, hash: &BlockHash) -> Option<u32> {
        let entry = self.index().get(hash)?;
        self.index().is_main(hash).then_some(entry.height)
    }
    /// The main-chain block at `height`.
    fn main_hash(&self, height: u32) -> Option<BlockHash> {
        self.index().main_at(height).copied()
    }
}

impl<S: ChainStore> ChainView for Chain<S> {
    fn params(&self) -> &Params {
        Chain::params(self)
    }

    fn index(&self) -> &BlockIndex {
        Chain::index(self)
    }

    fn block(&self, hash: &BlockHash) -> Result<Option<Block>, ChainError> {
        Chain::block(self, hash)
    }

    fn block_bytes(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, ChainError> {
        Chain::block_bytes(self, hash)
    }

    fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, ChainError> {
        Chain::undo(self, hash)
    }

    fn utxo(&self, outpoint: &OutPoint) -> Result<Option<Coin>, ChainError> {
        self.unspent(outpoint)
    }

    fn utxo_stats(&self, hash: bool) -> Result<UtxoStats, ChainError> {
        utxo_stats(self, hash)
    }

    fn tx_index_enabled(&self) -> bool {
        Chain::tx_index_enabled(self)
    }

    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, ChainError> {
        Chain::tx_location(self, txid)
    }

    fn verify(&self, level: u32, depth: u32) -> Result<(), VerifyError> {
        verify_chain(self, level, depth)
    }

    fn tx_context(&self) -> &dyn ChainContext {
        self
    }
}
