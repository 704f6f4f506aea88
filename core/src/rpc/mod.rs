//! JSON-RPC: request envelopes, btcd's error codes, the method table with authorization,
//! and the handlers, which read the node through a borrowed [`handlers::Context`] and ask it to
//! act through [`handlers::Effect`]s. The node runs requests from HTTP and WebSocket clients
//! alike through the table.

pub mod auth;
pub mod block_lookup;
pub mod caller;
pub mod debug_level;
pub mod error;
pub mod handlers;
pub mod help;
pub mod jsonrpc;
pub mod methods;
pub mod params;
pub mod render;
pub mod view;
pub mod ws;

pub use caller::{Rights, Transport};
pub use error::RpcError;

/// The driver's token for one HTTP JSON-RPC request ([`crate::node::Input::Rpc`]).
pub type RequestId = u64;
