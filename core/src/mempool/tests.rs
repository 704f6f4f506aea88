use super::*;
use crate::primitives::{Hash256, TxIn};
use std::cell::RefCell;

/// A chain context over a map of coins; scripts fail for inputs whose scriptSig is `[0x00]`.
#[derive(Default)]
struct FakeChain {
    coins: RefCell<BTreeMap<OutPoint, Coin>>,
    height: u32,
}

impl ChainContext for FakeChain {
    fn coin(&self, op: &OutPoint) -> Option<Coin> {
        self.coins.borrow().get(op).cloned()
    }
    fn next_height(&self) -> u32 {
        self.height + 1
    }
    fn coinbase_maturity(&self) -> u32 {
        100
    }
    fn check_transaction(&self, tx: &Transaction) -> Result<(), String> {
        if tx.inputs.is_empty() {
            return Err("transaction has no inputs".into());
        }
        Ok(())
    }
    fn is_final(&self, tx: &Transaction) -> bool {
        tx.lock_time == 0 || tx.lock_time <= self.height
    }
    fn sequence_locks_met(&self, _tx: &Transaction, _coins: &[Coin]) -> bool {
        true
    }
    fn verify_scripts(&self, tx: &Transaction, _spent: &[TxOut]) -> Result<(), (usize, String)> {
        match tx.inputs.iter().position(|i| i.script_sig == [0x00]) {
            Some(i) => Err((i, "EVAL_FALSE".into())),
            None => Ok(()),
        }
    }
}

fn p2wpkh(tag: u8) -> Vec<u8> {
    let mut s = vec![0, 20];
    s.extend([tag; 20]);
    s
}

fn funded_chain(n: u8) -> FakeChain {
    let chain = FakeChain {
        height: 200,
        ..Default::default()
    };
    for i in 0..n {
        chain.coins.borrow_mut().insert(
            OutPoint::new(Hash256([i + 1; 32]), 0),
            Coin {
                output: TxOut {
                    value: 100_000,
                    script_pubkey: p2wpkh(i),
                },
                height: 10,
                is_coinbase: true,
            },
        );
    }
    chain
}

fn spend(prevouts: &[OutPoint], value: i64) -> Transaction {
    Transaction {
        version: 2,
        inputs: prevouts
            .iter()
            .map(|p| TxIn {
                prevout: *p,
                script_sig: vec![],
                sequence: u32::MAX,
                witness: vec![vec![1; 72]],
            })
            .collect(),
        outputs: vec![TxOut {
            value,
            script_pubkey: p2wpkh(9),
        }],
        lock_time: 0,
    }
}

fn coin_op(i: u8) -> OutPoint {
    OutPoint::new(Hash256([i; 32]), 0)
}

#[test]
fn accepts_and_tracks_fee_and_spends() {
    let chain = funded_chain(1);
    let mut pool = Mempool::default();
    let tx = spend(&[coin_op(1)], 90_000);
    let txid = tx.txid();
    assert_eq!(
        pool.accept(tx, &chain, 1000, 0),
        Ok(Accepted::Added(vec![txid]))
    );
    let e = pool.get(&txid).unwrap();
    assert_eq!(e.fee, 10_000);
    assert_eq!(pool.spender_of(&coin_op(1)), Some(txid));
    assert!(pool.output(&OutPoint::new(txid, 0)).is_some());
}

#[test]
fn rejections_carry_specific_reasons() {
    let chain = funded_chain(2);
    let mut pool = Mempool::default();
    let first = spend(&[coin_op(1)], 90_000);
    let first_id = first.txid();
    pool.accept(first.clone(), &chain, 0, 0).unwrap();
    assert_eq!(
        pool.accept(first, &chain, 0, 0),
        Err(RejectReason::AlreadyHave(first_id))
    );
    assert!(matches!(
        pool.accept(spend(&[coin_op(1)], 80_000), &chain, 0, 0),
        Err(RejectReason::Conflict { spender, .. }) if spender == first_id
    ));
    assert!(matches!(
        pool.accept(spend(&[coin_op(2)], 100_001), &chain, 0, 0),
        Err(RejectReason::Invalid(r)) if r.contains("less than the amount spent")
    ));
    assert!(matches!(
        pool.accept(spend(&[coin_op(2)], 99_999), &chain, 0, 0),
        Err(RejectReason::InsufficientFee { fee: 1, .. })
    ));
    let mut bad_sig = spend(&[coin_op(2)], 90_000);
    bad_sig.inputs[0].script_sig = vec![0x00];
    assert!(matches!(
        pool.accept(bad_sig, &chain, 0, 0),
        Err(RejectReason::ScriptFailed { input: 0, .. })
    ));
    let mut locked = spend(&[coin_op(2)], 90_000);
    locked.lock_time = 500;
    assert_eq!(
        pool.accept(locked, &chain, 0, 0),
        Err(RejectReason::NotFinal)
    );
    assert_eq!(pool.len(), 1);
}

