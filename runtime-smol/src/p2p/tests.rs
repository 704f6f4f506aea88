use super::*;
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::{Chain, MemStore};
use rbtcd_core::harness::{rpc_body, rpc_result};
use rbtcd_core::node::NodeConfig;
use rbtcd_core::params::{Network, Params};

const BLOCKS: u32 = 300;

/// A liveness bound for the tests below, not a speed target.
const PATIENCE: Duration = Duration::from_secs(120);

fn store_with_chain(params: &Params, blocks: u32) -> MemStore {
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for b in spending_chain(params, blocks, 2) {
        chain.process_block(b, now().unix_secs()).unwrap();
    }
    chain.into_store().unwrap()
}

/// A node task under test: how to reach it, its notifications, and the task returning it.
struct Running {
    events: Sender<Event>,
    notes: Receiver<Notification>,
    task: smol::Task<Node<MemStore>>,
}

impl Running {
    async fn stop(self) -> Node<MemStore> {
        self.events.send(Event::Stop).await.unwrap();
        self.task.await
    }

    /// Waits (within [`PATIENCE`]) for a notification matching `want`.
    async fn wait_for(&self, want: impl Fn(&Notification) -> bool) -> bool {
        let seen = async {
            while let Ok(n) = self.notes.recv().await {
                if want(&n) {
                    return true;
                }
            }
            false
        };
        let timeout = async {
            smol::Timer::after(PATIENCE).await;
            false
        };
        smol::future::or(seen, timeout).await
    }
}

/// Starts a regtest node on `store`, listening on a loopback port when `listen`, dialling
/// `peers`; returns it with its listening address.
async fn spawn_node(
    store: MemStore,
    seed: u64,
    listen: bool,
    peers: Vec<SocketAddr>,
) -> (Running, Option<SocketAddr>) {
    let config = NodeConfig {
        permanent_peers: peers,
        ..NodeConfig::default()
    };
    spawn_node_with(config, store, seed, listen).await
}

/// [`spawn_node`] with any options.
async fn spawn_node_with(
    config: NodeConfig,
    store: MemStore,
    seed: u64,
    listen: bool,
) -> (Running, Option<SocketAddr>) {
    let node = Node::new(Params::new(Network::Regtest), config, store, seed, now()).unwrap();
    let listeners = match listen {
        true => bind(&["127.0.0.1:0".parse().unwrap()]).await.unwrap(),
        false => Vec::new(),
    };
    let addr = listeners.first().map(|l| l.local_addr().unwrap());
    let (events, rx) = unbounded();
    let (notify, notes) = unbounded();
    let sinks = Sinks {
        notify: Some(notify),
        ..Sinks::default()
    };
    let task = smol::spawn(run(node, listeners, (events.clone(), rx), sinks));
    let running = Running {
        events,
        notes,
        task,
    };
    (running, addr)
}

#[test]
fn two_nodes_sync_over_loopback_tcp() {
    smol::block_on(async {
        let params = Params::new(Network::Regtest);
        let (a, addr) = spawn_node(store_with_chain(&params, BLOCKS), 1, true, vec![]).await;
        let (b, _) = spawn_node(MemStore::new(), 2, false, vec![addr.unwrap()]).await;
        let reached = b
            .wait_for(
                |n| matches!(n, Notification::BlockConnected { height, .. } if *height == BLOCKS),
            )
            .await;
        assert!(reached, "B never reached height {BLOCKS}");
        let (b, a) = (b.stop().await, a.stop().await);
        assert_eq!(b.chain().tip().hash, a.chain().tip().hash);
    });
}

#[test]
fn writes_are_reported_so_a_reading_peer_stays_under_the_send_queue_limit() {
    smol::block_on(async {
        let params = Params::new(Network::Regtest);
        // Far less than the chain B downloads, more than any one burst of answers.
        let limit = 64 * 1024;
        let config = NodeConfig {
            max_send_queue: Some(limit),
            ..NodeConfig::default()
        };
        let (a, addr) = spawn_node_with(config, store_with_chain(&params, BLOCKS), 1, true).await;
        let (b, _) = spawn_node(MemStore::new(), 2, false, vec![addr.unwrap()]).await;
        let reached = b
            .wait_for(
                |n| matches!(n, Notification::BlockConnected { height, .. } if *height == BLOCKS),
            )
            .await;
        assert!(reached, "B never reached height {BLOCKS}");
        let a = a.stop().await;
        // The driver numbers connections from 1: B's first one was never dropped.
        let served = a.peers().get(&1).expect("B's first connection is up");
        assert!(served.bytes_sent > limit, "{} bytes", served.bytes_sent);
        b.stop().await;
    });
}

