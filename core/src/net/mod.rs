//! The peer-to-peer side of the node: per-connection peer state, the sync manager with its
//! block download scheduler, the address manager, ban scores, and an in-memory test network.

pub mod addr_rate;
pub mod addrmgr;
pub mod bans;
pub mod banscore;
pub mod connmgr;
pub mod download;
pub mod group;
pub mod ipnet;
pub mod local;
pub mod peer;
pub mod peer_command;
pub mod syncmgr;
pub mod user_agent;
