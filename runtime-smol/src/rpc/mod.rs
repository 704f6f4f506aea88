//! The JSON-RPC server: the HTTP transport, the WebSocket side, notification delivery, and
//! the service that carries calls to the node task.

pub mod http;
pub(crate) mod notify;
pub(crate) mod service;
pub(crate) mod ws;