#[test]
fn a_peer_sending_corrupt_frames_is_disconnected_and_the_node_keeps_serving() {
    smol::block_on(async {
        let params = Params::new(Network::Regtest);
        let (node, addr) = spawn_node(MemStore::new(), 3, true, vec![]).await;
        let addr = addr.unwrap();
        let mut evil = TcpStream::connect(addr).await.unwrap();
        // Well-framed pings with a wrong checksum: each one is a decode failure.
        let mut frame = params.magic.to_vec();
        frame.extend_from_slice(b"ping\0\0\0\0\0\0\0\0");
        frame.extend_from_slice(&8u32.to_le_bytes());
        frame.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        frame.extend_from_slice(&[0u8; 8]);
        for _ in 0..50 {
            if evil.write_all(&frame).await.is_err() {
                break;
            }
            smol::Timer::after(Duration::from_millis(20)).await;
        }
        let banned = node
            .wait_for(|n| matches!(n, Notification::Banned { .. }))
            .await;
        assert!(banned, "the corrupt peer was never banned");
        let mut buf = [0u8; 1024];
        while let Ok(n) = evil.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        // The listener still accepts connections.
        assert!(TcpStream::connect(addr).await.is_ok());
        assert_eq!(node.stop().await.chain().tip().height, 0);
    });
}

#[test]
fn inputs_and_rpc_calls_run_on_the_node_in_order_and_new_blocks_reach_peers() {
    smol::block_on(async {
        let params = Params::new(Network::Regtest);
        let (a, addr) = spawn_node(MemStore::new(), 4, true, vec![]).await;
        let (b, _) = spawn_node(MemStore::new(), 5, false, vec![addr.unwrap()]).await;
        // Wait for the handshake, then submit blocks to A, as the miner does.
        assert!(
            b.wait_for(|n| matches!(n, Notification::PeerReady(_)))
                .await
        );
        for block in spending_chain(&params, 5, 0) {
            let input = Input::SubmitBlock(block);
            a.events.send(Event::Input(input)).await.unwrap();
        }
        let (reply, answer) = unbounded();
        let call = Event::Rpc {
            id: 7,
            rights: Rights::Limited,
            body: rpc_body(7, "getblockcount", serde_json::json!([])),
            reply,
        };
        a.events.send(call).await.unwrap();
        assert_eq!(
            rpc_result(&answer.recv().await.unwrap()),
            Ok(serde_json::json!(5)),
            "inputs and calls run in order on the node"
        );
        let reached = b
            .wait_for(|n| matches!(n, Notification::BlockConnected { height: 5, .. }))
            .await;
        assert!(reached, "B never saw block 5");
        let (b, a) = (b.stop().await, a.stop().await);
        assert_eq!(b.chain().tip().hash, a.chain().tip().hash);
    });
}

#[test]
fn calls_queued_when_the_node_stops_are_let_go() {
    smol::block_on(async {
        let (a, _) = spawn_node(MemStore::new(), 6, false, vec![]).await;
        // The stop is queued before the call, so the node ends with the call unanswered (as
        // when a store error stops it while clients keep calling).
        a.events.send(Event::Stop).await.unwrap();
        let (reply, answer) = unbounded();
        let call = Event::Rpc {
            id: 1,
            rights: Rights::Admin,
            body: rpc_body(1, "getblockcount", serde_json::json!([])),
            reply,
        };
        // The node runs on its own thread and may already have stopped and closed its queue;
        // the refused call is then dropped here, its reply channel with it. Either way the
        // caller must hear at once that no answer comes.
        if let Err(refused) = a.events.send(call).await {
            drop(refused);
        }
        let events = a.events.clone();
        a.task.await;
        // The caller hears at once that no answer comes, although senders of events remain.
        let heard = smol::future::or(async { Some(answer.recv().await) }, async {
            smol::Timer::after(PATIENCE).await;
            None
        })
        .await;
        assert!(matches!(heard, Some(Err(_))), "caller still waiting");
        drop(events);
    });
}
