use super::*;
use crate::address::{Address, Payload};
use crate::chain::builder::BlockBuilder;
use crate::chain::{Chain, MemStore};
use crate::harness::call_node;
use crate::mining::{search, MinerWork, REFRESH_AFTER_SECS};
use crate::node::{Input, NodeConfig};
use crate::params::{Network, Params};
use crate::primitives::Block;
use crate::rpc::{Rights, RpcError};
use crate::time::Time;
use serde_json::{json, Value};
use std::time::Duration;

/// Ten days after the regtest genesis: every template's time is in the past of the clock.
fn start_ms() -> Time {
    Time::from_unix_secs(u64::from(Params::new(Network::Regtest).genesis.header.time) + 10 * 86_400)
}

/// `n` milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Calls `method` on `node` at `now` as the admin user.
fn rpc(
    node: &mut Node<MemStore>,
    now: Time,
    method: &str,
    params: Value,
) -> Result<Value, RpcError> {
    call_node(node, now, Rights::Admin, method, params).0
}

fn pay_to() -> Address {
    Address::new(Payload::PubKeyHash([7; 20]), &Params::new(Network::Regtest))
}

fn mining_node(generate: bool) -> Node<MemStore> {
    let config = NodeConfig {
        mining_addrs: vec![pay_to()],
        generate,
        gen_proc_limit: 3,
        ..NodeConfig::default()
    };
    Node::new(
        Params::new(Network::Regtest),
        config,
        MemStore::new(),
        5,
        start_ms(),
    )
    .unwrap()
}

/// Drains the node's outputs and returns the mining work among them (`Some(None)`: stop).
fn mine_on(node: &mut Node<MemStore>) -> Option<Option<MinerWork>> {
    let outputs: Vec<Output> = std::iter::from_fn(|| node.poll_output()).collect();
    work_in(outputs)
}

/// The last mining work among `outputs` (`Some(None)`: stop).
fn work_in(outputs: Vec<Output>) -> Option<Option<MinerWork>> {
    outputs.into_iter().rev().find_map(|out| match out {
        Output::MineOn(w) => Some(w.map(|w| *w)),
        _ => None,
    })
}

/// `setgenerate` with `params` on `node` at `now`; the mining work it led to.
fn set_generate(node: &mut Node<MemStore>, now: Time, params: Value) -> Option<Option<MinerWork>> {
    let (outcome, outputs) = call_node(node, now, Rights::Admin, "setgenerate", params);
    assert_eq!(outcome, Ok(Value::Null));
    work_in(outputs)
}

/// What a miner thread sends back for `work`: the first solution of its first job.
fn solve(work: &mut MinerWork) -> Input {
    let (extra_nonce, job) = work.next_job();
    let nonce = search(&job, 0..=u32::MAX).expect("regtest difficulty is trivial");
    Input::BlockSolved {
        work_id: work.id,
        extra_nonce,
        header: job.solved_header(nonce),
    }
}

/// A block on the node's tip from elsewhere (another miner).
fn foreign_block(node: &Node<MemStore>) -> Block {
    let tip = node.chain().tip();
    let mut b = BlockBuilder::new(
        node.chain().params(),
        tip.hash,
        tip.height + 1,
        tip.header.time,
    );
    b.header.time = tip.header.time + 1;
    b.build()
}

#[test]
fn solved_work_becomes_the_tip_and_a_second_node_accepts_the_blocks() {
    let mut node = mining_node(true);
    let mut blocks = Vec::new();
    for height in 1..=3 {
        let mut work = mine_on(&mut node).flatten().expect("work on the tip");
        assert_eq!(work.threads, 3);
        let now = start_ms() + ms(height * 1000);
        node.handle(now, solve(&mut work));
        assert_eq!(u64::from(node.chain().tip().height), height);
        let tip = node.chain().tip().hash;
        blocks.push(node.chain().block(&tip).unwrap().unwrap());
    }
    let coinbase = &blocks[2].txdata[0];
    assert_eq!(coinbase.outputs[0].script_pubkey, pay_to().script_pubkey());
    let mut second = Chain::open(Params::new(Network::Regtest), MemStore::new()).unwrap();
    for block in blocks {
        assert_eq!(
            second.process_block(block, start_ms().unix_secs() + 10),
            Ok(Placement::MainChain)
        );
    }
    assert_eq!(second.tip(), node.chain().tip());
}

