//! The peer-to-peer side of the node: block download scheduling (and, to come, the peer
//! handler, address manager, connection manager and sync manager).

pub mod download;
