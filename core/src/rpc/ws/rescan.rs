//! Scans of the main chain for a client's keys: `rescanblocks` (the filter of
//! `loadtxfilter`, over given blocks, answered at once) and the legacy `rescan` (addresses and
//! outpoints from a start block, notified as `recvtx`/`redeemingtx` in steps the transport
//! drives so the node is never held for a whole chain).

use super::filter::{input_payload, output_payloads, TxFilter};
use super::notification::{self as n, BlockDetails};
use crate::address::{Address, Payload};
use crate::params::Params as ChainParams;
use crate::primitives::{Block, BlockHash, OutPoint};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::rpc::view::ChainView;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A stored block, or the database error RPC callers see.
fn block(src: &dyn ChainView, hash: &BlockHash) -> Result<Block, RpcError> {
    src.block(hash)
        .map_err(|e| RpcError::new(code::DATABASE, format!("Database error: {e}")))?
        .ok_or_else(|| block_not_found(hash))
}

fn block_not_found(hash: &BlockHash) -> RpcError {
    RpcError::new(
        code::INVALID_ADDRESS_OR_KEY,
        format!("Failed to fetch block: block {hash} not found"),
    )
}

/// `rescanblocks [hash...]`: for each given block (each the child of the one before), the
/// transactions matching the client's `filter` (which learns the outputs paying it), as
/// btcd's `[{"hash", "transactions": [hex...]}]`, leaving out blocks with none.
pub fn rescan_blocks(
    src: &dyn ChainView,
    filter: Option<&mut TxFilter>,
    p: Params,
) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let hashes: Vec<BlockHash> = p
        .array(0, "blockhashes")?
        .iter()
        .map(|v| {
            let s = v.as_str().unwrap_or_default();
            s.parse()
                .map_err(|_| crate::rpc::params::decode_hex_error(s))
        })
        .collect::<Result<_, _>>()?;
    let filter = filter.ok_or_else(|| {
        RpcError::new(
            code::MISC,
            "Transaction filter must be loaded before rescanning",
        )
    })?;
    let mut found = Vec::new();
    let mut last: Option<BlockHash> = None;
    for hash in hashes {
        let block = block(src, &hash)?;
        if let Some(prev) = last.filter(|prev| block.header.prev_blockhash != *prev) {
            return Err(RpcError::new(
                code::INVALID_PARAMETER,
                format!("Block {hash} is not a child of {prev}"),
            ));
        }
        last = Some(hash);
        let txs: Vec<String> = block
            .txdata
            .iter()
            .filter(|tx| filter.check(tx, src.params()))
            .map(n::tx_hex)
            .collect();
        if !txs.is_empty() {
            found.push(json!({ "hash": hash.to_string(), "transactions": txs }));
        }
    }
    Ok(Value::Array(found))
}

/// A legacy `rescan` in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rescan {
    addresses: BTreeSet<Payload>,
    unspent: BTreeSet<OutPoint>,
    /// The next height to scan.
    next: u32,
    /// The height the scan stops before (btcd's range excludes the end block), or `None` to
    /// scan to the tip.
    end: Option<u32>,
    /// The last block scanned: hash, height, time.
    last: Option<(BlockHash, u32, u32)>,
}

/// What one step of a [`Rescan`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct RescanStep {
    /// `recvtx`/`redeemingtx` notifications, then a `rescanprogress` when more remains.
    pub notifications: Vec<Value>,
    /// Whether the scan is complete.
    pub done: bool,
}

impl Rescan {
    /// Parses `rescan beginblock [addresses] [outpoints] (endblock)`. Addresses that do not
    /// decode are skipped, as btcd only ever compares them to decoded output addresses.
    pub fn start(src: &dyn ChainView, p: Params) -> Result<Rescan, RpcError> {
        p.expect_count(3, 4)?;
        let height_of = |s: &str| -> Result<u32, RpcError> {
            let hash: BlockHash = s
                .parse()
                .map_err(|_| crate::rpc::params::decode_hex_error(s))?;
            src.main_height(&hash).ok_or_else(|| {
                RpcError::new(
                    code::INVALID_ADDRESS_OR_KEY,
                    format!("Error getting block: block {hash} is not in the main chain"),
                )
            })
        };
        let next = height_of(p.str(0, "beginblock")?)?;
        let addresses = p
            .array(1, "addresses")?
            .iter()
            .filter_map(|v| Address::from_str_for(v.as_str()?, src.params()).ok())
            .map(|a| a.payload().clone())
            .collect();
        let unspent = p
            .array(2, "outpoints")?
            .iter()
            .map(|v| {
                let hash = v["hash"].as_str().unwrap_or_default();
                let txid = hash
                    .parse()
                    .map_err(|_| crate::rpc::params::decode_hex_error(hash))?;
                let index = v["index"].as_u64().and_then(|i| u32::try_from(i).ok());
                let index = index.ok_or_else(|| {
                    RpcError::invalid_params("parameter #3 'outpoints' needs an index")
                })?;
                Ok(OutPoint::new(txid, index))
            })
            .collect::<Result<_, RpcError>>()?;
        let end = p.opt_str(3, "endblock")?.map(height_of).transpose()?;
        Ok(Rescan {
            addresses,
            unspent,
            next,
            end,
            last: None,
        })
    }

