//! Who calls and how: the caller's rights and the transport a request arrived on.

/// Which users may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rights {
    /// `rpcuser`: every method.
    Admin,
    /// `rpclimituser`: btcd's `rpcLimited` set only.
    Limited,
}

/// Where a request arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// HTTP POST `/`.
    Http,
    /// WebSocket `/ws`.
    WebSocket,
}
