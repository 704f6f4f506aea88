//! One test per consensus rule: a regtest block breaking exactly that rule is refused with the
//! rule's own error, and the tip does not move.

use rbtcd_core::chain::builder::{finish, spend, BlockBuilder, ANYONE_CAN_SPEND};
use rbtcd_core::chain::{Chain, ChainError, MemStore, Placement, RuleError};
use rbtcd_core::params::{Checkpoint, Network, Params};
use rbtcd_core::primitives::hash::sha256;
use rbtcd_core::primitives::transaction::MAX_MONEY;
use rbtcd_core::primitives::{Block, OutPoint, Transaction, TxOut, U256};
use rbtcd_core::script::opcodes::{OP_1, OP_CHECKSIG};

/// The node's clock: well after every block time used here.
const NOW: u64 = 1_296_688_602 + 10_000_000;
const COIN: i64 = 100_000_000;

struct Harness {
    chain: Chain<MemStore>,
}

impl Harness {
    fn new() -> Self {
        Self::with(Params::new(Network::Regtest))
    }

    fn with(params: Params) -> Self {
        Harness {
            chain: Chain::open(params, MemStore::new()).unwrap(),
        }
    }

    /// A builder for the next block on the tip.
    fn next(&self) -> BlockBuilder {
        let t = self.chain.tip();
        BlockBuilder::new(self.chain.params(), t.hash, t.height + 1, t.header.time)
    }

    fn submit(&mut self, b: Block) -> Result<Placement, ChainError> {
        self.chain.process_block(b, NOW)
    }

    /// Mines `n` empty blocks on the tip.
    fn mine(&mut self, n: usize) -> Vec<Block> {
        (0..n)
            .map(|_| {
                let b = self.next().build();
                assert_eq!(self.submit(b.clone()), Ok(Placement::MainChain));
                b
            })
            .collect()
    }

    /// Mines 110 blocks and returns the coinbase outputs of the first ten, which the next
    /// block may spend (50 coins each).
    fn mature_coins(&mut self) -> Vec<OutPoint> {
        self.mine(110)[..10]
            .iter()
            .map(|b| OutPoint::new(b.txdata[0].txid(), 0))
            .collect()
    }

    /// Submits `b`, expects `rule`, and checks the tip stayed.
    fn refuse(&mut self, b: Block, rule: RuleError) {
        let tip = self.chain.tip().hash;
        assert_eq!(self.submit(b), Err(ChainError::Rule(rule)));
        assert_eq!(self.chain.tip().hash, tip);
    }
}

fn params_with(f: impl FnOnce(&mut Params)) -> Params {
    let mut p = Params::new(Network::Regtest);
    f(&mut p);
    p
}

// ---- Header rules ----

#[test]
fn proof_of_work_must_meet_the_target() {
    let mut h = Harness::new();
    let mut b = h.next().build();
    let target = b.header.target().unwrap();
    while U256::from_le_bytes(b.block_hash().0) <= target {
        b.header.nonce += 1;
    }
    h.refuse(b, RuleError::HighHash);
}

#[test]
fn regtest_difficulty_never_changes() {
    let mut h = Harness::new();
    let mut bb = h.next();
    bb.header.bits = 0x207ffffe;
    h.refuse(
        bb.build(),
        RuleError::BadDifficultyBits {
            expected: 0x207fffff,
            found: 0x207ffffe,
        },
    );
}

#[test]
fn time_must_be_after_median_time_past() {
    let mut h = Harness::new();
    h.mine(11);
    let mtp = h.chain.index().median_time_past(&h.chain.tip().hash);
    let mut bb = h.next();
    bb.header.time = mtp;
    h.refuse(
        bb.build(),
        RuleError::TimeTooOld {
            time: mtp,
            median_time_past: mtp,
        },
    );
    let mut bb = h.next();
    bb.header.time = mtp + 1;
    assert_eq!(h.submit(bb.build()), Ok(Placement::MainChain));
}

#[test]
fn time_at_most_two_hours_ahead_of_the_node() {
    let mut h = Harness::new();
    let mut bb = h.next();
    bb.header.time = (NOW + 7201) as u32;
    h.refuse(
        bb.build(),
        RuleError::TimeTooNew {
            time: (NOW + 7201) as u32,
            max: NOW + 7200,
        },
    );
    let mut bb = h.next();
    bb.header.time = (NOW + 7200) as u32;
    assert_eq!(h.submit(bb.build()), Ok(Placement::MainChain));
}

