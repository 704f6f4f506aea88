//! Block templates (btcd's `NewBlockTemplate`): a block on the current tip paying the subsidy
//! and fees to a mining address, with mempool transactions chosen by [`select`].

use super::coinbase::{coinbase_script, coinbase_tx};
use super::job::{InvalidTarget, MiningJob};
use super::select::{select, Budget};
use super::work::MinerWork;
use crate::address::Address;
use crate::chain::block_rules::add_witness_commitment;
use crate::chain::connect::MAX_BLOCK_SIGOPS_COST;
use crate::chain::difficulty::required_bits;
use crate::chain::tx_rules::is_final;
use crate::chain::{Chain, ChainStore};
use crate::mempool::Entry;
use crate::primitives::{Block, BlockHash, BlockHeader, Transaction, TxOut};
use crate::rng::Rng;
use crate::script::sigops::legacy_tx_sigops;

/// Header version of generated blocks: the BIP9 version-bits prefix with no deployment
/// signalled (every deployment this node knows is buried).
pub const BLOCK_VERSION: i32 = 0x2000_0000;
/// Bytes a header and the largest transaction count take, reserved before the coinbase (btcd's
/// `blockHeaderOverhead`).
const HEADER_OVERHEAD: usize = 80 + 9;
/// Weight units per non-witness byte.
const WITNESS_SCALE: usize = 4;
/// A template older than this is rebuilt when the mempool changed (btcd's cpuminer).
pub const REFRESH_AFTER_SECS: u64 = 60;
/// How often a template being mined gets the current time (btcd's `hashUpdateSecs`).
pub const TIME_UPDATE_SECS: u64 = 15;

/// A block ready to mine: everything but the nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    /// The block, with nonce 0.
    pub block: Block,
    /// Its height.
    pub height: u32,
    /// Fees of its transactions, paid to the coinbase with the subsidy.
    pub fees: i64,
    /// Its sigop cost, the coinbase's included.
    pub sigop_cost: u32,
    /// Each transaction's fee, in block order (the coinbase's is minus the total, as btcd).
    pub tx_fees: Vec<i64>,
    /// Each transaction's sigop cost, in block order.
    pub tx_sigop_costs: Vec<u32>,
    /// Unix time it was made (for [`BlockTemplate::needs_refresh`]).
    pub created: u64,
}

/// One of the mining addresses, chosen at random for each template as btcd does (spreading
/// rewards over the addresses); `None` when there are none.
pub fn choose_mining_address<'a>(addrs: &'a [Address], rng: &mut Rng) -> Option<&'a Address> {
    (!addrs.is_empty()).then(|| &addrs[rng.index(addrs.len())])
}

/// Builds a template on `chain`'s tip at unix time `now`, paying to `pay_to`, with
/// transactions from `pool` (mempool entries) under `max_weight` (`blockmaxweight`).
pub fn new_block_template<'a, S: ChainStore>(
    chain: &Chain<S>,
    pool: impl IntoIterator<Item = &'a Entry>,
    pay_to: &Address,
    max_weight: usize,
    now: u64,
) -> BlockTemplate {
    new_block_template_paying(chain, pool, pay_to.script_pubkey(), max_weight, now)
}

