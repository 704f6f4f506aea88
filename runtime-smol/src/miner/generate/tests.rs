use super::*;
use crate::p2p::now;
use rbtcd_core::address::Payload;
use rbtcd_core::chain::MemStore;
use rbtcd_core::node::{Node, NodeConfig, Notification};
use rbtcd_core::params::Network;

#[test]
fn the_node_mines_through_its_task_and_stops_when_told() {
    smol::block_on(async {
        let params = Params::new(Network::Regtest);
        let config = NodeConfig {
            mining_addrs: vec![Address::new(Payload::PubKeyHash([1; 20]), &params)],
            generate: true,
            gen_proc_limit: 2,
            ..NodeConfig::default()
        };
        let node = Node::new(params, config, MemStore::new(), 2, now()).unwrap();
        let (tx, rx) = smol::channel::unbounded();
        let (notify, notes) = smol::channel::unbounded();
        let (miner, jobs) = spawn_miner(&tx).unwrap();
        let sinks = crate::p2p::Sinks {
            notify: Some(notify),
            miner: Some(jobs),
            ..crate::p2p::Sinks::default()
        };
        let server = smol::spawn(crate::p2p::run(node, Vec::new(), (tx.clone(), rx), sinks));
        // Two blocks through the node, whatever the clock pacing.
        let mut connected = 0;
        while connected < 2 {
            if let Ok(Notification::BlockConnected { .. }) = notes.recv().await {
                connected += 1;
            }
        }
        tx.send(Event::Stop).await.unwrap();
        let node = server.await;
        assert!(node.chain().tip().height >= 2);
        // The driver is gone with its job sender: the threads end.
        miner.join();
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
