//! The block database: the chain's store on LMDB, its schema upgrades, and the lock that keeps
//! a second daemon out of the data directory.

pub mod lmdb;
pub mod lock;
pub mod upgrades;
