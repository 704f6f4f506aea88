//! WebSocket notifications, btcd's `rpcwebsocket.go` without the sockets: notification shapes,
//! the `loadtxfilter` transaction filter, the per-client subscriptions turning node events into
//! notifications in event order, and the `rescanblocks`/`rescan` scans over the chain.

pub mod filter;
pub mod hub;
pub mod notification;
pub mod rescan;

pub use filter::TxFilter;
pub use hub::{ClientId, Hub, Outgoing, Subscriptions};
pub use rescan::Rescan;

#[cfg(test)]
mod tests;
