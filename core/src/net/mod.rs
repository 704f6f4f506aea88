//! The peer-to-peer side of the node: per-connection peer state, the sync manager with its
//! block download scheduler, the address manager, ban scores, the memory budget per peer with
//! the structures it bounds (transaction requests, the rolling filter of refused
//! transactions), inbound eviction, and an in-memory test network.

pub mod addr_rate;
pub mod addrmgr;
pub mod bans;
pub mod banscore;
pub mod budget;
pub mod connmgr;
pub mod download;
pub mod eviction;
pub mod group;
pub mod ipnet;
pub mod local;
pub mod peer;
pub mod peer_command;
pub mod rolling_bloom;
pub mod syncmgr;
pub mod tx_fetch;
pub mod user_agent;