#[test]
fn immature_coinbase_spends_are_invalid() {
    let chain = funded_chain(1);
    chain
        .coins
        .borrow_mut()
        .get_mut(&coin_op(1))
        .unwrap()
        .height = 150;
    let mut pool = Mempool::default();
    assert!(matches!(
        pool.accept(spend(&[coin_op(1)], 90_000), &chain, 0, 0),
        Err(RejectReason::PrematureSpend(r)) if r.contains("maturity")
    ));
}

#[test]
fn orphans_wait_for_parents_and_are_promoted() {
    let chain = funded_chain(1);
    let mut pool = Mempool::default();
    let parent = spend(&[coin_op(1)], 90_000);
    let pid = parent.txid();
    let child = spend(&[OutPoint::new(pid, 0)], 80_000);
    let cid = child.txid();
    assert_eq!(
        pool.accept(child, &chain, 0, 0),
        Ok(Accepted::Orphan(vec![pid]))
    );
    assert_eq!(pool.orphan_count(), 1);
    assert_eq!(
        pool.accept(parent, &chain, 0, 0),
        Ok(Accepted::Added(vec![pid, cid]))
    );
    assert_eq!(pool.orphan_count(), 0);
    assert!(pool.get(&cid).unwrap().parents.contains(&pid));
    assert!(pool.get(&pid).unwrap().children.contains(&cid));
}

#[test]
fn orphan_pool_respects_maxorphantx() {
    let chain = funded_chain(0);
    let mut pool = Mempool::new(Policy {
        max_orphans: 3,
        ..Policy::default()
    });
    for i in 0..10u8 {
        let tx = spend(&[OutPoint::new(Hash256([100 + i; 32]), 0)], 1000);
        assert!(matches!(
            pool.accept(tx, &chain, 0, i as u64),
            Ok(Accepted::Orphan(_))
        ));
    }
    assert_eq!(pool.orphan_count(), 3);
    pool.expire_orphans(orphans::ORPHAN_TTL_SECS);
    assert_eq!(pool.orphan_count(), 0);
}

#[test]
fn mined_transactions_leave_and_conflicts_go_with_descendants() {
    let chain = funded_chain(2);
    let mut pool = Mempool::default();
    let a = spend(&[coin_op(1)], 90_000);
    let b = spend(&[OutPoint::new(a.txid(), 0)], 80_000);
    let c = spend(&[coin_op(2)], 90_000);
    for tx in [a.clone(), b.clone(), c.clone()] {
        pool.accept(tx, &chain, 0, 0).unwrap();
    }
    pool.rebroadcast.add(c.txid(), 0);
    // The block mines c and a different spend of coin 1, conflicting with a (and so b).
    let rival = spend(&[coin_op(1)], 70_000);
    let block = Block {
        header: Default::default(),
        txdata: vec![spend(&[OutPoint::NULL], 0), c.clone(), rival],
    };
    let (conflicts, _) = pool.block_connected(&block, &chain, 0);
    assert_eq!(conflicts.len(), 2);
    assert!(pool.is_empty());
    assert!(
        pool.rebroadcast.is_empty(),
        "mined transactions stop being rebroadcast"
    );
}

#[test]
fn disconnected_block_returns_its_transactions() {
    let chain = funded_chain(1);
    let mut pool = Mempool::default();
    let a = spend(&[coin_op(1)], 90_000);
    let b = spend(&[OutPoint::new(a.txid(), 0)], 80_000);
    let block = Block {
        header: Default::default(),
        txdata: vec![spend(&[OutPoint::NULL], 0), a.clone(), b.clone()],
    };
    assert_eq!(
        pool.block_disconnected(&block, &chain, 0),
        vec![a.txid(), b.txid()]
    );
    assert_eq!(pool.len(), 2);
}

#[test]
fn standardness_is_skipped_only_when_non_standard_is_accepted() {
    let chain = funded_chain(1);
    let dust = || {
        let mut tx = spend(&[coin_op(1)], 90_000);
        tx.outputs[0].value = 1;
        tx
    };
    let mut strict = Mempool::default();
    assert!(matches!(
        strict.accept(dust(), &chain, 0, 0),
        Err(RejectReason::NonStandard(r)) if r.contains("dust")
    ));
    let mut lax = Mempool::new(Policy {
        accept_non_std: true,
        ..Policy::default()
    });
    let txid = dust().txid();
    assert_eq!(
        lax.accept(dust(), &chain, 0, 0),
        Ok(Accepted::Added(vec![txid]))
    );
}
