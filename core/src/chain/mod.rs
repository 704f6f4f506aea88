//! Chain state: the block index, contextual validation, the UTXO set with undo data, reorgs,
//! and the [`ChainStore`](store::ChainStore) interface every storage backend implements.

pub mod mem_store;
pub mod records;
pub mod store;
pub mod upgrades;

pub use mem_store::MemStore;
pub use records::{BlockUndo, IndexEntry, Status};
pub use store::{ChainStore, StoreError, Table, WriteBatch, WriteOp};