#[test]
fn checkpoints_pin_hashes_and_forbid_older_forks() {
    // Build the chain first, then open a node that knows block 2 as a checkpoint.
    let mut scratch = Harness::new();
    let blocks = scratch.mine(3);
    let p = params_with(|p| {
        p.checkpoints = vec![Checkpoint {
            height: 2,
            hash: blocks[1].block_hash(),
        }]
    });
    let mut h = Harness::with(p);
    let g = *h.chain.tip();
    let other_2 = BlockBuilder::new(
        h.chain.params(),
        blocks[0].block_hash(),
        2,
        blocks[0].header.time,
    )
    .tag(b"other")
    .build();
    h.submit(blocks[0].clone()).unwrap();
    h.refuse(other_2, RuleError::CheckpointMismatch { height: 2 });
    h.submit(blocks[1].clone()).unwrap();
    h.submit(blocks[2].clone()).unwrap();
    let fork_1 = BlockBuilder::new(h.chain.params(), g.hash, 1, g.header.time)
        .tag(b"fork")
        .build();
    h.refuse(
        fork_1,
        RuleError::ForkBeforeCheckpoint {
            height: 1,
            checkpoint: 2,
        },
    );
}

#[test]
fn version_must_follow_bip34_66_65() {
    let mut h = Harness::with(params_with(|p| {
        p.bip34_height = 2;
        p.bip66_height = 3;
        p.bip65_height = 4;
    }));
    let with_version = |h: &Harness, v| {
        let mut bb = h.next();
        bb.header.version = v;
        bb.build()
    };
    for (height, old) in [(2u32, 1), (3, 2), (4, 3)] {
        h.mine(height as usize - 1 - h.chain.tip().height as usize);
        let b = with_version(&h, old);
        h.refuse(
            b,
            RuleError::ObsoleteVersion {
                version: old,
                height,
            },
        );
        let b = with_version(&h, old + 1);
        assert_eq!(h.submit(b), Ok(Placement::MainChain));
    }
}

// ---- Block rules ----

#[test]
fn merkle_root_must_match() {
    let mut h = Harness::new();
    let mut b = h.next().build();
    b.header.merkle_root.0[0] ^= 1;
    rbtcd_core::chain::builder::mine(&mut b.header);
    h.refuse(b, RuleError::BadMerkleRoot);
}

#[test]
fn duplicated_transactions_with_the_same_merkle_root_are_refused() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let a = spend(&[coins[0]], &[50 * COIN]);
    let b = spend(&[coins[1]], &[50 * COIN]);
    let good = h.next().tx(a).tx(b).build();
    let mut mutated = good.clone();
    mutated.txdata.push(mutated.txdata[2].clone());
    // CVE-2012-2459: same header, same root, different transactions.
    assert_eq!(mutated.compute_merkle_root().0, good.header.merkle_root);
    h.refuse(mutated, RuleError::DuplicateTransactions);
    // The mutated copy did not poison the real block.
    assert_eq!(h.submit(good), Ok(Placement::MainChain));
}

#[test]
fn block_needs_transactions() {
    let mut h = Harness::new();
    let mut b = h.next().build();
    b.txdata.clear();
    finish(&mut b);
    h.refuse(b, RuleError::NoTransactions);
}

#[test]
fn block_base_size_is_limited() {
    let mut h = Harness::new();
    let mut bb = h.next();
    bb.coinbase.outputs.push(TxOut {
        value: 0,
        script_pubkey: vec![0x6a; 1_000_001],
    });
    h.refuse(bb.build(), RuleError::BadBlockLength);
}

#[test]
fn block_weight_is_limited() {
    let mut h = Harness::new();
    let mut tx = spend(&[OutPoint::new(Default::default(), 7)], &[1]);
    tx.inputs[0].witness = vec![vec![0; 4_000_000]];
    let b = h.next().tx(tx).build();
    assert!(b.base_size() * 4 < 4_000_000);
    let weight = b.weight();
    h.refuse(b, RuleError::BlockTooHeavy(weight));
}

#[test]
fn sigop_cost_is_limited() {
    let mut h = Harness::new();
    let mut bb = h.next();
    bb.coinbase.outputs[0].script_pubkey = vec![OP_CHECKSIG; 20_001];
    h.refuse(bb.build(), RuleError::TooManySigops(80_004));
    let mut bb = h.next();
    bb.coinbase.outputs[0].script_pubkey = vec![OP_CHECKSIG; 20_000];
    assert_eq!(h.submit(bb.build()), Ok(Placement::MainChain));
}

