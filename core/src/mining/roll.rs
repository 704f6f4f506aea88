//! Fresh work from one template once a job's nonce space is used up.

use super::job::MiningJob;
use crate::primitives::merkle::root_from_branch;
use crate::primitives::{Hash256, Txid};

/// Makes successive jobs from one block template by changing the coinbase's extra nonce.
///
/// Only the coinbase changes, so the other transactions enter as the coinbase's merkle branch
/// (`primitives::merkle::merkle_branch(&txids, 0)`) and each new root costs one hash per tree
/// level. The witness commitment is unaffected: BIP141 counts the coinbase's wtxid as zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraNonceRoll {
    job: MiningJob,
    branch: Vec<Hash256>,
    next_extra_nonce: u64,
}

impl ExtraNonceRoll {
    /// Rolls `job` (made from the template's header) whose coinbase reaches the merkle root
    /// through `branch`; the first job made uses `first_extra_nonce` (btcd starts at a random
    /// offset so that workers on the same template do not repeat each other's work).
    pub fn new(job: MiningJob, branch: Vec<Hash256>, first_extra_nonce: u64) -> ExtraNonceRoll {
        ExtraNonceRoll {
            job,
            branch,
            next_extra_nonce: first_extra_nonce,
        }
    }

    /// The extra nonce the next call to [`ExtraNonceRoll::next_job`] will use.
    pub fn next_extra_nonce(&self) -> u64 {
        self.next_extra_nonce
    }

    /// The job for the next extra nonce. `coinbase_txid` returns the txid of the template's
    /// coinbase with the given extra nonce written into it (building the coinbase script is
    /// the template's business); it must differ per extra nonce or the work repeats.
    pub fn next_job(&mut self, coinbase_txid: impl FnOnce(u64) -> Txid) -> MiningJob {
        let extra_nonce = self.next_extra_nonce;
        self.next_extra_nonce = extra_nonce.wrapping_add(1);
        let root = root_from_branch(coinbase_txid(extra_nonce), &self.branch, 0);
        self.job.with_merkle_root(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Network, Params};
    use crate::primitives::merkle::merkle_branch;
    use crate::primitives::{Block, Transaction};

    fn with_extra_nonce(coinbase: &Transaction, extra_nonce: u64) -> Transaction {
        let mut tx = coinbase.clone();
        tx.inputs[0]
            .script_sig
            .extend_from_slice(&extra_nonce.to_le_bytes());
        tx
    }

    #[test]
    fn each_job_commits_to_the_block_with_that_extra_nonce() {
        let genesis = Params::new(Network::Regtest).genesis;
        let others: Vec<Transaction> = (0..4u8)
            .map(|i| {
                let mut tx = genesis.txdata[0].clone();
                tx.lock_time = u32::from(i) + 1;
                tx
            })
            .collect();
        let mut block = Block {
            header: genesis.header,
            txdata: std::iter::once(genesis.txdata[0].clone())
                .chain(others)
                .collect(),
        };
        let txids: Vec<Txid> = block.txdata.iter().map(|t| t.txid()).collect();
        let job = MiningJob::new(3, &block.header).unwrap();
        let mut roll = ExtraNonceRoll::new(job, merkle_branch(&txids, 0), u64::MAX - 1);
        let coinbase = block.txdata[0].clone();
        let mut seen = Vec::new();
        for expected in [u64::MAX - 1, u64::MAX, 0] {
            assert_eq!(roll.next_extra_nonce(), expected);
            let job = roll.next_job(|en| with_extra_nonce(&coinbase, en).txid());
            block.txdata[0] = with_extra_nonce(&coinbase, expected);
            let header = job.header();
            assert_eq!(header.merkle_root, block.compute_merkle_root().0);
            assert_eq!(
                MiningJob::new(3, header).unwrap(),
                job,
                "midstate recomputed for the new root"
            );
            assert!(!seen.contains(&header.merkle_root));
            seen.push(header.merkle_root);
        }
    }
}
