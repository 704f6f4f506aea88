//! The smol adapter around `rbtcd-core`: configuration, logging, storage, sockets, miner
//! and script-check threads. The daemon binary is a thin `main` over this library.

pub(crate) mod config;
pub mod ctl;
pub mod daemon;
pub(crate) mod entropy;
pub(crate) mod logging;
pub(crate) mod mempool_file;
pub(crate) mod miner;
pub(crate) mod p2p;
pub mod rpc;
pub mod scripts;
pub mod store;