#[test]
fn first_transaction_must_be_the_only_coinbase() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let mut b = h.next().build();
    b.txdata[0] = spend(&[coins[0]], &[COIN]);
    finish(&mut b);
    h.refuse(b, RuleError::FirstTxNotCoinbase);
    let mut b = h.next().build();
    let mut second = b.txdata[0].clone();
    second.inputs[0].script_sig.push(9);
    b.txdata.push(second);
    finish(&mut b);
    h.refuse(b, RuleError::MultipleCoinbases(1));
}

#[test]
fn coinbase_starts_with_the_height() {
    let mut h = Harness::new();
    h.mine(20);
    let mut bb = h.next();
    bb.coinbase.inputs[0].script_sig = vec![1, 20, 0];
    h.refuse(bb.build(), RuleError::BadCoinbaseHeight(21));
}

#[test]
fn witness_commitment_must_match() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    // A P2WSH output whose witness script is OP_1, spent in the same block with its witness.
    let mut fund = spend(&[coins[0]], &[50 * COIN]);
    fund.outputs[0].script_pubkey = [&[0u8, 32][..], &sha256(&[OP_1])].concat();
    let mut tx = spend(&[OutPoint::new(fund.txid(), 0)], &[50 * COIN]);
    tx.inputs[0].witness = vec![vec![OP_1]];
    let good = h.next().tx(fund).tx(tx.clone()).build();

    let mut b = good.clone();
    let out = b.txdata[0].outputs.last_mut().unwrap();
    out.script_pubkey[10] ^= 1;
    finish(&mut b);
    h.refuse(b, RuleError::BadWitnessCommitment);

    let mut b = good.clone();
    b.txdata[0].inputs[0].witness.clear();
    finish(&mut b);
    h.refuse(b, RuleError::BadWitnessNonce);

    let mut b = good.clone();
    b.txdata[0].outputs.pop();
    b.txdata[0].inputs[0].witness.clear();
    finish(&mut b);
    h.refuse(b, RuleError::UnexpectedWitness(tx.txid()));

    assert_eq!(h.submit(good), Ok(Placement::MainChain));
}

#[test]
fn coinbase_may_claim_subsidy_plus_fees_only() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let tx = spend(&[coins[0]], &[49 * COIN]);
    let b = h.next().tx(tx.clone()).fees(COIN + 1).build();
    h.refuse(
        b,
        RuleError::BadCoinbaseValue {
            claimed: 51 * COIN + 1,
            allowed: 51 * COIN,
        },
    );
    let b = h.next().tx(tx).fees(COIN).build();
    assert_eq!(h.submit(b), Ok(Placement::MainChain));
}

#[test]
fn bip30_forbids_overwriting_unspent_outputs() {
    // Without BIP34 two coinbases can be identical.
    let mut h = Harness::with(params_with(|p| p.bip34_height = 1000));
    let mut bb = h.next();
    bb.coinbase.inputs[0].script_sig = vec![0xaa, 0xbb];
    let first = bb.build();
    let coinbase = first.txdata[0].clone();
    h.submit(first).unwrap();
    let mut bb = h.next();
    bb.coinbase = coinbase.clone();
    h.refuse(bb.build(), RuleError::OverwritesUnspent(coinbase.txid()));
}

// ---- Transaction rules ----

fn one_tx_block(h: &Harness, tx: Transaction) -> Block {
    h.next().tx(tx).build()
}

#[test]
fn output_values_are_range_checked() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let tx = spend(&[coins[0]], &[-1]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::BadOutputValue(tx.txid()),
    );
    let tx = spend(&[coins[0]], &[MAX_MONEY + 1]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::BadOutputValue(tx.txid()),
    );
    let tx = spend(&[coins[0]], &[MAX_MONEY, 1]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::BadOutputTotal(tx.txid()),
    );
}

#[test]
fn transactions_need_inputs_and_outputs() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let tx = spend(&[], &[1]);
    h.refuse(one_tx_block(&h, tx.clone()), RuleError::NoInputs(tx.txid()));
    let tx = spend(&[coins[0]], &[]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::NoOutputs(tx.txid()),
    );
}

