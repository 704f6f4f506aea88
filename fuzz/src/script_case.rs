//! The script interpreter's case: one input spend (from Bitcoin Core's taproot reference
//! cases, which cover legacy, P2SH, segwit v0 and taproot inputs, or a random script pair),
//! mutated, verified by `TxVerifier::verify_input` under random flags; with the
//! `bitcoinconsensus` feature the verdict under consensus flags is compared with Core's.

use crate::vectors::vectors_dir;
use crate::Source;
use rbtcd_core::primitives::hash::{hex_decode, hex_encode};
use rbtcd_core::primitives::{Decodable, Encodable, Transaction, TxOut};
use rbtcd_core::script::Flags;

/// One input spend to mutate.
#[derive(Clone)]
pub struct Case {
    /// The spending transaction.
    pub tx: Transaction,
    /// The outputs its inputs spend.
    pub spent: Vec<TxOut>,
    /// The input checked.
    pub index: usize,
}

fn hex(s: &str) -> Vec<u8> {
    hex_decode(s).expect("corpus hex")
}

/// The success and failure spends of every taproot reference case.
pub fn load_corpus() -> Vec<Case> {
    let dir = vectors_dir().join("taproot-ref");
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let text = std::fs::read_to_string(entry.expect("dir entry").path()).expect("corpus file");
        let v: serde_json::Value =
            serde_json::from_str(text.trim_end().trim_end_matches(',')).expect("json");
        let tx = Transaction::decode(&hex(v["tx"].as_str().expect("tx"))).expect("corpus tx");
        let spent: Vec<TxOut> = v["prevouts"]
            .as_array()
            .expect("prevouts")
            .iter()
            .map(|p| TxOut::decode(&hex(p.as_str().expect("prevout"))).expect("prevout decodes"))
            .collect();
        let index = v["index"].as_u64().expect("index") as usize;
        for key in ["success", "failure"] {
            if let Some(spend) = v.get(key) {
                let mut tx = tx.clone();
                tx.inputs[index].script_sig = hex(spend["scriptSig"].as_str().expect("scriptSig"));
                tx.inputs[index].witness = spend["witness"]
                    .as_array()
                    .expect("witness")
                    .iter()
                    .map(|w| hex(w.as_str().expect("item")))
                    .collect();
                out.push(Case {
                    tx,
                    spent: spent.clone(),
                    index,
                });
            }
        }
    }
    out
}

/// Opcodes worth inserting more often than uniformly random bytes would.
const INTERESTING: &[u8] = &[
    0x00, 0x4c, 0x4d, 0x4e, 0x4f, 0x51, 0x60, 0x63, 0x64, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x73,
    0x74, 0x76, 0x79, 0x7a, 0x7c, 0x82, 0x87, 0x88, 0x8b, 0x93, 0x9c, 0xa5, 0xa9, 0xab, 0xac, 0xad,
    0xae, 0xaf, 0xb1, 0xb2, 0xba, 0x50, 0x62, 0x65, 0xff,
];

fn mutate_bytes(rng: &mut impl Source, v: &mut Vec<u8>) {
    match rng.below(8) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = rng.next_u64() as u8;
        }
        2 => {
            let i = rng.below(v.len() + 1);
            v.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
        }
        3 if !v.is_empty() => {
            let a = rng.below(v.len());
            let b = (a + 1 + rng.below(8)).min(v.len());
            v.drain(a..b);
        }
        4 if !v.is_empty() => {
            let a = rng.below(v.len());
            let b = (a + 1 + rng.below(40)).min(v.len());
            let chunk = v[a..b].to_vec();
            let at = rng.below(v.len() + 1);
            v.splice(at..at, chunk);
        }
        5 => {
            // A data push of random length, sometimes near the 520-byte element limit.
            let n = if rng.one_in(4) {
                515 + rng.below(10)
            } else {
                rng.below(80)
            };
            let i = rng.below(v.len() + 1);
            let mut push = match n {
                0..=75 => vec![n as u8],
                76..=255 => vec![0x4c, n as u8],
                _ => vec![0x4d, n as u8, (n >> 8) as u8],
            };
            push.extend((0..n).map(|_| rng.next_u64() as u8));
            v.splice(i..i, push);
        }
        6 => v.truncate(rng.below(v.len() + 1)),
        _ => {
            // Repeat an opcode many times: stresses op-count, stack-size and sigop limits.
            let op = INTERESTING[rng.below(INTERESTING.len())];
            let i = rng.below(v.len() + 1);
            let n = 1 + rng.below(300);
            v.splice(i..i, std::iter::repeat_n(op, n));
        }
    }
}

