//! Consensus data types: hashes, transactions, blocks, merkle trees, targets and work; and
//! the keyed MurmurHash3 for in-memory filters.

pub mod amount;
pub mod block;
pub mod encode;
pub mod hash;
pub mod merkle;
pub mod murmur3;
pub mod target;
pub mod transaction;

pub use block::{Block, BlockHeader};
pub use encode::{Decodable, DecodeError, Encodable, Reader};
pub use hash::{BlockHash, Hash256, Txid, Wtxid};
pub use target::{Work, U256};
pub use transaction::{OutPoint, Transaction, TxIn, TxOut};