#[test]
fn inputs_must_be_distinct_and_not_null() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let tx = spend(&[coins[0], coins[0]], &[COIN]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::DuplicateInputs(tx.txid()),
    );
    let tx = spend(&[coins[0], OutPoint::NULL], &[COIN]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::NullPrevout(tx.txid()),
    );
}

#[test]
fn coinbase_script_length_is_2_to_100() {
    let mut h = Harness::new();
    let mut bb = h.next();
    // Height 1 is OP_1 alone: BIP34 holds, the length rule does not.
    bb.coinbase.inputs[0].script_sig = vec![0x51];
    let b = bb.build();
    let txid = b.txdata[0].txid();
    h.refuse(b, RuleError::BadCoinbaseScriptLength(txid));
}

#[test]
fn inputs_must_exist_and_be_unspent() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let missing = OutPoint::new(coins[0].txid, 1);
    h.refuse(
        one_tx_block(&h, spend(&[missing], &[1])),
        RuleError::MissingOrSpentInput(missing),
    );
    // Two transactions in one block spending the same output.
    let b = h
        .next()
        .tx(spend(&[coins[0]], &[COIN]))
        .tx(spend(&[coins[0]], &[2 * COIN]))
        .build();
    h.refuse(b, RuleError::MissingOrSpentInput(coins[0]));
    // Spent in an earlier block.
    h.submit(one_tx_block(&h, spend(&[coins[0]], &[COIN])))
        .unwrap();
    h.refuse(
        one_tx_block(&h, spend(&[coins[0]], &[2 * COIN])),
        RuleError::MissingOrSpentInput(coins[0]),
    );
}

#[test]
fn coinbase_outputs_mature_after_100_blocks() {
    let mut h = Harness::new();
    let blocks = h.mine(99);
    let first = OutPoint::new(blocks[0].txdata[0].txid(), 0);
    h.refuse(
        one_tx_block(&h, spend(&[first], &[COIN])),
        RuleError::ImmatureCoinbaseSpend {
            outpoint: first,
            confirmations: 99,
        },
    );
    h.mine(1);
    assert_eq!(
        h.submit(one_tx_block(&h, spend(&[first], &[COIN]))),
        Ok(Placement::MainChain)
    );
}

#[test]
fn outputs_may_not_exceed_inputs() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let tx = spend(&[coins[0]], &[50 * COIN + 1]);
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::SpendsMoreThanInputs(tx.txid()),
    );
}

#[test]
fn lock_time_height_and_median_time_past() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let next_height = h.chain.tip().height + 1;
    let mut tx = spend(&[coins[0]], &[COIN]);
    tx.inputs[0].sequence = 0;
    tx.lock_time = next_height;
    h.refuse(
        one_tx_block(&h, tx.clone()),
        RuleError::NonFinalTx(tx.txid()),
    );
    // BIP113: a time lock compares with the median time past, not the block's own time.
    let bb = h.next();
    let mut tx = spend(&[coins[0]], &[COIN]);
    tx.inputs[0].sequence = 0;
    tx.lock_time = bb.header.time - 1;
    assert!(tx.lock_time > h.chain.index().median_time_past(&h.chain.tip().hash));
    h.refuse(bb.tx(tx.clone()).build(), RuleError::NonFinalTx(tx.txid()));
    tx.lock_time = next_height - 1;
    assert_eq!(h.submit(one_tx_block(&h, tx)), Ok(Placement::MainChain));
}

#[test]
fn sequence_locks_bip68() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let parent = spend(&[coins[0]], &[COIN]);
    let parent_out = OutPoint::new(parent.txid(), 0);
    h.submit(one_tx_block(&h, parent)).unwrap();
    // Relative lock of 3 blocks: a coin from height H may be spent from height H + 3.
    let mut child = spend(&[parent_out], &[COIN]);
    child.inputs[0].sequence = 3;
    h.mine(1);
    h.refuse(
        one_tx_block(&h, child.clone()),
        RuleError::SequenceLockNotMet(child.txid()),
    );
    h.mine(1);
    assert_eq!(h.submit(one_tx_block(&h, child)), Ok(Placement::MainChain));
}

