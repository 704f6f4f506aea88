//! The block database: the chain's store on LMDB with the block files beside it, and its
//! schema upgrades.

pub mod files;
pub mod lmdb;
pub mod upgrades;