pub fn mutate(rng: &mut impl Source, case: &mut Case) {
    let input = &mut case.tx.inputs[case.index];
    match rng.below(10) {
        0 | 1 => mutate_bytes(rng, &mut input.script_sig),
        2 | 3 => mutate_bytes(rng, &mut case.spent[case.index].script_pubkey),
        4..=6 if !input.witness.is_empty() => {
            let i = rng.below(input.witness.len());
            mutate_bytes(rng, &mut input.witness[i]);
        }
        7 => match rng.below(3) {
            0 => input
                .witness
                .push((0..rng.below(40)).map(|_| rng.next_u64() as u8).collect()),
            1 if !input.witness.is_empty() => {
                let i = rng.below(input.witness.len());
                input.witness.remove(i);
            }
            _ => input.witness.clear(),
        },
        8 => match rng.below(4) {
            0 => case.tx.lock_time = rng.next_u64() as u32,
            1 => input.sequence = rng.next_u64() as u32,
            2 => case.tx.version = rng.below(4) as i32,
            _ => case.spent[case.index].value = (rng.next_u64() % 5_000_000_000) as i64,
        },
        _ => {
            // A fresh random script pair over the same transaction.
            let mut sig = Vec::new();
            let mut spk = Vec::new();
            for _ in 0..1 + rng.below(6) {
                mutate_bytes(rng, &mut sig);
                mutate_bytes(rng, &mut spk);
            }
            input.script_sig = sig;
            case.spent[case.index].script_pubkey = spk;
        }
    }
}

/// The flags libbitcoinconsensus accepts (consensus rules only).
const CONSENSUS: [Flags; 7] = [
    Flags::P2SH,
    Flags::DERSIG,
    Flags::NULLDUMMY,
    Flags::CHECKLOCKTIMEVERIFY,
    Flags::CHECKSEQUENCEVERIFY,
    Flags::WITNESS,
    Flags::TAPROOT,
];

/// Random flags; consensus-only ones when the verdict is to be compared with Core's.
pub fn random_flags(rng: &mut impl Source, consensus_only: bool) -> Flags {
    let names: Vec<Flags> = if consensus_only {
        CONSENSUS.to_vec()
    } else {
        Flags::NAMED.iter().map(|(_, f)| *f).collect()
    };
    let mut f = names
        .iter()
        .filter(|_| rng.one_in(2) || rng.one_in(2))
        .fold(Flags::NONE, |a, f| a | *f);
    // Core requires CLEANSTACK with WITNESS, WITNESS and TAPROOT with P2SH.
    if f.contains(Flags::CLEANSTACK) {
        f |= Flags::WITNESS;
    }
    if f.contains(Flags::WITNESS) || f.contains(Flags::TAPROOT) {
        f |= Flags::P2SH | Flags::WITNESS;
    }
    f
}

/// Bitcoin Core's verdict on the spend, when built with the `bitcoinconsensus` feature.
#[cfg(feature = "bitcoinconsensus")]
pub fn core_verdict(case: &Case, flags: Flags) -> Option<bool> {
    let utxos: Vec<bitcoinconsensus::Utxo> = case
        .spent
        .iter()
        .map(|o| bitcoinconsensus::Utxo {
            script_pubkey: o.script_pubkey.as_ptr(),
            script_pubkey_len: o.script_pubkey.len() as u32,
            value: o.value,
        })
        .collect();
    let spent = &case.spent[case.index];
    bitcoinconsensus::verify_with_flags(
        &spent.script_pubkey,
        spent.value as u64,
        &case.tx.encode(),
        Some(&utxos),
        case.index,
        flags.0,
    )
    .is_ok()
    .into()
}

/// Without the feature there is no reference to compare with.
#[cfg(not(feature = "bitcoinconsensus"))]
pub fn core_verdict(_: &Case, _: Flags) -> Option<bool> {
    None
}

/// Everything needed to replay one execution.
pub fn describe(case: &Case, flags: Flags) -> String {
    format!(
        "tx {} spent {:?} index {} flags {:#x}",
        hex_encode(&case.tx.encode()),
        case.spent
            .iter()
            .map(|o| hex_encode(&o.encode()))
            .collect::<Vec<_>>(),
        case.index,
        flags.0
    )
}

/// One execution: a spend of `corpus` chosen and mutated by `src`, verified under flags it
/// picks. Panics when, under consensus flags, the verdict differs from Bitcoin Core's (with
/// the `bitcoinconsensus` feature).
pub fn verify_once(src: &mut impl Source, corpus: &[Case]) {
    let mut case = corpus[src.below(corpus.len())].clone();
    for _ in 0..1 + src.below(4) {
        mutate(src, &mut case);
    }
    let consensus_only = cfg!(feature = "bitcoinconsensus") && src.one_in(2);
    let flags = random_flags(src, consensus_only);
    let verdict =
        rbtcd_core::script::TxVerifier::new(&case.tx, &case.spent).verify_input(case.index, flags);
    if let Some(core) = consensus_only.then(|| core_verdict(&case, flags)).flatten() {
        assert_eq!(
            core,
            verdict.is_ok(),
            "ours {verdict:?}: {}",
            describe(&case, flags)
        );
    }
}
