//! The smol adapter around `rbtcd-core`: configuration, logging, storage, sockets and miner
//! threads. The daemon binary is a thin `main` over this library.

pub mod config;
pub mod ctl;
pub mod daemon;
pub mod dialer;
pub mod entropy;
pub mod generate;
pub mod logging;
pub mod miner;
pub mod node_config;
pub mod onion;
pub mod p2p;
pub mod progress;
pub mod rpc_http;
pub mod rpc_notify;
pub mod rpc_service;
pub mod rpc_ws;
pub mod socks5;
pub mod store_lmdb;
pub mod upgrades;
