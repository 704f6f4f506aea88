//! Nonce search against real mainnet headers: it finds the nonce the miners found.

mod common;

use rbtcd_core::mining::{search, MiningJob};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::BlockHeader;

fn mainnet_headers() -> Vec<BlockHeader> {
    let genesis = Params::new(Network::Mainnet).genesis.header;
    std::iter::once(genesis)
        .chain(common::blocks("blocks1-256.bz2").iter().map(|b| b.header))
        .collect()
}

#[test]
fn search_finds_each_mainnet_nonce_and_nothing_around_it() {
    let params = Params::new(Network::Mainnet);
    let headers = mainnet_headers();
    assert_eq!(headers.len(), 256, "genesis and the 255 blocks in the file");
    for (height, header) in headers.iter().enumerate() {
        let job = MiningJob::new(height as u64, header).unwrap();
        let n = header.nonce;
        let around = n.saturating_sub(500)..=n.saturating_add(500);
        assert_eq!(search(&job, around), Some(n), "height {height}");
        let solved = job.solved_header(n);
        assert_eq!(solved, *header);
        assert!(solved.check_proof_of_work(&params.pow_limit));
        // Difficulty 1 passes one hash in 2^32: nothing else nearby solves these headers.
        if n > 0 {
            assert_eq!(search(&job, n.saturating_sub(500)..=n - 1), None);
        }
        if n < u32::MAX {
            assert_eq!(search(&job, n + 1..=n.saturating_add(500)), None);
        }
    }
}

#[test]
fn search_finds_a_nonce_after_rolling_time_back_to_the_real_one() {
    let header = mainnet_headers()[100];
    let job = MiningJob::new(0, &header)
        .unwrap()
        .with_time(header.time + 1);
    let n = header.nonce;
    let range = n.saturating_sub(100)..=n.saturating_add(100);
    assert_eq!(search(&job, range.clone()), None);
    assert_eq!(search(&job.with_time(header.time), range), Some(n));
}
