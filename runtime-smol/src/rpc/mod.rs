//! The JSON-RPC server's transports: HTTP (`/`) and WebSocket (`/ws`). They check
//! credentials and move bytes; the node answers requests and runs WebSocket sessions, except
//! lookups (blocks, headers, the tip, transactions, coins) over HTTP, answered beside it from
//! the chain it publishes ([`lookups`]).

pub mod client;
mod conn;
pub mod cookie;
pub mod http;
pub mod lookups;
pub mod render;
pub mod tls;
pub mod ws;

pub use conn::{READ_TIMEOUT, UNAUTHENTICATED_BYTES, UNAUTHENTICATED_CLIENTS};
