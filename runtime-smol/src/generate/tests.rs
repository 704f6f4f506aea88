use super::*;
use crate::miner::Miner;
use rbtcd_core::address::Payload;
use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::chain::MemStore;
use rbtcd_core::node::NodeConfig;
use rbtcd_core::params::Network;

/// Time for the tests' blocks (unix seconds): after genesis, fixed so nothing depends on the
/// clock.
fn now() -> u64 {
    u64::from(Params::new(Network::Regtest).genesis.header.time) + 100_000
}

fn regtest_node() -> Node<MemStore> {
    let params = Params::new(Network::Regtest);
    Node::new(
        params,
        NodeConfig::default(),
        MemStore::new(),
        1,
        now() * 1000,
    )
    .unwrap()
}

fn generator() -> Generator {
    let params = Params::new(Network::Regtest);
    let addrs = (1..=2)
        .map(|i| Address::new(Payload::PubKeyHash([i; 20]), &params))
        .collect();
    Generator::new(addrs, 3_000_000, 9)
}

#[test]
fn solutions_become_accepted_blocks_on_the_tip() {
    let mut node = regtest_node();
    let mut generator = generator();
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let miner = Miner::spawn(2, jobs_rx, solved_tx).unwrap();
    for height in 1..=3 {
        jobs.send_blocking(Some(generator.next_job(&node, now())))
            .unwrap();
        let found = solved.recv_blocking().unwrap();
        let accepted = generator.submit(&mut node, &found, now() * 1000).unwrap();
        assert_eq!(accepted.amount, node.chain().params().subsidy(height));
        assert_eq!(node.chain().tip().height, height);
        assert_eq!(node.chain().tip().hash, accepted.hash);
    }
    drop(jobs);
    miner.join();
}

#[test]
fn no_block_on_an_old_tip_is_submitted_after_a_new_tip_arrives() {
    let mut node = regtest_node();
    let mut generator = generator();
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let miner = Miner::spawn(2, jobs_rx, solved_tx).unwrap();
    let old_tip = node.chain().tip().hash;
    jobs.send_blocking(Some(generator.next_job(&node, now())))
        .unwrap();
    let on_old_tip = solved.recv_blocking().unwrap();
    assert_eq!(on_old_tip.header.prev_blockhash, old_tip);

    // A block from elsewhere becomes the tip before the solution is handled.
    let tip = *node.chain().tip();
    let theirs = BlockBuilder::new(node.chain().params(), tip.hash, 1, tip.header.time)
        .tag(b"peer")
        .build();
    node.handle(now() * 1000, Input::SubmitBlock(theirs.clone()));
    assert_eq!(node.chain().tip().hash, theirs.block_hash());
    assert!(generator.needs_refresh(&node, now()));
    assert_eq!(generator.submit(&mut node, &on_old_tip, now() * 1000), None);
    assert_eq!(
        node.chain().index().children(&old_tip),
        [theirs.block_hash()]
    );

    // New work on the new tip; the old job's solution stays stale even if reported late.
    jobs.send_blocking(Some(generator.next_job(&node, now())))
        .unwrap();
    let on_new_tip = solved.recv_blocking().unwrap();
    assert_eq!(generator.submit(&mut node, &on_old_tip, now() * 1000), None);
    assert_eq!(
        node.chain().index().children(&old_tip),
        [theirs.block_hash()]
    );
    assert!(generator
        .submit(&mut node, &on_new_tip, now() * 1000)
        .is_some());
    assert_eq!(node.chain().tip().height, 2);
    drop(jobs);
    miner.join();
}

#[test]
fn the_loop_mines_through_the_node_task_until_stopped() {
    smol::block_on(async {
        let node = Node::new(
            Params::new(Network::Regtest),
            NodeConfig::default(),
            MemStore::new(),
            2,
            unix_ms(),
        )
        .unwrap();
        let (tx, rx) = smol::channel::unbounded();
        let (notify, notes) = smol::channel::unbounded();
        let server = smol::spawn(crate::p2p::run(
            node,
            Vec::new(),
            (tx.clone(), rx),
            Some(notify),
        ));
        let (jobs, jobs_rx) = async_channel::unbounded();
        let (solved_tx, solved) = async_channel::unbounded();
        let miner = Miner::spawn(2, jobs_rx, solved_tx).unwrap();
        let mining = smol::spawn(run(generator(), tx.clone(), jobs, solved));
        // Two blocks through the node, whatever the clock pacing.
        let mut connected = 0;
        while connected < 2 {
            if let Ok(rbtcd_core::node::Notification::BlockConnected { .. }) = notes.recv().await {
                connected += 1;
            }
        }
        drop(mining.cancel().await);
        miner.join();
        tx.send(Event::Stop).await.unwrap();
        let node = server.await;
        assert!(node.chain().tip().height >= 2);
    });
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
