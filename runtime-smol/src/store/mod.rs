//! The block database: the chain's store on LMDB and its schema upgrades.

pub mod lmdb;
pub mod upgrades;
