use super::*;
use crate::address::Payload;
use crate::chain::builder::{spend, BlockBuilder, ANYONE_CAN_SPEND};
use crate::chain::{MemStore, Placement};
use crate::mining::search;
use crate::params::{Network, Params};
use crate::primitives::hash::sha256;
use crate::primitives::{OutPoint, Txid};
use std::collections::BTreeSet;
use std::sync::Arc;

fn regtest_chain() -> Chain<MemStore> {
    Chain::open(Params::new(Network::Regtest), MemStore::new()).unwrap()
}

fn address(tag: u8) -> Address {
    Address::new(
        Payload::PubKeyHash([tag; 20]),
        &Params::new(Network::Regtest),
    )
}

/// A mempool entry for `tx` spending outputs worth `value_in`, with in-pool `parents`.
fn entry(tx: Transaction, value_in: i64, parents: &[&Entry]) -> Entry {
    let fee = value_in - tx.outputs.iter().map(|o| o.value).sum::<i64>();
    Entry {
        txid: tx.txid(),
        wtxid: tx.wtxid(),
        weight: tx.weight(),
        sigop_cost: 0,
        fee,
        tx: Arc::new(tx),
        time: 0,
        height: 0,
        parents: parents.iter().map(|p| p.txid).collect(),
        children: BTreeSet::new(),
    }
}

/// Mines `template` with the nonce search a miner thread runs.
fn mine(template: &BlockTemplate) -> Block {
    let job = template.job(1).unwrap();
    let nonce = search(&job, 0..=u32::MAX).expect("regtest difficulty is trivial");
    template.solved_block(job.solved_header(nonce))
}

#[test]
fn mined_templates_are_valid_and_accepted_by_a_second_node() {
    let mut chain = regtest_chain();
    let params = chain.params().clone();
    let mut now = u64::from(params.genesis.header.time) + 10_000;
    // 101 blocks with anyone-can-spend coinbases: the first becomes spendable.
    let mut blocks = Vec::new();
    for _ in 0..101 {
        let tip = *chain.tip();
        let block = BlockBuilder::new(&params, tip.hash, tip.height + 1, tip.header.time).build();
        assert_eq!(
            chain.process_block(block.clone(), now),
            Ok(Placement::MainChain)
        );
        blocks.push(block);
    }
    let coinbase = blocks[0].txdata[0].txid();
    let subsidy = params.subsidy(1);
    // A parent paying to a P2WSH of OP_1, its child spending that with a witness, and an
    // independent transaction: a dependency and a witness commitment in one block.
    let mut witness_script = vec![0, 32];
    witness_script.extend(sha256(&ANYONE_CAN_SPEND));
    let mut parent_tx = spend(&[OutPoint::new(coinbase, 0)], &[subsidy / 2, subsidy / 4]);
    parent_tx.outputs[0].script_pubkey = witness_script;
    let parent = entry(parent_tx, subsidy, &[]);
    let mut child_tx = spend(&[OutPoint::new(parent.txid, 0)], &[subsidy / 2 - 5_000]);
    child_tx.inputs[0].witness = vec![ANYONE_CAN_SPEND.to_vec()];
    let child = entry(child_tx, subsidy / 2, &[&parent]);
    let other = entry(
        spend(&[OutPoint::new(parent.txid, 1)], &[subsidy / 4 - 700]),
        subsidy / 4,
        &[&parent],
    );
    let mut parent = parent;
    parent.children = [child.txid, other.txid].into();
    let pool = [child.clone(), other.clone(), parent.clone()];

    now += 600;
    let template = new_block_template(&chain, &pool, &address(1), 3_000_000, now);
    let fees = parent.fee + child.fee + other.fee;
    assert_eq!(template.fees, fees);
    assert_eq!(template.height, 102);
    let txids: Vec<Txid> = template.block.txdata.iter().map(|t| t.txid()).collect();
    assert_eq!(
        txids[1], parent.txid,
        "the parent comes before its children"
    );
    assert_eq!(txids.len(), 4);
    let paid = &template.block.txdata[0].outputs;
    assert_eq!(paid[0].value, params.subsidy(102) + fees);
    assert_eq!(paid[0].script_pubkey, address(1).script_pubkey());
    assert!(paid.len() == 2, "a witness commitment output");
    assert_eq!(u64::from(template.block.header.time), now);

    let block = mine(&template);
    assert_eq!(
        chain.process_block(block.clone(), now),
        Ok(Placement::MainChain)
    );
    blocks.push(block);
    // The mined transactions have left the pool; the next template is on the new tip.
    assert!(template.needs_refresh(&chain.tip().hash, false, now));
    let next = new_block_template(&chain, &[], &address(2), 3_000_000, now);
    assert_eq!(next.block.txdata.len(), 1);
    assert_eq!(
        next.block.txdata[0].outputs.len(),
        1,
        "no commitment without witnesses"
    );
    let block = mine(&next);
    assert_eq!(
        chain.process_block(block.clone(), now),
        Ok(Placement::MainChain)
    );
    blocks.push(block);

    let mut second = regtest_chain();
    for block in blocks {
        assert_eq!(second.process_block(block, now), Ok(Placement::MainChain));
    }
    assert_eq!(second.tip(), chain.tip());
    assert_eq!(second.tip().height, 103);
}