    /// Whether there is nothing to look for (btcd then skips the scan and reports the tip).
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.unspent.is_empty()
    }

    /// Whether the scan runs to the tip, after which its keys stay watched for new blocks.
    pub fn to_tip(&self) -> bool {
        self.end.is_none()
    }

    /// Scans up to `max_blocks` more main-chain blocks. A block scanned earlier that left the
    /// main chain ends the scan with btcd's "Reorganize" (-20).
    pub fn step(&mut self, src: &dyn ChainView, max_blocks: u32) -> Result<RescanStep, RpcError> {
        let stop = self.end.unwrap_or(src.tip().height.saturating_add(1));
        let mut notifications = Vec::new();
        let until = stop.min(self.next.saturating_add(max_blocks));
        while self.next < until {
            let reorg = || RpcError::new(code::DATABASE, "Reorganize");
            let hash = src.main_hash(self.next).ok_or_else(reorg)?;
            let block = block(src, &hash)?;
            if self
                .last
                .is_some_and(|(prev, _, _)| prev != block.header.prev_blockhash)
            {
                return Err(reorg());
            }
            self.scan_block(&block, self.next, &mut notifications, src.params());
            self.last = Some((hash, self.next, block.header.time));
            self.next += 1;
        }
        let done = self.next >= stop;
        if let (false, Some((hash, height, time))) = (done, self.last) {
            notifications.push(n::rescan_progress(&hash, height, time));
        }
        Ok(RescanStep {
            notifications,
            done,
        })
    }

    /// btcd's `rescanBlock`: per transaction, one `redeemingtx` when it spends a key outpoint
    /// (which is then spent) or from a key address, and one `recvtx` when it pays a key
    /// address (its outputs become key outpoints).
    fn scan_block(
        &mut self,
        block: &Block,
        height: u32,
        out: &mut Vec<Value>,
        params: &ChainParams,
    ) {
        for (index, tx) in block.txdata.iter().enumerate() {
            let details = Some(BlockDetails::of(block, height, index));
            let mut hex = None;
            let mut spends = false;
            for input in &tx.inputs {
                spends |= self.unspent.remove(&input.prevout);
                spends |= input_payload(input).is_some_and(|a| self.addresses.contains(&a));
            }
            if spends {
                out.push(n::redeeming_tx(
                    hex.get_or_insert_with(|| n::tx_hex(tx)),
                    details,
                ));
            }
            let txid = tx.txid();
            let mut pays = false;
            for (i, o) in tx.outputs.iter().enumerate() {
                let payloads = output_payloads(&o.script_pubkey, params);
                if payloads.iter().any(|p| self.addresses.contains(p)) {
                    self.unspent.insert(OutPoint::new(txid, i as u32));
                    pays = true;
                }
            }
            if pays {
                out.push(n::recv_tx(
                    hex.get_or_insert_with(|| n::tx_hex(tx)),
                    details,
                ));
            }
        }
    }

    /// `rescanfinished` for the last block scanned, or the tip when nothing was scanned.
    pub fn finished(&self, src: &dyn ChainView) -> Result<Value, RpcError> {
        let (hash, height, time) = match self.last {
            Some(last) => last,
            None => {
                let height = src.tip().height;
                let hash = src
                    .main_hash(height)
                    .ok_or_else(|| RpcError::new(code::DATABASE, "Database error: no tip"))?;
                let time = src.header(&hash).map_or(0, |h| h.time);
                (hash, height, time)
            }
        };
        Ok(n::rescan_finished(&hash, height, time))
    }

    /// The outpoints and addresses to keep watching after a scan to the tip.
    pub fn watches(&self) -> (Vec<OutPoint>, Vec<Payload>) {
        (
            self.unspent.iter().copied().collect(),
            self.addresses.iter().cloned().collect(),
        )
    }
}
