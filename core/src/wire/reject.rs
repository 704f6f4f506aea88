//! The reject message (BIP61): decoded for logging; btcd no longer acts on it.

use super::text::text_from_wire;
use crate::primitives::encode::{write_var_bytes, MAX_COMPACT_SIZE};
use crate::primitives::{Decodable, DecodeError, Encodable, Hash256, Reader};
use std::fmt;

/// Why a peer rejected something, as BIP61 numbers it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RejectCode(pub u8);

impl RejectCode {
    /// Could not be parsed.
    pub const MALFORMED: RejectCode = RejectCode(0x01);
    /// Breaks consensus rules.
    pub const INVALID: RejectCode = RejectCode(0x10);
    /// Obsolete version.
    pub const OBSOLETE: RejectCode = RejectCode(0x11);
    /// Already known.
    pub const DUPLICATE: RejectCode = RejectCode(0x12);
    /// Breaks policy.
    pub const NONSTANDARD: RejectCode = RejectCode(0x40);
    /// An output is dust.
    pub const DUST: RejectCode = RejectCode(0x41);
    /// Fee too low.
    pub const INSUFFICIENT_FEE: RejectCode = RejectCode(0x42);
    /// Conflicts with a checkpoint.
    pub const CHECKPOINT: RejectCode = RejectCode(0x43);
}

/// Names as btcd prints them.
impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            RejectCode::MALFORMED => "REJECT_MALFORMED",
            RejectCode::INVALID => "REJECT_INVALID",
            RejectCode::OBSOLETE => "REJECT_OBSOLETE",
            RejectCode::DUPLICATE => "REJECT_DUPLICATE",
            RejectCode::NONSTANDARD => "REJECT_NONSTANDARD",
            RejectCode::DUST => "REJECT_DUST",
            RejectCode::INSUFFICIENT_FEE => "REJECT_INSUFFICIENTFEE",
            RejectCode::CHECKPOINT => "REJECT_CHECKPOINT",
            RejectCode(n) => return write!(f, "Unknown RejectCode ({n})"),
        };
        f.write_str(name)
    }
}

impl fmt::Debug for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A reject payload. The hash is on the wire only when `message` is `block` or `tx`; for other
/// commands it is zero.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RejectMessage {
    /// The command of the rejected message.
    pub message: String,
    /// Why.
    pub code: RejectCode,
    /// Human-readable reason.
    pub reason: String,
    /// The rejected block or transaction.
    pub hash: Hash256,
}

impl RejectMessage {
    fn has_hash(&self) -> bool {
        self.message == "block" || self.message == "tx"
    }
}

/// Reads a CompactSize-prefixed string.
fn read_var_string(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let n = r.count(1, MAX_COMPACT_SIZE)?;
    Ok(text_from_wire(r.take(n)?))
}

impl Encodable for RejectMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write_var_bytes(out, self.message.as_bytes());
        out.push(self.code.0);
        write_var_bytes(out, self.reason.as_bytes());
        if self.has_hash() {
            out.extend_from_slice(&self.hash.0);
        }
    }
}

impl Decodable for RejectMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut msg = RejectMessage {
            message: read_var_string(r)?,
            code: RejectCode(r.u8()?),
            reason: read_var_string(r)?,
            hash: Hash256::ZERO,
        };
        if msg.has_hash() {
            msg.hash = r.hash()?;
        }
        Ok(msg)
    }
}
