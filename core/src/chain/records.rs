//! What the chain stores: block index entries with their status, coins and undo data, with the
//! byte encodings every [`ChainStore`](super::store::ChainStore) backend uses for them.

use super::block_files::FilePos;
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
    /// Where the block's bytes are in the block files, once stored.
    pub data: Option<FilePos>,
    /// Where its undo data is in the undo files, once it was connected.
    pub undo: Option<FilePos>,
}

impl IndexEntry {
    /// A header's entry: not stored, no undo data.
    pub fn header_only(
        hash: BlockHash,
        header: BlockHeader,
        height: u32,
        chain_work: Work,
        status: Status,
    ) -> IndexEntry {
        IndexEntry {
            hash,
            header,
            height,
            chain_work,
            status,
            data: None,
            undo: None,
        }
    }
}

/// Flag bits saying which file positions follow an entry's status.
const HAS_DATA: u8 = 1;
const HAS_UNDO: u8 = 2;

impl Encodable for IndexEntry {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.chain_work.0.to_le_bytes());
        out.push(self.status.0);
        let flags = self.data.map_or(0, |_| HAS_DATA) | self.undo.map_or(0, |_| HAS_UNDO);
        out.push(flags);
        for pos in self.data.iter().chain(&self.undo) {
            pos.encode_to(out);
        }
    }
}

impl Decodable for IndexEntry {
    /// Reads both layouts: schema 1 (blocks inside the database) ended at the status byte.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode_from(r)?;
        let mut e = IndexEntry::header_only(
            header.block_hash(),
            header,
            r.u32_le()?,
            Work(U256::from_le_bytes(r.array()?)),
            Status(r.u8()?),
        );
        if r.remaining() > 0 {
            let flags = r.u8()?;
            if flags & HAS_DATA != 0 {
                e.data = Some(FilePos::decode_from(r)?);
            }
            if flags & HAS_UNDO != 0 {
                e.undo = Some(FilePos::decode_from(r)?);
            }
        }
        Ok(e)
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
        let mut e = IndexEntry::header_only(
            p.genesis_hash,
            p.genesis.header,
            0,
            p.genesis.header.work(),
            Status::HEADER_VALID.with(Status::VALID),
        );
        assert_eq!(IndexEntry::decode(&e.encode()).unwrap(), e);
        // Schema 1 entries end at the status byte.
        let old = e.encode();
        assert_eq!(IndexEntry::decode(&old[..old.len() - 1]).unwrap(), e);
        e.data = Some(FilePos {
            file: 1,
            offset: 8,
            len: 285,
        });
        assert_eq!(IndexEntry::decode(&e.encode()).unwrap(), e);
        e.undo = Some(FilePos {
            file: 0,
            offset: 100,
            len: 5,
        });
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
