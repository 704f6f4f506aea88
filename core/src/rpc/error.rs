//! JSON-RPC errors with btcd's codes.

use serde_json::{json, Value};
use std::fmt;

/// An error answered to an RPC caller: btcd's numeric code and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// btcd's (and Bitcoin Core's) error code.
    pub code: i32,
    /// Human-readable reason.
    pub message: String,
}

/// btcd's error codes (`btcjson/jsonrpcerr.go`).
pub mod code {
    /// The request body is not valid JSON.
    pub const PARSE: i32 = -32700;
    /// The JSON is not a valid request object.
    pub const INVALID_REQUEST: i32 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Wrong number or type of parameters.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal error (btcd also uses it for "limited user not authorized").
    pub const INTERNAL: i32 = -32603;
    /// Miscellaneous error (also "no wallet", "unimplemented", out of range).
    pub const MISC: i32 = -1;
    /// Unexpected type.
    pub const TYPE: i32 = -3;
    /// Invalid address or key; also block/tx not found.
    pub const INVALID_ADDRESS_OR_KEY: i32 = -5;
    /// btcd's ErrRPCDifficulty (same number): `generate` on a network it does not support.
    pub const DIFFICULTY: i32 = -5;
    /// Invalid, missing or duplicate parameter.
    pub const INVALID_PARAMETER: i32 = -8;
    /// Database error.
    pub const DATABASE: i32 = -20;
    /// Error parsing or validating structure in raw format.
    pub const DESERIALIZATION: i32 = -22;
    /// General error during transaction or block submission.
    pub const VERIFY: i32 = -25;
    /// Transaction or block was rejected by network rules.
    pub const VERIFY_REJECTED: i32 = -26;
    /// Transaction already in chain.
    pub const VERIFY_ALREADY_IN_CHAIN: i32 = -27;
    /// Client still warming up.
    pub const IN_WARMUP: i32 = -28;
    /// Node is already added.
    pub const CLIENT_NODE_ALREADY_ADDED: i32 = -23;
    /// No peers connected (btcd's `ErrRPCClientNotConnected`).
    pub const CLIENT_NOT_CONNECTED: i32 = -9;
    /// The chain is still downloading (btcd's `ErrRPCClientInInitialDownload`).
    pub const CLIENT_IN_INITIAL_DOWNLOAD: i32 = -10;
    /// Node has not been added before.
    pub const CLIENT_NODE_NOT_ADDED: i32 = -24;
    /// Node to disconnect not found in connected nodes.
    pub const CLIENT_NODE_NOT_CONNECTED: i32 = -29;
    /// Invalid IP/subnet.
    pub const CLIENT_INVALID_IP_OR_SUBNET: i32 = -30;
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// -32700, the body is not JSON.
    pub fn parse(detail: impl fmt::Display) -> Self {
        Self::new(code::PARSE, format!("Failed to parse request: {detail}"))
    }

    /// -32600 with btcd's wording.
    pub fn invalid_request(detail: &str) -> Self {
        Self::new(code::INVALID_REQUEST, format!("Invalid request: {detail}"))
    }

    /// -32601.
    pub fn method_not_found() -> Self {
        Self::new(code::METHOD_NOT_FOUND, "Method not found")
    }

    /// -32602 with a reason naming the parameter.
    pub fn invalid_params(detail: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, detail)
    }

    /// -1 "no wallet": btcd's answer to the wallet commands it recognises.
    pub fn no_wallet() -> Self {
        Self::new(
            code::MISC,
            "This implementation does not implement wallet commands",
        )
    }

    /// -1 "unimplemented": commands btcd recognises but does not implement.
    pub fn unimplemented() -> Self {
        Self::new(code::MISC, "Command unimplemented")
    }

    /// A limited user calling an admin command (btcd's wording): -32603 over HTTP, and
    /// -32602 over a WebSocket, as btcd's two code paths answer.
    pub fn limited_user(websocket: bool) -> Self {
        let code = if websocket {
            code::INVALID_PARAMS
        } else {
            code::INTERNAL
        };
        Self::new(code, "limited user not authorized for this method")
    }

    /// The JSON object `{"code": .., "message": ..}`.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message })
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}
