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

/// One random mempool transaction: output script bytes (OP_CHECKSIGs, so its sigops are
/// real), a fee, whether it has a witness, and which earlier transaction it spends (if any).
type TxSpec = (usize, i64, bool, Option<usize>);

/// Mempool entries from specs: each spends a distinct fake coin, or output 0 of an earlier
/// entry (which makes that one its parent).
fn random_pool(specs: &[TxSpec]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, (script_len, fee, witness, parent)) in specs.iter().enumerate() {
        let parent = parent.map(|p| p % (i.max(1))).filter(|_| i > 0);
        let prevout = match parent {
            Some(p) => OutPoint::new(entries[p].txid, 0),
            None => OutPoint::new(crate::primitives::Hash256([i as u8 + 1; 32]), i as u32),
        };
        let mut tx = spend(&[prevout], &[10_000]);
        tx.outputs[0].script_pubkey = vec![0xac; *script_len];
        if *witness {
            tx.inputs[0].witness = vec![vec![1; 40]];
        }
        let mut e = entry(tx, 10_000 + fee, &[]);
        e.sigop_cost = legacy_tx_sigops(&e.tx) * 4;
        if let Some(p) = parent {
            e.parents.insert(entries[p].txid);
            let child = e.txid;
            entries[p].children.insert(child);
        }
        entries.push(e);
    }
    entries
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    #[test]
    fn templates_never_exceed_the_weight_or_sigop_limits(
        specs in proptest::collection::vec(
            (0usize..9_000, 0i64..50_000, proptest::bool::ANY, proptest::option::of(0usize..40)),
            0..40,
        ),
        max_weight in 4_000usize..200_000,
    ) {
        let chain = regtest_chain();
        let pool = random_pool(&specs);
        let template = new_block_template(&chain, &pool, &address(1), max_weight, 1_700_000_000);
        let block = &template.block;
        // The limit holds for the real block, commitment and all, unless nothing but the
        // coinbase is in it (a coinbase-only block is always allowed).
        proptest::prop_assert!(block.txdata.len() == 1 || block.weight() < max_weight);
        let sigops: u32 = block.txdata.iter().map(|tx| legacy_tx_sigops(tx) * 4).sum();
        proptest::prop_assert!(sigops <= MAX_BLOCK_SIGOPS_COST);
        proptest::prop_assert_eq!(sigops, template.sigop_cost);
        proptest::prop_assert_eq!(template.tx_sigop_costs.iter().sum::<u32>(), sigops);
        proptest::prop_assert_eq!(template.tx_fees.iter().sum::<i64>(), 0);
        // Parents come before children, and the block passes the context-free rules.
        let position = |txid: &Txid| block.txdata.iter().position(|t| t.txid() == *txid);
        for (i, tx) in block.txdata.iter().enumerate().skip(1) {
            for input in &tx.inputs {
                if let Some(at) = position(&input.prevout.txid) {
                    proptest::prop_assert!(at < i);
                }
            }
        }
        proptest::prop_assert_eq!(crate::chain::block_rules::check_block_sanity(block), Ok(()));
    }
}
