//! The nonce search: two SHA-256 compressions per nonce, with the fastest kernel this CPU has.

use super::job::MiningJob;
use super::kernel::Kernel;
use std::ops::RangeInclusive;

/// The first nonce in `nonces`, in increasing order, whose header hash meets the job's target.
///
/// Per nonce this runs two SHA-256 compressions: the header's second block on top of the job's
/// midstate, then the 32-byte digest with its fixed padding. Every kernel finds the same nonce,
/// so the result does not depend on the CPU; a driver that searches much picks its kernel once
/// with [`Kernel::detect`] and calls [`Kernel::search`].
pub fn search(job: &MiningJob, nonces: RangeInclusive<u32>) -> Option<u32> {
    Kernel::detect().search(job, nonces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Network, Params};
    use crate::primitives::BlockHeader;

    #[test]
    fn finds_the_genesis_nonces() {
        for network in Network::ALL {
            let params = Params::new(network);
            let header = params.genesis.header;
            let job = MiningJob::new(0, &header).unwrap();
            let n = header.nonce;
            let found = search(&job, n.saturating_sub(300)..=n.saturating_add(300));
            // Easy networks may have an earlier solution; whatever is found must be valid.
            let nonce = found.expect("the range holds the genesis nonce");
            assert!(nonce <= n, "{network}: search skipped the genesis nonce");
            assert!(job
                .solved_header(nonce)
                .check_proof_of_work(&params.pow_limit));
        }
    }

    #[test]
    fn empty_and_single_ranges() {
        let header = Params::new(Network::Mainnet).genesis.header;
        let job = MiningJob::new(0, &header).unwrap();
        let n = header.nonce;
        assert_eq!(search(&job, n..=n), Some(n));
        assert_eq!(search(&job, n + 1..=n), None);
        assert_eq!(search(&job, n + 1..=n + 1), None);
    }

    #[test]
    fn the_last_nonce_is_searched() {
        // With the easiest possible target every hash meets it, so the first nonce is found,
        // including u32::MAX at the very end of the space.
        let header = BlockHeader {
            bits: 0x2100_ffff,
            ..Default::default()
        };
        let job = MiningJob::new(0, &header).unwrap();
        assert_eq!(search(&job, u32::MAX..=u32::MAX), Some(u32::MAX));
    }

    #[test]
    fn every_regtest_solution_is_valid_and_none_is_skipped() {
        // Regtest's target passes about one hash in two, so both outcomes are exercised.
        let params = Params::new(Network::Regtest);
        let job = MiningJob::new(0, &params.genesis.header).unwrap();
        let mut start = 0u32;
        for _ in 0..50 {
            let nonce = search(&job, start..=start + 1000).unwrap();
            for skipped in start..nonce {
                assert!(!job
                    .solved_header(skipped)
                    .check_proof_of_work(&params.pow_limit));
            }
            assert!(job
                .solved_header(nonce)
                .check_proof_of_work(&params.pow_limit));
            start = nonce + 1;
        }
    }
}