#[test]
fn time_is_after_the_median_time_past_and_the_weight_limit_holds() {
    let mut chain = regtest_chain();
    let params = chain.params().clone();
    let genesis_time = params.genesis.header.time;
    // Blocks in the future of the clock given to the template: its time must still advance.
    for i in 0..11 {
        let tip = *chain.tip();
        let mut builder = BlockBuilder::new(&params, tip.hash, tip.height + 1, tip.header.time);
        builder.header.time = genesis_time + 1_000 + i;
        let block = builder.build();
        let now = u64::from(genesis_time) + 5_000;
        assert_eq!(chain.process_block(block, now), Ok(Placement::MainChain));
    }
    let mtp = chain.index().median_time_past(&chain.tip().hash);
    let template = new_block_template(&chain, &[], &address(1), 4_000, u64::from(genesis_time));
    assert_eq!(template.block.header.time, mtp + 1);
    assert_eq!(template.block.header.bits, params.pow_limit_bits);
    assert!(template.block.weight() < 4_000);
    let block = mine(&template);
    assert_eq!(
        chain.process_block(block, u64::from(genesis_time) + 5_000),
        Ok(Placement::MainChain)
    );
}

#[test]
fn extra_nonce_changes_the_coinbase_and_the_root() {
    let chain = regtest_chain();
    let mut template = new_block_template(&chain, &[], &address(1), 3_000_000, 1_700_000_000);
    let root = template.block.header.merkle_root;
    let size = template.block.total_size();
    template.set_extra_nonce(42);
    assert_ne!(template.block.header.merkle_root, root);
    assert_eq!(
        template.block.header.merkle_root,
        template.block.compute_merkle_root().0
    );
    assert_eq!(template.block.total_size(), size);
    assert_eq!(
        template.block.txdata[0].inputs[0].script_sig,
        coinbase_script(1, 42)
    );
}

#[test]
fn refresh_on_new_tip_or_on_old_template_with_mempool_changes() {
    let chain = regtest_chain();
    let template = new_block_template(&chain, &[], &address(1), 3_000_000, 1_000);
    let tip = chain.tip().hash;
    let other = BlockHash::default();
    assert!(!template.needs_refresh(&tip, false, 5_000));
    assert!(!template.needs_refresh(&tip, true, 1_000 + REFRESH_AFTER_SECS));
    assert!(template.needs_refresh(&tip, true, 1_001 + REFRESH_AFTER_SECS));
    assert!(template.needs_refresh(&other, false, 1_000));
}

#[test]
fn mining_addresses_are_chosen_among_all() {
    let addrs = [address(1), address(2), address(3)];
    let mut rng = Rng::new(7);
    let mut seen = BTreeSet::new();
    for _ in 0..64 {
        let a = choose_mining_address(&addrs, &mut rng).unwrap();
        seen.insert(addrs.iter().position(|x| x == a).unwrap());
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(choose_mining_address(&[], &mut rng), None);
}
