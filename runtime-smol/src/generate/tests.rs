use super::*;
use rbtcd_core::address::Payload;
use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::chain::MemStore;
use rbtcd_core::params::Network;

fn regtest_chain() -> Chain<MemStore> {
    Chain::open(Params::new(Network::Regtest), MemStore::new()).unwrap()
}

fn generator() -> Generator {
    let params = Params::new(Network::Regtest);
    let addrs = (1..=2)
        .map(|i| Address::new(Payload::PubKeyHash([i; 20]), &params))
        .collect();
    Generator::new(addrs, 3_000_000, 9)
}

/// Time for the tests' blocks: after genesis, fixed so nothing depends on the clock.
fn now() -> u64 {
    u64::from(Params::new(Network::Regtest).genesis.header.time) + 100_000
}

#[test]
fn solutions_become_accepted_blocks_on_the_tip() {
    let mut chain = regtest_chain();
    let mut generator = generator();
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let miner = Miner::spawn(2, jobs_rx, solved_tx).unwrap();
    for height in 1..=3 {
        jobs.send_blocking(Some(generator.next_job(&chain, now())))
            .unwrap();
        let found = solved.recv_blocking().unwrap();
        let accepted = generator
            .submit(&mut chain, &found, now())
            .unwrap()
            .unwrap();
        assert_eq!(accepted.placement, Placement::MainChain);
        assert_eq!(accepted.amount, chain.params().subsidy(height));
        assert_eq!(chain.tip().height, height);
        assert_eq!(chain.tip().hash, accepted.hash);
    }
    drop(jobs);
    miner.join();
}

#[test]
fn no_block_on_an_old_tip_is_submitted_after_a_new_tip_arrives() {
    let mut chain = regtest_chain();
    let mut generator = generator();
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let miner = Miner::spawn(2, jobs_rx, solved_tx).unwrap();
    let old_tip = chain.tip().hash;
    jobs.send_blocking(Some(generator.next_job(&chain, now())))
        .unwrap();
    let on_old_tip = solved.recv_blocking().unwrap();
    assert_eq!(on_old_tip.header.prev_blockhash, old_tip);

    // A block from elsewhere becomes the tip before the solution is handled.
    let tip = *chain.tip();
    let theirs = BlockBuilder::new(chain.params(), tip.hash, 1, tip.header.time)
        .tag(b"peer")
        .build();
    assert_eq!(
        chain.process_block(theirs.clone(), now()),
        Ok(Placement::MainChain)
    );
    assert!(generator.needs_refresh(&chain, now()));
    assert_eq!(generator.submit(&mut chain, &on_old_tip, now()), Ok(None));
    assert_eq!(chain.index().children(&old_tip), [theirs.block_hash()]);

    // New work on the new tip; the old job's solution stays stale even if reported late.
    jobs.send_blocking(Some(generator.next_job(&chain, now())))
        .unwrap();
    let on_new_tip = solved.recv_blocking().unwrap();
    assert_eq!(generator.submit(&mut chain, &on_old_tip, now()), Ok(None));
    assert_eq!(chain.index().children(&old_tip), [theirs.block_hash()]);
    let accepted = generator
        .submit(&mut chain, &on_new_tip, now())
        .unwrap()
        .unwrap();
    assert_eq!(accepted.placement, Placement::MainChain);
    assert_eq!(chain.tip().height, 2);
    drop(jobs);
    miner.join();
}

#[test]
fn the_loop_mines_until_stopped() {
    let mut chain = regtest_chain();
    let mut generator = generator();
    // The loop runs on this thread; another one says stop after a while.
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop_tx.send_blocking(()).unwrap();
    });
    mine_until(&mut generator, &mut chain, stop_rx.recv())
        .unwrap()
        .unwrap();
    stopper.join().unwrap();
    assert!(chain.tip().height >= 1, "regtest blocks take microseconds");
}

#[test]
fn mining_addresses_must_be_for_the_network() {
    let regtest = Params::new(Network::Regtest);
    let mainnet = Params::new(Network::Mainnet);
    let theirs = Address::new(Payload::PubKeyHash([1; 20]), &mainnet).to_string();
    let ours = Address::new(Payload::PubKeyHash([1; 20]), &regtest).to_string();
    let e = mining_addresses(&[ours.clone(), theirs.clone()], &regtest).unwrap_err();
    assert!(
        e.starts_with(&format!(
            "mining address '{theirs}' is not valid for the active network"
        )),
        "{e}"
    );
    assert_eq!(
        mining_addresses(std::slice::from_ref(&ours), &regtest)
            .unwrap()
            .len(),
        1
    );
    let e = mining_addresses(&[theirs], &mainnet).unwrap_err();
    assert!(e.starts_with("generate is not supported on"), "{e}");
}

#[test]
fn amounts_print_as_btcd_does() {
    assert_eq!(format_btc(50 * 100_000_000), "50 BTC");
    assert_eq!(format_btc(1_250_000_000), "12.5 BTC");
    assert_eq!(format_btc(1), "0.00000001 BTC");
}
