//! Bitcoin Core's script, transaction, sighash and taproot vectors through the interpreter.

mod common;

use rbtcd_core::primitives::hash::hex_decode;
use rbtcd_core::primitives::{Decodable, Hash256, OutPoint, Transaction, TxIn, TxOut};
use rbtcd_core::script::interpreter::push_data;
use rbtcd_core::script::num::encode_num;
use rbtcd_core::script::opcodes::{self, OP_0, OP_1};
use rbtcd_core::script::sighash::legacy_sighash;
use rbtcd_core::script::{Flags, ScriptError, TxVerifier};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn json(name: &str) -> Vec<Value> {
    serde_json::from_slice::<Value>(&common::read_vector(name))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn hex(s: &str) -> Vec<u8> {
    hex_decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// Assembles Core's test-script notation: decimal numbers, `0x` raw bytes, `'text'` pushes
/// and opcode names with or without `OP_`.
fn assemble(asm: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for tok in asm.split_whitespace() {
        if let Ok(n) = tok.parse::<i64>() {
            match n {
                0 => out.push(OP_0),
                -1 | 1..=16 => out.push((n + i64::from(OP_1) - 1) as u8),
                _ => out.extend(push_data(&encode_num(n))),
            }
        } else if let Some(h) = tok.strip_prefix("0x") {
            out.extend(hex(h));
        } else if tok.len() >= 2 && tok.starts_with('\'') && tok.ends_with('\'') {
            out.extend(push_data(&tok.as_bytes()[1..tok.len() - 1]));
        } else {
            let name = tok.strip_prefix("OP_").unwrap_or(tok);
            let name = match name {
                "NOP2" => "CHECKLOCKTIMEVERIFY",
                "NOP3" => "CHECKSEQUENCEVERIFY",
                n => n,
            };
            let op = opcodes::NAMES
                .iter()
                .find(|(_, n)| n[3..] == *name)
                .unwrap_or_else(|| panic!("unknown opcode {tok}"));
            out.push(op.0);
        }
    }
    out
}

/// Every flag the vectors name.
fn all_flags() -> Flags {
    Flags::NAMED.iter().fold(Flags::NONE, |a, (_, f)| a | *f)
}

fn without(flags: Flags, remove: Flags) -> Flags {
    Flags(flags.0 & !remove.0)
}

/// Core's rule that CLEANSTACK needs WITNESS and WITNESS needs P2SH, applied by dropping.
fn trim(mut f: Flags) -> Flags {
    if !f.contains(Flags::P2SH) {
        f = without(f, Flags::WITNESS);
    }
    if !f.contains(Flags::WITNESS) {
        f = without(f, Flags::CLEANSTACK);
    }
    f
}

/// The same rule applied by adding.
fn fill(mut f: Flags) -> Flags {
    if f.contains(Flags::CLEANSTACK) {
        f |= Flags::WITNESS;
    }
    if f.contains(Flags::WITNESS) {
        f |= Flags::P2SH;
    }
    f
}

/// Core's crediting and spending transactions around one script pair.
fn spend_pair(
    script_sig: Vec<u8>,
    script_pubkey: Vec<u8>,
    witness: Vec<Vec<u8>>,
    amount: i64,
) -> (Transaction, TxOut) {
    let credit = Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::NULL,
            script_sig: vec![OP_0, OP_0],
            sequence: u32::MAX,
            witness: vec![],
        }],
        outputs: vec![TxOut {
            value: amount,
            script_pubkey,
        }],
        lock_time: 0,
    };
    let spend = Transaction {
        version: 1,
        inputs: vec![TxIn {
            prevout: OutPoint::new(credit.txid(), 0),
            script_sig,
            sequence: u32::MAX,
            witness,
        }],
        outputs: vec![TxOut {
            value: amount,
            script_pubkey: vec![],
        }],
        lock_time: 0,
    };
    (spend, credit.outputs[0].clone())
}

