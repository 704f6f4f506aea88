//! The JSON-RPC server's transports: HTTP (`/`) and WebSocket (`/ws`). They check
//! credentials and move bytes; the node answers requests and runs WebSocket sessions.

pub mod client;
pub mod http;
pub(crate) mod ws;
