//! JSON-RPC: request envelopes, btcd's error codes, and the method table with authorization.
//! Handlers read the chain and mempool through a borrowed context.

pub mod error;
pub mod handlers;
pub mod jsonrpc;
pub mod methods;
pub mod params;
pub mod ws;

pub use error::RpcError;
pub use methods::{Rights, Transport};
