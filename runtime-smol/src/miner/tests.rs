use super::*;
use rbtcd_core::params::{Network, Params};

fn regtest_job(id: u64) -> MiningJob {
    MiningJob::new(id, &Params::new(Network::Regtest).genesis.header).unwrap()
}

/// A job at a recent mainnet difficulty: no worker finds anything during a test.
fn hard_job(id: u64) -> MiningJob {
    let header = BlockHeader {
        bits: 0x1703_4219,
        ..Params::new(Network::Mainnet).genesis.header
    };
    MiningJob::new(id, &header).unwrap()
}

#[test]
fn a_new_job_replaces_the_old_and_its_solution_comes_back() {
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let miner = Miner::spawn(2, jobs_rx, solved_tx).unwrap();
    jobs.send_blocking(Some(hard_job(1))).unwrap();
    jobs.send_blocking(Some(regtest_job(2))).unwrap();
    let first = solved.recv_blocking().unwrap();
    assert_eq!(first.job_id, 2);
    let params = Params::new(Network::Regtest);
    assert!(first.header.check_proof_of_work(&params.pow_limit));
    assert_eq!(
        regtest_job(2).solved_header(first.header.nonce),
        first.header
    );
    // A third job, then stop; the miner ends when the job sender is gone.
    jobs.send_blocking(Some(regtest_job(3))).unwrap();
    let third = solved.recv_blocking().unwrap();
    assert_eq!(third.job_id, 3);
    jobs.send_blocking(None).unwrap();
    drop(jobs);
    miner.join();
    // One report per job, none for the replaced job.
    assert!(solved.try_recv().is_err());
}

#[test]
fn idle_and_busy_miners_stop_when_the_job_channel_closes() {
    for job in [None, Some(hard_job(1))] {
        let (jobs, jobs_rx) = async_channel::unbounded();
        let (solved_tx, solved) = async_channel::unbounded();
        let miner = Miner::spawn(default_workers(), jobs_rx, solved_tx).unwrap();
        jobs.send_blocking(job).unwrap();
        drop(jobs);
        miner.join();
        assert!(solved.try_recv().is_err());
    }
}
