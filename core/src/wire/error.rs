//! Why a frame or payload from a peer was rejected.
//!
//! Every variant says what was wrong, so the node can choose a ban score and a log line.

use crate::primitives::DecodeError;
use std::fmt;

/// A framing or message error. The decoder skips the offending frame and carries on, so one
/// error never leaves the stream misaligned; whether to keep talking is the node's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The frame starts with another network's magic.
    BadMagic {
        /// Our network's magic.
        expected: [u8; 4],
        /// What the frame carried.
        got: [u8; 4],
    },
    /// The command field is not UTF-8 once its NUL padding is removed.
    InvalidCommand([u8; 12]),
    /// The header claims a payload longer than the command (or any message) may have.
    PayloadTooLarge {
        /// The command named in the header.
        command: String,
        /// The length the header claims.
        length: u32,
        /// The most this command may carry.
        max: u32,
    },
    /// The payload's double-SHA256 does not start with the header's checksum.
    BadChecksum {
        /// The command named in the header.
        command: String,
        /// The checksum in the header.
        expected: [u8; 4],
        /// The checksum of the payload received.
        actual: [u8; 4],
    },
    /// A frame of a command this node does not know, larger than it keeps
    /// ([`MAX_UNKNOWN_PAYLOAD`](crate::wire::framing::MAX_UNKNOWN_PAYLOAD)): its payload is
    /// discarded as it arrives, as btcd discards unknown messages. Not misbehaviour.
    UnknownDiscarded {
        /// The command named in the header.
        command: String,
        /// The length the header claims.
        length: u32,
    },
    /// The payload of a known command does not parse.
    Malformed {
        /// The command whose payload failed.
        command: &'static str,
        /// What was wrong.
        reason: PayloadError,
    },
}

/// Why a known command's payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// Bytes were short, a count too large, bytes left over, and the like.
    Decode(DecodeError),
    /// A version message's user agent is longer than 256 bytes.
    UserAgentTooLong(usize),
    /// A headers message's entry claims transactions (it must carry a zero count).
    HeaderWithTransactions(u64),
    /// An addrv2 entry's address length does not match its network (or exceeds 512 bytes).
    AddrV2Size {
        /// The BIP155 network id.
        network: u8,
        /// The length the entry claims.
        size: u64,
    },
}

impl From<DecodeError> for PayloadError {
    fn from(e: DecodeError) -> Self {
        PayloadError::Decode(e)
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::Decode(e) => e.fmt(f),
            PayloadError::UserAgentTooLong(n) => write!(
                f,
                "user agent too long [len {n}, max {}]",
                super::protocol::MAX_USER_AGENT_LEN
            ),
            PayloadError::HeaderWithTransactions(n) => {
                write!(f, "block header in headers message claims {n} transactions")
            }
            PayloadError::AddrV2Size { network, size } => {
                write!(
                    f,
                    "addrv2 address of {size} bytes is invalid for network id {network}"
                )
            }
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::BadMagic { expected, got } => write!(
                f,
                "message from other network (magic {:08x}, expected {:08x})",
                u32::from_le_bytes(*got),
                u32::from_le_bytes(*expected)
            ),
            WireError::InvalidCommand(c) => write!(f, "invalid command {c:?}"),
            WireError::PayloadTooLarge {
                command,
                length,
                max,
            } => write!(
                f,
                "payload exceeds max length: header indicates {length} bytes, \
                 max for [{command}] is {max}"
            ),
            WireError::BadChecksum {
                command,
                expected,
                actual,
            } => write!(
                f,
                "payload checksum failed for [{command}]: header {expected:02x?}, actual {actual:02x?}"
            ),
            WireError::UnknownDiscarded { command, length } => {
                write!(f, "unknown command [{command}] of {length} bytes discarded")
            }
            WireError::Malformed { command, reason } => {
                write!(f, "malformed [{command}] payload: {reason}")
            }
        }
    }
}

impl WireError {
    /// True when the frame breaks a hard protocol limit: a payload longer than its command
    /// allows, or more entries than a list may hold. btcd and Core disconnect at once for these
    /// (they cannot come from an honest peer), where other decoding errors only add ban score.
    pub fn exceeds_limit(&self) -> bool {
        matches!(
            self,
            WireError::PayloadTooLarge { .. }
                | WireError::Malformed {
                    reason: PayloadError::Decode(DecodeError::CountTooLarge { .. }),
                    ..
                }
        )
    }
}

impl std::error::Error for WireError {}
impl std::error::Error for PayloadError {}
