use super::*;
use crate::primitives::{OutPoint, TxIn, TxOut};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;

/// One generated transaction: fee, weight, sigop cost, witness, and parents among the earlier
/// ones (as indices, reduced modulo the position).
type Spec = (i64, usize, u32, bool, Vec<usize>);

/// A mempool from `specs`: chains and trees of dependent transactions with the parent/child
/// links the real pool keeps.
fn pool(specs: &[Spec]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, (fee, weight, sigop_cost, witness, parents)) in specs.iter().enumerate() {
        let parents: BTreeSet<Txid> = if i == 0 {
            BTreeSet::new()
        } else {
            parents.iter().map(|p| entries[p % i].txid).collect()
        };
        let tx = Transaction {
            version: 2,
            inputs: parents
                .iter()
                .map(|p| OutPoint::new(*p, 0))
                .chain((parents.is_empty()).then_some(OutPoint::new(Txid::default(), i as u32)))
                .map(|prevout| TxIn {
                    prevout,
                    script_sig: vec![],
                    sequence: u32::MAX,
                    witness: if *witness { vec![vec![1]] } else { vec![] },
                })
                .collect(),
            outputs: vec![TxOut {
                value: 1,
                script_pubkey: vec![0x51],
            }],
            lock_time: i as u32,
        };
        let txid = tx.txid();
        for p in &parents {
            entries
                .iter_mut()
                .find(|e| e.txid == *p)
                .unwrap()
                .children
                .insert(txid);
        }
        entries.push(Entry {
            wtxid: tx.wtxid(),
            tx: Arc::new(tx),
            txid,
            fee: *fee,
            weight: *weight,
            sigop_cost: *sigop_cost,
            time: 0,
            height: 0,
            parents,
            children: BTreeSet::new(),
        });
    }
    entries
}

fn rate_at_least(a: &Entry, b: &Entry) -> bool {
    i128::from(a.fee) * b.weight as i128 >= i128::from(b.fee) * a.weight as i128
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0i64..200_000,
        400usize..40_000,
        0u32..3_000,
        prop::bool::weighted(0.2),
        prop::collection::vec(0usize..64, 0..3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn selections_respect_limits_dependencies_and_fee_rate(
        specs in prop::collection::vec(spec(), 0..60),
        max_weight in 4_000usize..400_000,
        max_sigop_cost in 0u32..40_000,
        segwit in any::<bool>(),
    ) {
        let entries = pool(&specs);
        let budget = Budget {
            max_weight,
            max_sigop_cost,
            weight: 1_000,
            sigop_cost: 4,
            commitment_weight: 224,
            segwit,
        };
        let chosen = select(&entries, &budget, |_| true);
        let picked: Vec<&Entry> = chosen.entries.clone();
        let witness = picked.iter().any(|e| e.tx.has_witness());
        prop_assert_eq!(chosen.witness, witness);
        prop_assert!(segwit || !witness, "witness transaction chosen before segwit");
        let weight = budget.weight
            + picked.iter().map(|e| e.weight).sum::<usize>()
            + if witness { budget.commitment_weight } else { 0 };
        prop_assert_eq!(chosen.weight, weight);
        prop_assert!(picked.is_empty() || weight < max_weight);
        let sigops = budget.sigop_cost + picked.iter().map(|e| e.sigop_cost).sum::<u32>();
        prop_assert_eq!(chosen.sigop_cost, sigops);
        prop_assert!(sigops <= max_sigop_cost.max(budget.sigop_cost));
        prop_assert_eq!(chosen.fees, picked.iter().map(|e| e.fee).sum::<i64>());
        for (i, e) in picked.iter().enumerate() {
            for p in &e.parents {
                let at = picked.iter().position(|x| x.txid == *p);
                prop_assert!(at.is_some_and(|at| at < i), "parent {} not before {}", p, e.txid);
            }
        }
        // Transactions without parents compete from the start: taken in fee rate order.
        let roots: Vec<&&Entry> = picked.iter().filter(|e| e.parents.is_empty()).collect();
        for pair in roots.windows(2) {
            prop_assert!(rate_at_least(pair[0], pair[1]));
        }
        // Greedy to the end: every transaction left out whose parents are all in would not
        // fit into the final block either (the block only grows, so it did not fit when its
        // turn came).
        for e in &entries {
            let ready = e.parents.iter().all(|p| picked.iter().any(|x| x.txid == *p));
            let left_out = !picked.iter().any(|x| x.txid == e.txid);
            if ready && left_out && (segwit || !e.tx.has_witness()) {
                let extra = if e.tx.has_witness() && !witness { budget.commitment_weight } else { 0 };
                prop_assert!(
                    chosen.weight + e.weight + extra >= max_weight
                        || chosen.sigop_cost + e.sigop_cost > max_sigop_cost,
                    "{} fits but was left out", e.txid
                );
            }
        }
    }
}

#[test]
fn children_wait_for_parents_and_non_final_transactions_are_skipped() {
    // A cheap parent with a rich child, and a middling independent transaction.
    let entries = pool(&[
        (1_000, 1_000, 0, false, vec![]),
        (90_000, 1_000, 0, false, vec![0]),
        (5_000, 1_000, 0, false, vec![]),
    ]);
    let budget = Budget {
        max_weight: 100_000,
        max_sigop_cost: 80_000,
        weight: 0,
        sigop_cost: 0,
        commitment_weight: 0,
        segwit: true,
    };
    let order: Vec<Txid> = select(&entries, &budget, |_| true)
        .entries
        .iter()
        .map(|e| e.txid)
        .collect();
    assert_eq!(order, [entries[2].txid, entries[0].txid, entries[1].txid]);
    // A parent that may not be mined keeps its child out too.
    let skip = entries[0].tx.lock_time;
    let order: Vec<Txid> = select(&entries, &budget, |tx| tx.lock_time != skip)
        .entries
        .iter()
        .map(|e| e.txid)
        .collect();
    assert_eq!(order, [entries[2].txid]);
}