#[test]
fn no_block_on_an_old_tip_is_submitted_after_a_new_tip_arrives() {
    let mut node = mining_node(true);
    let mut old = mine_on(&mut node).flatten().unwrap();
    // Another miner's block arrives first: the node hands out work on it at once.
    let theirs = foreign_block(&node);
    node.handle(start_ms() + ms(1000), Input::SubmitBlock(theirs.clone()));
    let mut new = mine_on(&mut node)
        .flatten()
        .expect("new work on the new tip");
    assert!(new.id > old.id);
    assert_eq!(
        new.next_job().1.header().prev_blockhash,
        theirs.block_hash()
    );
    // The old work's solution is dropped: the tip stays, nothing new is stored.
    let stale = solve(&mut old);
    let Input::BlockSolved { header, .. } = &stale else {
        unreachable!()
    };
    let stale_hash = header.block_hash();
    node.handle(start_ms() + ms(2000), stale);
    assert_eq!(node.chain().tip().hash, theirs.block_hash());
    assert!(!node.chain().have_block(&stale_hash));
    // A solution naming the current work id but another template's contents is refused too.
    let mut forged = solve(&mut new);
    if let Input::BlockSolved { extra_nonce, .. } = &mut forged {
        *extra_nonce ^= 1;
    }
    node.handle(start_ms() + ms(3000), forged);
    assert_eq!(node.chain().tip().hash, theirs.block_hash());
}

#[test]
fn work_is_renewed_on_mempool_changes_after_a_minute_and_on_time_updates() {
    let mut node = mining_node(true);
    let first = mine_on(&mut node).flatten().unwrap();
    let issued = start_ms();
    assert_eq!(
        node.poll_timeout(),
        node.poll_timeout().min(Some(issued + ms(15_000)))
    );
    // Nothing changed: the time update is due after 15 s.
    node.handle(issued + ms(14_000), Input::Tick);
    assert_eq!(mine_on(&mut node), None);
    node.handle(issued + ms(15_000), Input::Tick);
    let mut updated = mine_on(&mut node)
        .flatten()
        .expect("work with a fresh time");
    assert!(updated.id > first.id);
    assert_eq!(
        u64::from(updated.next_job().1.header().time),
        (issued + ms(15_000)).unix_secs()
    );
    // A mempool change makes the template stale only once it is over a minute old.
    node.mining.mempool_updated();
    assert_eq!(
        node.mining.deadline(),
        Some(Time::from_unix_secs(
            issued.unix_secs() + REFRESH_AFTER_SECS + 1
        ))
        .min(Some(issued + ms(30_000)))
    );
    node.handle(issued + ms(61_000), Input::Tick);
    let rebuilt = mine_on(&mut node).flatten().expect("a new template");
    assert!(rebuilt.id > updated.id);
    assert!(!node.mining.mempool_changed());
}

#[test]
fn turning_mining_off_stops_the_threads_and_zeroes_the_rate() {
    let mut node = mining_node(false);
    let now = start_ms();
    assert_eq!(mine_on(&mut node), None, "no work while off");
    assert_eq!(
        rpc(&mut node, now, "getgenerate", json!([])),
        Ok(json!(false))
    );
    let work = set_generate(&mut node, now, json!([true, 2]))
        .flatten()
        .unwrap();
    assert_eq!(work.threads, 2);
    node.handle(now, Input::HashRate(1234.0));
    assert_eq!(
        rpc(&mut node, now, "gethashespersec", json!([])),
        Ok(json!(1234))
    );
    let work = set_generate(&mut node, now, json!([true, 4]));
    assert_eq!(work.flatten().unwrap().threads, 4);
    assert_eq!(set_generate(&mut node, now, json!([false])), Some(None));
    assert_eq!(
        rpc(&mut node, now, "gethashespersec", json!([])),
        Ok(json!(0))
    );
    assert_eq!(
        rpc(&mut node, now, "getmininginfo", json!([])).unwrap()["genproclimit"],
        json!(4),
        "the thread count is kept while off"
    );
    assert_eq!(
        node.poll_timeout(),
        node.poll_timeout().filter(|t| *t > start_ms() + ms(15_000))
    );
}

