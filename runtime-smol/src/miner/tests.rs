use super::*;
use rbtcd_core::mining::{coinbase_tx, MiningJob};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::Block;

/// Work on a one-transaction block with `bits`, for `threads` threads.
fn work(id: u64, bits: u32, threads: u32) -> MinerWork {
    let coinbase = coinbase_tx(1, 0, 50, vec![0x51]);
    let mut block = Block {
        header: BlockHeader {
            bits,
            ..Params::new(Network::Regtest).genesis.header
        },
        txdata: vec![coinbase],
    };
    block.header.merkle_root = block.compute_merkle_root().0;
    let job = MiningJob::new(id, &block.header).unwrap();
    MinerWork::new(job, &block.txdata, 1, threads, 7)
}

/// Regtest difficulty: about every other nonce solves it.
fn easy(id: u64) -> MinerWork {
    work(id, 0x207f_ffff, 2)
}

/// A recent mainnet difficulty: no worker finds anything during a test.
fn hard(id: u64) -> MinerWork {
    work(id, 0x1703_4219, 2)
}

fn spawn() -> (Sender<Option<MinerWork>>, Receiver<Solved>, Miner) {
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let miner = Miner::spawn(jobs_rx, solved_tx, Box::new(|_| {})).unwrap();
    (jobs, solved, miner)
}

#[test]
fn new_work_replaces_the_old_and_its_solution_comes_back() {
    let (jobs, solved, miner) = spawn();
    jobs.send_blocking(Some(hard(1))).unwrap();
    jobs.send_blocking(Some(easy(2))).unwrap();
    let first = solved.recv_blocking().unwrap();
    assert_eq!((first.work_id, first.extra_nonce), (2, 7));
    let params = Params::new(Network::Regtest);
    assert!(first.header.check_proof_of_work(&params.pow_limit));
    let (_, job) = easy(2).next_job();
    assert_eq!(job.solved_header(first.header.nonce), first.header);
    assert_eq!(miner.workers(), 2);
    jobs.send_blocking(Some(easy(3))).unwrap();
    assert_eq!(solved.recv_blocking().unwrap().work_id, 3);
    jobs.send_blocking(None).unwrap();
    drop(jobs);
    miner.join();
    // One report per work, none for the replaced work.
    assert!(solved.try_recv().is_err());
}

#[test]
fn idle_and_busy_miners_stop_when_the_job_channel_closes() {
    for w in [None, Some(hard(1))] {
        let (jobs, solved, miner) = spawn();
        jobs.send_blocking(w).unwrap();
        drop(jobs);
        miner.join();
        assert!(solved.try_recv().is_err());
    }
}

#[test]
fn the_kernels_hashes_are_reported_as_the_hash_rate() {
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let (rates_tx, rates) = std::sync::mpsc::channel();
    let report = Box::new(move |per_sec| {
        let _ = rates_tx.send(per_sec);
    });
    let miner = Miner::spawn(jobs_rx, solved_tx, report).unwrap();
    jobs.send_blocking(Some(hard(1))).unwrap();
    // The first report comes after one update interval of searching a job nobody solves.
    let wait = UPDATE_INTERVAL * 6;
    let per_sec: f64 = rates.recv_timeout(wait).expect("a hash rate report");
    assert!(per_sec > 0.0, "{per_sec}");
    assert!(solved.try_recv().is_err());
    drop(jobs);
    miner.join();
}
