//! The merkleblock message (BIP37): a header with a partial merkle tree. Decoded only; rbtcd
//! does not serve filtered blocks.

use super::list::{read_list, write_list};
use super::protocol::{MAX_FLAGS_PER_MERKLE_BLOCK, MAX_TX_PER_BLOCK};
use crate::primitives::encode::write_var_bytes;
use crate::primitives::{BlockHeader, Decodable, DecodeError, Encodable, Hash256, Reader};

/// A merkleblock payload.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct MerkleBlockMessage {
    /// The block's header.
    pub header: BlockHeader,
    /// Transactions in the full block.
    pub total_transactions: u32,
    /// Hashes of the partial merkle tree, depth first.
    pub hashes: Vec<Hash256>,
    /// Traversal flag bits, least significant first.
    pub flags: Vec<u8>,
}

impl Encodable for MerkleBlockMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        out.extend_from_slice(&self.total_transactions.to_le_bytes());
        write_list(out, &self.hashes);
        write_var_bytes(out, &self.flags);
    }
}

impl Decodable for MerkleBlockMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode_from(r)?;
        let total_transactions = r.u32_le()?;
        let hashes = read_list(r, 32, MAX_TX_PER_BLOCK)?;
        let n = r.count(1, MAX_FLAGS_PER_MERKLE_BLOCK as u64)?;
        Ok(MerkleBlockMessage {
            header,
            total_transactions,
            hashes,
            flags: r.take(n)?.to_vec(),
        })
    }
}