#[test]
fn script_tests_json() {
    let mut ran = 0;
    let mut skipped_taproot = 0;
    let mut by_result: BTreeMap<String, usize> = BTreeMap::new();
    for row in json("script_tests.json") {
        let row = row.as_array().unwrap();
        if row.len() < 4 {
            continue; // comment
        }
        let offset = usize::from(row[0].is_array());
        let flags_str = row[offset + 2].as_str().unwrap();
        if flags_str.contains("TAPROOT") {
            skipped_taproot += 1;
            continue; // Core placeholders; taproot-ref covers these rules.
        }
        let (witness, amount) = match row[0].as_array() {
            Some(w) => {
                let (amount, items) = w.split_last().unwrap();
                let items = items.iter().map(|i| hex(i.as_str().unwrap())).collect();
                (items, (amount.as_f64().unwrap() * 1e8).round() as i64)
            }
            None => (vec![], 0),
        };
        let rest = &row[offset..];
        let (sig, spk) = (rest[0].as_str().unwrap(), rest[1].as_str().unwrap());
        let expected = rest[3].as_str().unwrap();
        let flags = Flags::parse_list(flags_str).unwrap();
        let (tx, spent) = spend_pair(assemble(sig), assemble(spk), witness, amount);
        let spent = [spent];
        let got = TxVerifier::new(&tx, &spent).verify_input(0, flags);
        let got_name = got.err().map_or("OK", |e: ScriptError| e.vector_name());
        assert_eq!(got_name, expected, "row {row:?}");
        *by_result.entry(expected.to_string()).or_default() += 1;
        ran += 1;
    }
    println!("script_tests.json: ran {ran} rows ({skipped_taproot} TAPROOT rows left to taproot-ref), results {by_result:?}");
    assert!(ran > 1100);
}

/// The prevouts and transaction of one tx_valid / tx_invalid row.
fn tx_row(row: &[Value]) -> (Transaction, Vec<TxOut>) {
    let mut prevouts: BTreeMap<OutPoint, TxOut> = BTreeMap::new();
    for p in row[0].as_array().unwrap() {
        let p = p.as_array().unwrap();
        let txid: Hash256 = p[0].as_str().unwrap().parse().unwrap();
        let vout = p[1].as_i64().unwrap() as u32;
        let value = p.get(3).map_or(0, |v| v.as_i64().unwrap());
        let script_pubkey = assemble(p[2].as_str().unwrap());
        prevouts.insert(
            OutPoint::new(txid, vout),
            TxOut {
                value,
                script_pubkey,
            },
        );
    }
    let tx = Transaction::decode(&hex(row[1].as_str().unwrap())).unwrap();
    // Inputs whose prevout is not listed (only in BADTX rows) get an empty output.
    let spent = tx
        .inputs
        .iter()
        .map(|i| prevouts.get(&i.prevout).cloned().unwrap_or_default())
        .collect();
    (tx, spent)
}

/// The context-free transaction checks the BADTX rows exercise (Core's `CheckTransaction`).
/// Block validation owns the real check; this is the minimum that tells the rows apart.
fn sane(tx: &Transaction) -> bool {
    const MAX_MONEY: i64 = 21_000_000 * 100_000_000;
    let mut total = 0i64;
    let outputs_ok = tx.outputs.iter().all(|o| {
        total = total.saturating_add(o.value);
        (0..=MAX_MONEY).contains(&o.value) && total <= MAX_MONEY
    });
    let mut seen = BTreeSet::new();
    let unique = tx.inputs.iter().all(|i| seen.insert(i.prevout));
    let scripts_ok = if tx.is_coinbase() {
        (2..=100).contains(&tx.inputs[0].script_sig.len())
    } else {
        tx.inputs.iter().all(|i| !i.prevout.is_null())
    };
    !tx.inputs.is_empty() && !tx.outputs.is_empty() && outputs_ok && unique && scripts_ok
}

fn verify_all(tx: &Transaction, spent: &[TxOut], flags: Flags) -> Result<(), (usize, ScriptError)> {
    TxVerifier::new(tx, spent).verify_all(flags)
}

