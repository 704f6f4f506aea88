//! Inventory vectors: what inv, getdata and notfound messages talk about.

use crate::primitives::{Decodable, DecodeError, Encodable, Hash256, Reader};
use std::fmt;

/// The kind of object an inventory vector names. Kept as the raw number so that types we do
/// not know still decode (btcd does the same and ignores them later).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvType(pub u32);

impl InvType {
    /// Set on a getdata type to ask for the witness serialization (BIP144).
    pub const WITNESS_FLAG: u32 = 1 << 30;
    /// Any data of no particular type.
    pub const ERROR: InvType = InvType(0);
    /// A transaction, by txid.
    pub const TX: InvType = InvType(1);
    /// A block.
    pub const BLOCK: InvType = InvType(2);
    /// A merkle block (BIP37).
    pub const FILTERED_BLOCK: InvType = InvType(3);
    /// A transaction, by wtxid (BIP339; announced only to peers that sent wtxidrelay).
    pub const WTX: InvType = InvType(5);
    /// A transaction with witness data.
    pub const WITNESS_TX: InvType = InvType(1 | Self::WITNESS_FLAG);
    /// A block with witness data.
    pub const WITNESS_BLOCK: InvType = InvType(2 | Self::WITNESS_FLAG);
    /// A merkle block with witness data.
    pub const FILTERED_WITNESS_BLOCK: InvType = InvType(3 | Self::WITNESS_FLAG);

    /// True when the witness flag is set.
    pub fn has_witness(self) -> bool {
        self.0 & Self::WITNESS_FLAG != 0
    }

    /// The type with the witness flag cleared.
    pub fn base(self) -> InvType {
        InvType(self.0 & !Self::WITNESS_FLAG)
    }
}

/// Names as btcd prints them.
impl fmt::Display for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            InvType::ERROR => "ERROR",
            InvType::TX => "MSG_TX",
            InvType::BLOCK => "MSG_BLOCK",
            InvType::FILTERED_BLOCK => "MSG_FILTERED_BLOCK",
            InvType::WTX => "MSG_WTX",
            InvType::WITNESS_TX => "MSG_WITNESS_TX",
            InvType::WITNESS_BLOCK => "MSG_WITNESS_BLOCK",
            InvType::FILTERED_WITNESS_BLOCK => "MSG_FILTERED_WITNESS_BLOCK",
            InvType(n) => return write!(f, "Unknown InvType ({n})"),
        };
        f.write_str(name)
    }
}

impl fmt::Debug for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One inventory vector: a type and a hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Inventory {
    /// What kind of object.
    pub inv_type: InvType,
    /// Its hash (txid, wtxid or block hash).
    pub hash: Hash256,
}

impl Encodable for Inventory {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.inv_type.0.to_le_bytes());
        out.extend_from_slice(&self.hash.0);
    }
}

impl Decodable for Inventory {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Inventory {
            inv_type: InvType(r.u32_le()?),
            hash: r.hash()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witness_flag_is_bit_30() {
        assert_eq!(InvType::WITNESS_BLOCK.0, 0x4000_0002);
        assert!(InvType::WITNESS_TX.has_witness());
        assert_eq!(InvType::WITNESS_TX.base(), InvType::TX);
        assert_eq!(InvType(77).to_string(), "Unknown InvType (77)");
        assert_eq!(
            InvType::FILTERED_WITNESS_BLOCK.to_string(),
            "MSG_FILTERED_WITNESS_BLOCK"
        );
    }
}
