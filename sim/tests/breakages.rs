//! Each of the adversary's breakages is refused by the chain for the rule it names, not for
//! some other reason: a block built from a real node's template (with a segwit spend in its
//! mempool), broken one way, then offered to a chain in the same state.

use rbtcd_core::chain::{Chain, ChainError};
use rbtcd_core::harness::START;
use rbtcd_core::node::{Input, Node, NodeConfig};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rng::Rng;
use rbtcd_sim::breakage::{Breakage, Context};
use rbtcd_sim::files::SimFiles;
use rbtcd_sim::store::SimStore;
use rbtcd_sim::workload::{premined, template, Wallet, BLOCK_MAX_WEIGHT};
use std::rc::Rc;
use std::time::Duration;

/// The `RuleError` variant each breakage must produce.
fn expected(b: Breakage) -> &'static str {
    use Breakage::*;
    match b {
        Bits => "BadDifficultyBits",
        TimeTooOld => "TimeTooOld",
        TimeTooNew => "TimeTooNew",
        Version => "ObsoleteVersion",
        MerkleRoot => "BadMerkleRoot",
        NoTransactions => "NoTransactions",
        FirstTxNotCoinbase => "FirstTxNotCoinbase",
        MultipleCoinbases => "MultipleCoinbases",
        DuplicateTransactions => "DuplicateTransactions",
        TooHeavy => "BlockTooHeavy",
        TooManySigops => "TooManySigops",
        CoinbaseScriptLength => "BadCoinbaseScriptLength",
        CoinbaseHeight => "BadCoinbaseHeight",
        WitnessCommitment => "BadWitnessCommitment",
        WitnessNonce => "BadWitnessNonce",
        Subsidy => "BadCoinbaseValue",
        SpendsMoreThanInputs => "SpendsMoreThanInputs",
        OutputValue => "BadOutputValue",
        NoOutputs => "NoOutputs",
        MissingInput | DoubleSpend => "MissingOrSpentInput",
        DuplicateInputs => "DuplicateInputs",
        ImmatureSpend => "ImmatureCoinbaseSpend",
        NonFinal => "NonFinalTx",
        SequenceLock => "SequenceLockNotMet",
        BadWitness => "ScriptFailed",
    }
}

#[test]
fn breakages_are_each_refused_for_their_own_rule() {
    let params = Params::new(Network::Regtest);
    let (base, blocks) = premined(&params);
    let files = SimFiles::copy_of(base, Rc::default()).unwrap();
    let store = SimStore::new(base, files);
    let config = NodeConfig {
        block_max_weight: BLOCK_MAX_WEIGHT,
        ..NodeConfig::default()
    };
    let now = START + Duration::from_secs(3600);
    let mut node = Node::new(params.clone(), config, store, 7, now).unwrap();
    let mut wallet = Wallet::new(blocks, params.coinbase_maturity);
    node.handle(now, Input::SubmitTx(wallet.next_tx().unwrap()));
    assert_eq!(
        node.mempool().entries().count(),
        1,
        "the spend entered the mempool"
    );
    let tip = *node.chain().tip();
    let tip_block = node.chain().block(&tip.hash).unwrap().unwrap();
    let ctx = Context {
        params: &params,
        height: tip.height + 1,
        tip_coinbase: tip_block.txdata[0].txid(),
        now_secs: now.unix_secs(),
    };
    let mut rng = Rng::new(11);
    let mut wrong = Vec::new();
    for b in Breakage::ALL {
        let mut block = template(&node, now.unix_secs(), rng.next_u64()).block;
        b.apply(&mut block, &ctx, &mut rng);
        let mut chain = Chain::open(params.clone(), base.duplicate()).unwrap();
        let verdict = chain.process_block(block, now.unix_secs());
        let ok = match &verdict {
            Err(ChainError::Rule(r)) => format!("{r:?}").starts_with(expected(b)),
            _ => false,
        };
        if !ok {
            wrong.push(format!("{b:?}: {verdict:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "refused for another reason or accepted:\n{}",
        wrong.join("\n")
    );
}
