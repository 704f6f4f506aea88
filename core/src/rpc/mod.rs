//! JSON-RPC: request envelopes, btcd's error codes, and the method table with authorization.
//! Handlers live with the node, which owns the state they read.

pub mod error;
pub mod jsonrpc;
pub mod methods;
pub mod params;

pub use error::RpcError;
pub use methods::{Rights, Transport};
