//! The block database: the chain's store on LMDB with the block files beside it, its schema
//! upgrades, the check that walks it before it is opened, and the lock that keeps a second daemon out of the data directory.

pub mod check;
pub mod files;
pub mod lmdb;
pub mod lock;
pub mod upgrades;
