//! The work the node hands to miner threads ([`crate::node::Output::MineOn`]): a template's
//! header prepared for search, and what it takes to make fresh jobs from it once a job's
//! nonce space is used up.

use super::coinbase::coinbase_script;
use super::job::MiningJob;
use super::roll::ExtraNonceRoll;
use crate::primitives::merkle::merkle_branch;
use crate::primitives::{Transaction, Txid};

/// Work on one block template.
///
/// Jobs come out one extra nonce after the other (btcd's `UpdateExtraNonce` when the 32-bit
/// nonce is exhausted); a solution names its work id and extra nonce so the node can rebuild
/// the block ([`crate::node::Input::BlockSolved`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinerWork {
    /// Identifies the template to the node; every job made from it carries this id.
    pub id: u64,
    /// How many threads should search it (`genproclimit`).
    pub threads: u32,
    roll: ExtraNonceRoll,
    coinbase: Transaction,
    height: u32,
}

impl MinerWork {
    /// Work on `block_txs` (coinbase first) at `height` whose header `job` was made with the
    /// coinbase as given; jobs start at `first_extra_nonce` (random, as btcd's offset, so
    /// that work on the same template by two nodes does not overlap).
    pub fn new(
        job: MiningJob,
        block_txs: &[Transaction],
        height: u32,
        threads: u32,
        first_extra_nonce: u64,
    ) -> MinerWork {
        let txids: Vec<Txid> = block_txs.iter().map(Transaction::txid).collect();
        MinerWork {
            id: job.id,
            threads,
            roll: ExtraNonceRoll::new(job, merkle_branch(&txids, 0), first_extra_nonce),
            coinbase: block_txs[0].clone(),
            height,
        }
    }

    /// The next job and the extra nonce its coinbase has.
    pub fn next_job(&mut self) -> (u64, MiningJob) {
        let extra_nonce = self.roll.next_extra_nonce();
        let (coinbase, height) = (&self.coinbase, self.height);
        let job = self.roll.next_job(|en| {
            let mut tx = coinbase.clone();
            tx.inputs[0].script_sig = coinbase_script(height, en);
            tx.txid()
        });
        (extra_nonce, job)
    }
}

#[cfg(test)]
mod tests {
    use crate::chain::{Chain, MemStore};
    use crate::mining::{new_block_template, search};
    use crate::params::{Network, Params};

    #[test]
    fn each_job_is_the_template_with_that_extra_nonce() {
        let params = Params::new(Network::Regtest);
        let chain = Chain::open(params.clone(), MemStore::new()).unwrap();
        let pay_to =
            crate::address::Address::new(crate::address::Payload::PubKeyHash([3; 20]), &params);
        let template = new_block_template(&chain, &[], &pay_to, 3_000_000, 1_700_000_000);
        let mut work = template.miner_work(9, 2, u64::MAX).unwrap();
        assert_eq!((work.id, work.threads), (9, 2));
        for expected in [u64::MAX, 0, 1] {
            let (extra_nonce, job) = work.next_job();
            assert_eq!(extra_nonce, expected);
            assert_eq!(job.id, 9);
            let mut rebuilt = template.clone();
            rebuilt.set_extra_nonce(extra_nonce);
            assert_eq!(job.header(), &rebuilt.block.header);
            let nonce = search(&job, 0..=u32::MAX).unwrap();
            let block = rebuilt.solved_block(job.solved_header(nonce));
            assert!(block.header.check_proof_of_work(&params.pow_limit));
        }
    }
}
