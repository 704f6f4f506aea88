//! Block headers and blocks.

use super::encode::{write_compact_size, Decodable, DecodeError, Encodable, Reader};
use super::hash::{sha256d, BlockHash, Hash256};
use super::merkle::{merkle_root, witness_merkle_root};
use super::target::{compact_to_target, Work, U256};
use super::transaction::Transaction;

/// Serialized size of a block header.
pub const HEADER_SIZE: usize = 80;
/// The most bytes a block may have on the wire (BIP141 weight limit / witness scale).
pub const MAX_BLOCK_SERIALIZED_SIZE: usize = 4_000_000;
/// The smallest serialized transaction (version, two counts, one empty output, locktime).
const MIN_TX_BYTES: usize = 10;

/// An 80-byte block header.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BlockHeader {
    /// Block version; bits signal soft-fork deployments.
    pub version: i32,
    /// Hash of the previous block.
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's transaction ids.
    pub merkle_root: Hash256,
    /// Unix time the miner claims.
    pub time: u32,
    /// The proof-of-work target in compact form.
    pub bits: u32,
    /// Miner's nonce.
    pub nonce: u32,
}

impl BlockHeader {
    /// The 80 serialized bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..4].copy_from_slice(&self.version.to_le_bytes());
        b[4..36].copy_from_slice(&self.prev_blockhash.0);
        b[36..68].copy_from_slice(&self.merkle_root.0);
        b[68..72].copy_from_slice(&self.time.to_le_bytes());
        b[72..76].copy_from_slice(&self.bits.to_le_bytes());
        b[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        b
    }

    /// The block hash.
    pub fn block_hash(&self) -> BlockHash {
        Hash256(sha256d(&self.to_bytes()))
    }

    /// The target this header commits to, or `None` when `bits` is negative, zero or overflows.
    pub fn target(&self) -> Option<U256> {
        let (t, negative, overflow) = compact_to_target(self.bits);
        (!negative && !overflow && !t.is_zero()).then_some(t)
    }

    /// True when the hash meets the header's own target and the target is within `pow_limit`.
    pub fn check_proof_of_work(&self, pow_limit: &U256) -> bool {
        match self.target() {
            Some(t) if t <= *pow_limit => U256::from_le_bytes(self.block_hash().0) <= t,
            _ => false,
        }
    }

    /// Expected number of hashes to find this header (its contribution to chain work).
    pub fn work(&self) -> Work {
        Work::from_bits(self.bits)
    }
}

impl Encodable for BlockHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decodable for BlockHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(BlockHeader {
            version: r.i32_le()?,
            prev_blockhash: r.hash()?,
            merkle_root: r.hash()?,
            time: r.u32_le()?,
            bits: r.u32_le()?,
            nonce: r.u32_le()?,
        })
    }
}

/// A block: header and transactions.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// Transactions, coinbase first.
    pub txdata: Vec<Transaction>,
}

impl Block {
    /// The block hash.
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// The merkle root of the transactions' txids and whether the tree is mutated
    /// (CVE-2012-2459: a duplicated last pair yields the same root).
    pub fn compute_merkle_root(&self) -> (Hash256, bool) {
        let ids: Vec<Hash256> = self.txdata.iter().map(|t| t.txid()).collect();
        merkle_root(&ids)
    }

    /// The BIP141 witness merkle root (coinbase wtxid taken as zero).
    pub fn compute_witness_merkle_root(&self) -> Hash256 {
        let ids: Vec<Hash256> = self.txdata.iter().map(|t| t.wtxid()).collect();
        witness_merkle_root(&ids)
    }

    /// Size in bytes without witness data.
    pub fn base_size(&self) -> usize {
        HEADER_SIZE
            + super::encode::compact_size_len(self.txdata.len() as u64)
            + self.txdata.iter().map(|t| t.base_size()).sum::<usize>()
    }

    /// Size in bytes of the full serialization.
    pub fn total_size(&self) -> usize {
        HEADER_SIZE
            + super::encode::compact_size_len(self.txdata.len() as u64)
            + self.txdata.iter().map(|t| t.total_size()).sum::<usize>()
    }

    /// BIP141 weight.
    pub fn weight(&self) -> usize {
        self.base_size() * 3 + self.total_size()
    }
}

impl Encodable for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        write_compact_size(out, self.txdata.len() as u64);
        for tx in &self.txdata {
            tx.encode_to(out);
        }
    }
}

impl Decodable for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode_from(r)?;
        let n = r.count(
            MIN_TX_BYTES,
            (MAX_BLOCK_SERIALIZED_SIZE / MIN_TX_BYTES) as u64,
        )?;
        let mut txdata = Vec::with_capacity(n);
        for _ in 0..n {
            txdata.push(Transaction::decode_from(r)?);
        }
        Ok(Block { header, txdata })
    }
}
