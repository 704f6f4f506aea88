//! BIP157 compact block filter messages.

use super::list::{read_list, write_list};
use super::protocol::{MAX_CFCHECKPT_HEADERS, MAX_CFHEADERS_PER_MSG, MAX_CFILTER_DATA_SIZE};
use crate::primitives::encode::write_var_bytes;
use crate::primitives::{BlockHash, Decodable, DecodeError, Encodable, Hash256, Reader};

/// BIP158's basic filter, the only type defined.
pub const FILTER_TYPE_BASIC: u8 = 0;

/// A getcfilters or getcfheaders payload: filters (or their headers) for the blocks from
/// `start_height` to `stop_hash`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CFilterRangeRequest {
    /// Filter type.
    pub filter_type: u8,
    /// Height of the first block wanted.
    pub start_height: u32,
    /// Hash of the last block wanted.
    pub stop_hash: BlockHash,
}

impl Encodable for CFilterRangeRequest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.filter_type);
        out.extend_from_slice(&self.start_height.to_le_bytes());
        out.extend_from_slice(&self.stop_hash.0);
    }
}

impl Decodable for CFilterRangeRequest {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CFilterRangeRequest {
            filter_type: r.u8()?,
            start_height: r.u32_le()?,
            stop_hash: r.hash()?,
        })
    }
}

/// A cfilter payload: one block's filter.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CFilterMessage {
    /// Filter type.
    pub filter_type: u8,
    /// The block filtered.
    pub block_hash: BlockHash,
    /// The serialized filter (at most 256 KiB).
    pub filter: Vec<u8>,
}

impl Encodable for CFilterMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.filter_type);
        out.extend_from_slice(&self.block_hash.0);
        write_var_bytes(out, &self.filter);
    }
}

impl Decodable for CFilterMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let filter_type = r.u8()?;
        let block_hash = r.hash()?;
        let n = r.count(1, MAX_CFILTER_DATA_SIZE as u64)?;
        Ok(CFilterMessage {
            filter_type,
            block_hash,
            filter: r.take(n)?.to_vec(),
        })
    }
}

/// A cfheaders payload: filter hashes for a range ending at `stop_hash`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CFHeadersMessage {
    /// Filter type.
    pub filter_type: u8,
    /// The last block of the range.
    pub stop_hash: BlockHash,
    /// The filter header before the range.
    pub prev_filter_header: Hash256,
    /// Filter hashes, one per block (at most 2000).
    pub filter_hashes: Vec<Hash256>,
}

impl Encodable for CFHeadersMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.filter_type);
        out.extend_from_slice(&self.stop_hash.0);
        out.extend_from_slice(&self.prev_filter_header.0);
        write_list(out, &self.filter_hashes);
    }
}

impl Decodable for CFHeadersMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CFHeadersMessage {
            filter_type: r.u8()?,
            stop_hash: r.hash()?,
            prev_filter_header: r.hash()?,
            filter_hashes: read_list(r, 32, MAX_CFHEADERS_PER_MSG)?,
        })
    }
}

/// A getcfcheckpt payload.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct GetCFCheckptMessage {
    /// Filter type.
    pub filter_type: u8,
    /// The last block of interest.
    pub stop_hash: BlockHash,
}

impl Encodable for GetCFCheckptMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.filter_type);
        out.extend_from_slice(&self.stop_hash.0);
    }
}

impl Decodable for GetCFCheckptMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetCFCheckptMessage {
            filter_type: r.u8()?,
            stop_hash: r.hash()?,
        })
    }
}

/// A cfcheckpt payload: filter headers at every 1000th block up to `stop_hash`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CFCheckptMessage {
    /// Filter type.
    pub filter_type: u8,
    /// The last block of interest.
    pub stop_hash: BlockHash,
    /// Filter headers at heights 1000, 2000, ... (at most 100,000).
    pub filter_headers: Vec<Hash256>,
}

impl Encodable for CFCheckptMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.filter_type);
        out.extend_from_slice(&self.stop_hash.0);
        write_list(out, &self.filter_headers);
    }
}

impl Decodable for CFCheckptMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CFCheckptMessage {
            filter_type: r.u8()?,
            stop_hash: r.hash()?,
            filter_headers: read_list(r, 32, MAX_CFCHECKPT_HEADERS)?,
        })
    }
}