#[test]
fn thread_counts_saturate_at_the_miner_limit() {
    let mut node = mining_node(false);
    node.set_generate(true, u32::MAX);
    assert_eq!(node.generate_threads(), MAX_MINER_THREADS);
    assert_eq!(
        mine_on(&mut node).flatten().unwrap().threads,
        MAX_MINER_THREADS
    );
}

#[test]
fn a_template_ahead_of_the_clock_is_held_until_the_clock_reaches_it() {
    let mut node = mining_node(true);
    let mut work = mine_on(&mut node).flatten().unwrap();
    // Blocks found in the same second push the median time past ahead of the clock.
    let now = start_ms();
    for _ in 0..12 {
        node.handle(now, solve(&mut work));
        match mine_on(&mut node) {
            Some(Some(w)) => work = w,
            _ => break,
        }
    }
    let template_time = node.mining.template().unwrap().block.header.time;
    assert!(
        Time::from_unix_secs(u64::from(template_time)) > now,
        "the template is ahead"
    );
    assert_eq!(mine_on(&mut node), None, "held back");
    assert_eq!(
        node.mining.deadline(),
        Some(Time::from_unix_secs(u64::from(template_time)))
    );
    node.handle(Time::from_unix_secs(u64::from(template_time)), Input::Tick);
    assert!(matches!(mine_on(&mut node), Some(Some(_))));
}

#[test]
fn fee_estimates_come_from_mined_mempool_transactions() {
    use crate::chain::builder::spend;
    use crate::mempool::estimate::EstimateError;
    use crate::primitives::hash::sha256;
    use crate::primitives::OutPoint;
    let witness_script = vec![0x51];
    let p2wsh = [&[0u8, 32][..], &sha256(&witness_script)].concat();
    let mut node = mining_node(false);
    // 101 blocks paying P2WSH(OP_1): the first coinbase matures.
    let mut first = None;
    for i in 0..101 {
        let tip = node.chain().tip();
        let mut b = BlockBuilder::new(
            node.chain().params(),
            tip.hash,
            tip.height + 1,
            tip.header.time,
        );
        b.header.time = tip.header.time + 1;
        b.coinbase.outputs[0].script_pubkey = p2wsh.clone();
        let block = b.build();
        first.get_or_insert(OutPoint::new(block.txdata[0].txid(), 0));
        node.handle(start_ms() + ms(i), Input::SubmitBlock(block));
    }
    let now = start_ms() + ms(101);
    let estimate = |node: &mut Node<MemStore>, n: u32| rpc(node, now, "estimatefee", json!([n]));
    // BTC per kilobyte.
    let btc_per_kvb = |sat: i64| json!(sat as f64 / 1e8);
    assert_eq!(
        estimate(&mut node, 1),
        Ok(btc_per_kvb(1000)),
        "blocks without mempool transactions"
    );
    assert_eq!(
        estimate(&mut node, 26).unwrap_err().message,
        EstimateError::TargetTooFar.to_string()
    );
    let mut tx = spend(&[first.unwrap()], &[50 * 100_000_000 - 40_000]);
    tx.outputs[0].script_pubkey = p2wsh.clone();
    tx.inputs[0].witness = vec![witness_script];
    let vsize = tx.weight().div_ceil(4) as i64;
    node.handle(now, Input::SubmitTx(tx));
    assert_eq!(node.mempool().len(), 1);
    let mut work = set_generate(&mut node, now, json!([true, 1]))
        .flatten()
        .unwrap();
    node.handle(start_ms() + ms(1000), solve(&mut work));
    assert!(node.mempool().is_empty(), "the transaction was mined");
    assert_eq!(
        estimate(&mut node, 1),
        Ok(btc_per_kvb(40_000 * 1000 / vsize))
    );
}

#[test]
fn getblocktemplate_takes_the_time_of_the_call() {
    let mut node = mining_node(false);
    let later = start_ms() + ms(20 * 60_000);
    let t = rpc(&mut node, later, "getblocktemplate", json!([])).unwrap();
    assert_eq!(t["curtime"], json!(later.unix_secs()));
    assert_eq!(t["height"], json!(1));
    // The same template, its time moved on, until the tip or (after a minute) the pool changes.
    let again = rpc(&mut node, later + ms(5_000), "getblocktemplate", json!([])).unwrap();
    assert_eq!(again["longpollid"], t["longpollid"]);
    assert_eq!(again["curtime"], json!(later.unix_secs() + 5));
}