/// [`new_block_template`] with the coinbase paying to `script_pubkey` (getblocktemplate's
/// coinbasevalue mode needs no address: the caller writes its own coinbase).
pub fn new_block_template_paying<'a, S: ChainStore>(
    chain: &Chain<S>,
    pool: impl IntoIterator<Item = &'a Entry>,
    script_pubkey: Vec<u8>,
    max_weight: usize,
    now: u64,
) -> BlockTemplate {
    let params = chain.params();
    let tip = chain.tip();
    let height = tip.height + 1;
    let mtp = chain.index().median_time_past(&tip.hash);
    let time = u32::try_from(now).unwrap_or(u32::MAX).max(mtp + 1);
    // BIP113: once CSV is active, lock times are judged against the parent's median time.
    let cutoff = if height >= params.csv_height {
        mtp
    } else {
        time
    };

    let mut coinbase = coinbase_tx(height, 0, params.subsidy(height), script_pubkey);
    let coinbase_sigops = legacy_tx_sigops(&coinbase) * WITNESS_SCALE as u32;
    let budget = Budget {
        max_weight,
        max_sigop_cost: MAX_BLOCK_SIGOPS_COST,
        weight: HEADER_OVERHEAD * WITNESS_SCALE + coinbase.weight(),
        sigop_cost: coinbase_sigops,
        commitment_weight: commitment_weight(&coinbase),
        segwit: height >= params.segwit_height,
    };
    let chosen = select(pool, &budget, |tx| is_final(tx, height, cutoff));
    coinbase.outputs[0].value += chosen.fees;
    let mut block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            prev_blockhash: tip.hash,
            merkle_root: Default::default(),
            time,
            bits: required_bits(chain.index(), tip, time, params),
            nonce: 0,
        },
        txdata: std::iter::once(coinbase)
            .chain(chosen.entries.iter().map(|e| Transaction::clone(&e.tx)))
            .collect(),
    };
    if chosen.witness {
        add_witness_commitment(&mut block);
    }
    block.header.merkle_root = block.compute_merkle_root().0;
    let tx_fees = std::iter::once(-chosen.fees)
        .chain(chosen.entries.iter().map(|e| e.fee))
        .collect();
    let tx_sigop_costs = std::iter::once(coinbase_sigops)
        .chain(chosen.entries.iter().map(|e| e.sigop_cost))
        .collect();
    BlockTemplate {
        block,
        height,
        fees: chosen.fees,
        sigop_cost: chosen.sigop_cost,
        tx_fees,
        tx_sigop_costs,
        created: now,
    }
}

/// Weight a witness commitment adds to `coinbase`: its reserved-value witness and output.
fn commitment_weight(coinbase: &Transaction) -> usize {
    let mut with = coinbase.clone();
    with.inputs[0].witness = vec![vec![0; 32]];
    with.outputs.push(TxOut {
        value: 0,
        script_pubkey: vec![0; 38],
    });
    with.weight() - coinbase.weight()
}

impl BlockTemplate {
    /// The mining job for this template's header.
    pub fn job(&self, id: u64) -> Result<MiningJob, InvalidTarget> {
        MiningJob::new(id, &self.block.header)
    }

    /// Work for the miner threads on this template, `threads` of them, extra nonces from
    /// `first_extra_nonce`.
    pub fn miner_work(
        &self,
        id: u64,
        threads: u32,
        first_extra_nonce: u64,
    ) -> Result<MinerWork, InvalidTarget> {
        Ok(MinerWork::new(
            self.job(id)?,
            &self.block.txdata,
            self.height,
            threads,
            first_extra_nonce,
        ))
    }

    /// Moves the template's time to `now` (never to or below the parent's median time past)
    /// and sets the difficulty the chain requires at that time (btcd's `UpdateBlockTime`).
    pub fn update_time<S: ChainStore>(&mut self, chain: &Chain<S>, now: u64) {
        let Some(parent) = chain.index().get(&self.block.header.prev_blockhash) else {
            return;
        };
        let mtp = chain.index().median_time_past(&parent.hash);
        let time = u32::try_from(now).unwrap_or(u32::MAX).max(mtp + 1);
        self.block.header.time = time;
        self.block.header.bits = required_bits(chain.index(), parent, time, chain.params());
    }

    /// The block to submit once a job of this template is solved with `header` (the nonce and
    /// possibly a rolled time).
    pub fn solved_block(&self, header: BlockHeader) -> Block {
        Block {
            header,
            txdata: self.block.txdata.clone(),
        }
    }

    /// Writes `extra_nonce` into the coinbase and recomputes the merkle root (btcd's
    /// `UpdateExtraNonce`); the witness commitment stays valid, the coinbase's wtxid being zero.
    pub fn set_extra_nonce(&mut self, extra_nonce: u64) {
        self.block.txdata[0].inputs[0].script_sig = coinbase_script(self.height, extra_nonce);
        self.block.header.merkle_root = self.block.compute_merkle_root().0;
    }

    /// True when the template should be rebuilt at `now`: the tip moved away from its parent,
    /// or the mempool changed since it was made and it is over a minute old (btcd's cpuminer).
    pub fn needs_refresh(&self, tip: &BlockHash, mempool_changed: bool, now: u64) -> bool {
        self.block.header.prev_blockhash != *tip
            || (mempool_changed && now.saturating_sub(self.created) > REFRESH_AFTER_SECS)
    }
}

#[cfg(test)]
mod tests;
