//! Chain state: the block index, contextual validation, the UTXO set (cached) with undo data,
//! reorgs, and the [`ChainStore`](store::ChainStore) and [`BlockFiles`] interfaces every
//! storage backend implements.

pub mod assume_valid;
pub mod block_files;
pub mod block_rules;
pub mod builder;
pub mod coins;
pub mod connect;
pub mod context;
pub mod difficulty;
pub mod error;
pub mod hashed_key_map;
pub mod header_rules;
pub mod index;
pub mod index_view;
pub mod mem_store;
pub mod orphans;
pub mod proposal;
pub mod records;
pub mod script_check;
pub mod shared_map;
pub mod shared_vec;
mod slot_table;
pub mod state;
pub mod store;
pub mod tx_index;
pub mod tx_rules;
pub mod unflushed_view;
pub mod upgrades;
pub mod utxo_stats;
pub mod verify;

pub use block_files::{BlockFiles, FileKind, FilePos};
pub use error::{ChainError, RuleError};
pub use mem_store::MemStore;
pub use records::{BlockUndo, IndexEntry, Status};
pub use state::{BlockVerdict, Chain, ChainEvent, ChainOptions, Placement, VerdictError};
pub use store::{ChainStore, StoreError, Table, WriteBatch, WriteOp};
pub use tx_index::TxLoc;
