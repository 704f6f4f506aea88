//! What the chain stores: block index entries with their status, coins and undo data, with the
//! byte encodings every [`ChainStore`](super::store::ChainStore) backend uses for them.

use crate::mempool::Coin;
use crate::primitives::encode::write_var_bytes;
use crate::primitives::{
    BlockHash, BlockHeader, Decodable, DecodeError, Encodable, Reader, TxOut, Work, U256,
};

/// Validation state of a block in the index, as bit flags.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Status(pub u8);

impl Status {
    /// The header passed every contextual header rule.
    pub const HEADER_VALID: Status = Status(1);
    /// The full block (transactions) is in the store.
    pub const DATA_STORED: Status = Status(1 << 1);
    /// The block was connected once: every block rule held.
    pub const VALID: Status = Status(1 << 2);
    /// The block itself broke a rule.
    pub const INVALID: Status = Status(1 << 3);
    /// An ancestor broke a rule, so this block can never be on the best chain.
    pub const INVALID_ANCESTOR: Status = Status(1 << 4);

    /// True when every flag of `other` is set.
    pub fn contains(self, other: Status) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags of `self` and `other`.
    pub fn with(self, other: Status) -> Status {
        Status(self.0 | other.0)
    }

    /// The flags of `self` without those of `other`.
    pub fn without(self, other: Status) -> Status {
        Status(self.0 & !other.0)
    }

    /// True when the block or an ancestor is known invalid.
    pub fn is_invalid(self) -> bool {
        self.0 & (Self::INVALID.0 | Self::INVALID_ANCESTOR.0) != 0
    }
}

/// One header the node knows, with where it sits and how much work leads to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IndexEntry {
    /// The block hash (the store's key; not part of the encoding).
    pub hash: BlockHash,
    /// The header.
    pub header: BlockHeader,
    /// Height above genesis.
    pub height: u32,
    /// Total work of the chain ending with this block.
    pub chain_work: Work,
    /// Validation state.
    pub status: Status,
}

impl Encodable for IndexEntry {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.chain_work.0.to_le_bytes());
        out.push(self.status.0);
    }
}

impl Decodable for IndexEntry {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode_from(r)?;
        Ok(IndexEntry {
            hash: header.block_hash(),
            header,
            height: r.u32_le()?,
            chain_work: Work(U256::from_le_bytes(r.array()?)),
            status: Status(r.u8()?),
        })
    }
}

/// Heights are stored shifted left by one to make room for the coinbase flag.
const MAX_CODED_HEIGHT: u32 = u32::MAX >> 1;

impl Encodable for Coin {
    fn encode_to(&self, out: &mut Vec<u8>) {
        debug_assert!(self.height <= MAX_CODED_HEIGHT);
        let code = (self.height << 1) | self.is_coinbase as u32;
        out.extend_from_slice(&code.to_le_bytes());
        out.extend_from_slice(&self.output.value.to_le_bytes());
        write_var_bytes(out, &self.output.script_pubkey);
    }
}

impl Decodable for Coin {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = r.u32_le()?;
        Ok(Coin {
            height: code >> 1,
            is_coinbase: code & 1 == 1,
            output: TxOut {
                value: r.i64_le()?,
                script_pubkey: r.var_bytes()?,
            },
        })
    }
}

/// What disconnecting a block needs to restore: the coins its transactions spent, in the order
/// of their inputs (coinbase excluded).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BlockUndo {
    /// Spent coins, one per non-coinbase input, in block order.
    pub spent: Vec<Coin>,
}

/// The smallest encoded coin: code, value and an empty script's length.
const MIN_CODED_COIN: usize = 4 + 8 + 1;

impl Encodable for BlockUndo {
    fn encode_to(&self, out: &mut Vec<u8>) {
        crate::primitives::encode::write_compact_size(out, self.spent.len() as u64);
        for c in &self.spent {
            c.encode_to(out);
        }
    }
}

impl Decodable for BlockUndo {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.count(MIN_CODED_COIN, u32::MAX as u64)?;
        let spent = (0..n)
            .map(|_| Coin::decode_from(r))
            .collect::<Result<_, _>>()?;
        Ok(BlockUndo { spent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Network, Params};

    #[test]
    fn records_round_trip() {
        let p = Params::new(Network::Mainnet);
        let e = IndexEntry {
            hash: p.genesis_hash,
            header: p.genesis.header,
            height: 0,
            chain_work: p.genesis.header.work(),
            status: Status::HEADER_VALID.with(Status::VALID),
        };
        assert_eq!(IndexEntry::decode(&e.encode()).unwrap(), e);
        let undo = BlockUndo {
            spent: vec![Coin {
                output: TxOut {
                    value: 5_000_000_000,
                    script_pubkey: vec![0x51],
                },
                height: 1_000_000,
                is_coinbase: true,
            }],
        };
        assert_eq!(BlockUndo::decode(&undo.encode()).unwrap(), undo);
        assert!(BlockUndo::decode(&[0xff, 1, 2]).is_err());
    }
}
