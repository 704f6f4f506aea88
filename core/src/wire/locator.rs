//! The getblocks/getheaders request: a block locator and a stop hash.

use super::list::{read_list, write_list};
use super::protocol::MAX_BLOCK_LOCATORS_PER_MSG;
use crate::primitives::{BlockHash, Decodable, DecodeError, Encodable, Reader};

/// A getblocks or getheaders payload: "send what follows the first of these you know, up to
/// `stop_hash` (zero for as many as allowed)".
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BlockLocatorMessage {
    /// The sender's protocol version.
    pub version: u32,
    /// Hashes from the sender's tip back towards genesis, densest near the tip (at most 500).
    pub locator: Vec<BlockHash>,
    /// Where to stop; zero means no stop.
    pub stop_hash: BlockHash,
}

impl Encodable for BlockLocatorMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        write_list(out, &self.locator);
        out.extend_from_slice(&self.stop_hash.0);
    }
}

impl Decodable for BlockLocatorMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(BlockLocatorMessage {
            version: r.u32_le()?,
            locator: read_list(r, 32, MAX_BLOCK_LOCATORS_PER_MSG)?,
            stop_hash: r.hash()?,
        })
    }
}