#[test]
fn tx_valid_json() {
    let (mut rows, mut runs) = (0, 0);
    for row in json("tx_valid.json") {
        let row = row.as_array().unwrap();
        if row.len() == 1 {
            continue;
        }
        let (tx, spent) = tx_row(row);
        assert!(sane(&tx), "{row:?}");
        let excluded = Flags::parse_list(row[2].as_str().unwrap()).unwrap();
        let flags = without(all_flags(), excluded);
        assert_eq!(verify_all(&tx, &spent, flags), Ok(()), "{row:?}");
        // Removing any flag must not make a valid transaction invalid.
        for (name, f) in Flags::NAMED {
            let fewer = trim(without(flags, *f));
            assert_eq!(
                verify_all(&tx, &spent, fewer),
                Ok(()),
                "without {name}: {row:?}"
            );
            runs += 1;
        }
        rows += 1;
        runs += 1;
    }
    println!("tx_valid.json: {rows} transactions valid under {runs} flag sets");
    assert!(rows >= 100);
}

#[test]
fn tx_invalid_json() {
    let (mut rows, mut badtx, mut runs) = (0, 0, 0);
    for row in json("tx_invalid.json") {
        let row = row.as_array().unwrap();
        if row.len() == 1 {
            continue;
        }
        let (tx, spent) = tx_row(row);
        let flag_str = row[2].as_str().unwrap();
        rows += 1;
        if flag_str == "BADTX" {
            assert!(!sane(&tx), "BADTX passes sanity: {row:?}");
            badtx += 1;
            continue;
        }
        assert!(sane(&tx), "{row:?}");
        let flags = Flags::parse_list(flag_str).unwrap();
        assert!(verify_all(&tx, &spent, flags).is_err(), "{row:?}");
        // Adding any flag must not make an invalid transaction valid.
        for (name, f) in Flags::NAMED {
            let more = fill(flags | *f);
            assert!(
                verify_all(&tx, &spent, more).is_err(),
                "with {name}: {row:?}"
            );
            runs += 1;
        }
        runs += 1;
    }
    println!("tx_invalid.json: {rows} transactions invalid ({badtx} by sanity checks, the rest under {runs} flag sets)");
    assert!(rows >= 90);
}

#[test]
fn sighash_json() {
    let mut ran = 0;
    for row in json("sighash.json") {
        let row = row.as_array().unwrap();
        if row.len() == 1 {
            continue;
        }
        let tx = Transaction::decode(&hex(row[0].as_str().unwrap())).unwrap();
        let script = hex(row[1].as_str().unwrap());
        let index = row[2].as_u64().unwrap() as usize;
        let hash_type = row[3].as_i64().unwrap() as i32;
        let got = Hash256(legacy_sighash(&tx, index, &script, hash_type));
        assert_eq!(got.to_string(), row[4].as_str().unwrap(), "{row:?}");
        ran += 1;
    }
    println!("sighash.json: {ran} legacy signature hashes match");
    assert_eq!(ran, 500);
}

#[test]
fn taproot_reference_cases() {
    let dir = common::vectors_dir().join("taproot-ref");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let (mut success, mut failure) = (0, 0);
    for path in &names {
        let text = std::fs::read_to_string(path).unwrap();
        let case: Value = serde_json::from_str(text.trim_end().trim_end_matches(',')).unwrap();
        let mut tx = Transaction::decode(&hex(case["tx"].as_str().unwrap())).unwrap();
        let spent: Vec<TxOut> = case["prevouts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| TxOut::decode(&hex(p.as_str().unwrap())).unwrap())
            .collect();
        let index = case["index"].as_u64().unwrap() as usize;
        let flags = Flags::parse_list(case["flags"].as_str().unwrap()).unwrap();
        let comment = case["comment"].as_str().unwrap_or("");
        for (key, expect_ok) in [("success", true), ("failure", false)] {
            let Some(spend) = case.get(key) else { continue };
            tx.inputs[index].script_sig = hex(spend["scriptSig"].as_str().unwrap());
            tx.inputs[index].witness = spend["witness"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| hex(w.as_str().unwrap()))
                .collect();
            let got = TxVerifier::new(&tx, &spent).verify_input(index, flags);
            assert_eq!(
                got.is_ok(),
                expect_ok,
                "{} ({comment}) {key}: {got:?}",
                path.display()
            );
            if expect_ok {
                success += 1;
            } else {
                failure += 1;
            }
        }
    }
    println!(
        "taproot-ref: {} cases, {success} success spends valid, {failure} failure spends invalid",
        names.len()
    );
    assert_eq!(names.len(), 2760);
}