#[test]
fn blocks_on_an_invalid_block_are_refused() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    // Valid on its own (stored), invalid on connect: more output than input.
    let bad = one_tx_block(&h, spend(&[coins[0]], &[51 * COIN]));
    let bad_hash = bad.block_hash();
    let height = h.chain.tip().height + 2;
    let child = BlockBuilder::new(h.chain.params(), bad_hash, height, bad.header.time).build();
    h.refuse(
        bad.clone(),
        RuleError::SpendsMoreThanInputs(bad.txdata[1].txid()),
    );
    h.refuse(child, RuleError::InvalidAncestor(bad_hash));
    h.refuse(bad, RuleError::KnownInvalid(bad_hash));
}

#[test]
fn unspendable_outputs_stay_out_of_the_utxo_set() {
    let mut h = Harness::new();
    let mut bb = h.next();
    bb.coinbase.outputs.push(TxOut {
        value: 0,
        script_pubkey: vec![0x6a, 1, 2],
    });
    let b = bb.build();
    let txid = b.txdata[0].txid();
    h.submit(b).unwrap();
    h.chain.flush().unwrap();
    use rbtcd_core::chain::ChainStore;
    let store = h.chain.store();
    assert!(store.coin(&OutPoint::new(txid, 0)).unwrap().is_some());
    assert!(store.coin(&OutPoint::new(txid, 1)).unwrap().is_none());
    assert_eq!(
        store
            .coin(&OutPoint::new(txid, 0))
            .unwrap()
            .unwrap()
            .output
            .script_pubkey,
        ANYONE_CAN_SPEND
    );
}

#[test]
fn input_scripts_must_verify() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let mut fund = spend(&[coins[0]], &[50 * COIN]);
    fund.outputs[0].script_pubkey = [&[0u8, 32][..], &sha256(&[OP_1])].concat();
    let mut tx = spend(&[OutPoint::new(fund.txid(), 0)], &[50 * COIN]);
    // The witness script does not hash to the program: the interpreter refuses it.
    tx.inputs[0].witness = vec![vec![OP_1, OP_1]];
    let bad = h.next().tx(fund).tx(tx.clone()).build();
    let result = h.submit(bad);
    assert!(
        matches!(
            &result,
            Err(ChainError::Rule(RuleError::ScriptFailed { txid, input: 0, .. })) if *txid == tx.txid()
        ),
        "{result:?}"
    );
}

#[test]
fn a_block_broken_beyond_its_witness_condemns_its_header() {
    let mut h = Harness::new();
    h.mine(20);
    let tip = h.chain.tip().hash;
    let mut bb = h.next();
    bb.coinbase.inputs[0].script_sig = vec![1, 20, 0];
    let bad = bb.build();
    let bad_hash = bad.block_hash();
    h.chain.process_headers(&[bad.header], NOW).unwrap();
    assert_eq!(h.chain.index().best_header().hash, bad_hash);
    h.refuse(bad.clone(), RuleError::BadCoinbaseHeight(21));
    // Sync must not keep waiting for a block no copy of which can be valid.
    assert_eq!(h.chain.index().best_header().hash, tip);
    assert!(h.chain.index().get(&bad_hash).unwrap().status.is_invalid());
    h.refuse(bad, RuleError::KnownInvalid(bad_hash));
}

#[test]
fn a_copy_with_a_stripped_witness_spares_the_real_block() {
    let mut h = Harness::new();
    let coins = h.mature_coins();
    let tip = h.chain.tip().hash;
    // A P2WSH output spent in the same block, so that the block commits to witness data.
    let mut fund = spend(&[coins[0]], &[50 * COIN]);
    fund.outputs[0].script_pubkey = [&[0u8, 32][..], &sha256(&[OP_1])].concat();
    let mut tx = spend(&[OutPoint::new(fund.txid(), 0)], &[50 * COIN]);
    tx.inputs[0].witness = vec![vec![OP_1]];
    let good = h.next().tx(fund).tx(tx).build();
    h.chain.process_headers(&[good.header], NOW).unwrap();
    // The coinbase's witness nonce is outside the block hash: same header, broken copy.
    let mut stripped = good.clone();
    stripped.txdata[0].inputs[0].witness.clear();
    assert_eq!(stripped.block_hash(), good.block_hash());
    h.refuse(stripped, RuleError::BadWitnessNonce);
    // The copy stops it leading the header chain, but a good copy still connects.
    assert_eq!(h.chain.index().best_header().hash, tip);
    assert!(!h
        .chain
        .index()
        .get(&good.block_hash())
        .unwrap()
        .status
        .is_invalid());
    assert_eq!(h.submit(good), Ok(Placement::MainChain));
}
