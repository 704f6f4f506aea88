//! Script interpreter fuzzer: mutates real spends (Bitcoin Core's taproot reference cases,
//! which cover legacy, P2SH, segwit v0 and taproot inputs) and random scripts, runs
//! `TxVerifier::verify_input` under random flags, and reports panics, slow executions and,
//! with the `bitcoinconsensus` feature, verdicts that differ from Bitcoin Core's.
//!
//! Usage: `script [SECONDS] [SEED]` (defaults: 60 seconds, seed from the clock).

use rbtcd_core::primitives::hash::{hex_decode, hex_encode};
use rbtcd_core::primitives::{Decodable, Encodable, Transaction, TxOut};
use rbtcd_core::script::{Flags, TxVerifier};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// splitmix64: small, fast and reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// One input spend to mutate.
#[derive(Clone)]
struct Case {
    tx: Transaction,
    spent: Vec<TxOut>,
    index: usize,
}

fn hex(s: &str) -> Vec<u8> {
    hex_decode(s).expect("corpus hex")
}

/// The success and failure spends of every taproot reference case.
fn load_corpus() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/taproot-ref");
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

fn mutate_bytes(rng: &mut Rng, v: &mut Vec<u8>) {
    match rng.below(8) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = rng.byte();
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
            let n = if rng.chance(4) {
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
            push.extend((0..n).map(|_| rng.byte()));
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

fn mutate(rng: &mut Rng, case: &mut Case) {
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
                .push((0..rng.below(40)).map(|_| rng.byte()).collect()),
            1 if !input.witness.is_empty() => {
                let i = rng.below(input.witness.len());
                input.witness.remove(i);
            }
            _ => input.witness.clear(),
        },
        8 => match rng.below(4) {
            0 => case.tx.lock_time = rng.next() as u32,
            1 => input.sequence = rng.next() as u32,
            2 => case.tx.version = rng.below(4) as i32,
            _ => case.spent[case.index].value = (rng.next() % 5_000_000_000) as i64,
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
fn random_flags(rng: &mut Rng, consensus_only: bool) -> Flags {
    let names: Vec<Flags> = if consensus_only {
        CONSENSUS.to_vec()
    } else {
        Flags::NAMED.iter().map(|(_, f)| *f).collect()
    };
    let mut f = names
        .iter()
        .filter(|_| rng.chance(2) || rng.chance(2))
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
fn core_verdict(case: &Case, flags: Flags) -> Option<bool> {
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
fn core_verdict(_: &Case, _: Flags) -> Option<bool> {
    None
}

/// Everything needed to replay one execution.
fn describe(case: &Case, flags: Flags) -> String {
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

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(60, |s| s.parse().expect("SECONDS"));
    let seed: u64 = args.next().map_or_else(
        || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64
        },
        |s| s.parse().expect("SEED"),
    );
    let corpus = load_corpus();
    let mut rng = Rng(seed);
    let compare = cfg!(feature = "bitcoinconsensus");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut execs, mut panics, mut valid, mut compared, mut mismatches) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut slowest = Duration::ZERO;
    let mut slowest_case = String::new();
    // Keep going from interesting mutants: a mutant that still verifies replaces its parent.
    let mut pool = corpus.clone();
    // Panics are counted and reported here, not printed by the default hook per occurrence.
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < deadline {
        let parent = rng.below(pool.len());
        let mut case = pool[parent].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut case);
        }
        let consensus_only = compare && rng.chance(2);
        let flags = random_flags(&mut rng, consensus_only);
        let started = Instant::now();
        let verdict = catch_unwind(AssertUnwindSafe(|| {
            TxVerifier::new(&case.tx, &case.spent).verify_input(case.index, flags)
        }));
        let took = started.elapsed();
        if took > slowest {
            slowest = took;
            slowest_case = describe(&case, flags);
        }
        execs += 1;
        match verdict {
            Err(_) => {
                panics += 1;
                eprintln!("PANIC: {}", describe(&case, flags));
            }
            Ok(result) => {
                if result.is_ok() {
                    valid += 1;
                    if rng.chance(8) {
                        pool.push(case.clone());
                    }
                }
                if let Some(core) = consensus_only.then(|| core_verdict(&case, flags)).flatten() {
                    compared += 1;
                    if core != result.is_ok() {
                        mismatches += 1;
                        eprintln!("MISMATCH ours {result:?}: {}", describe(&case, flags));
                    }
                }
            }
        }
    }
    let reference = if compare {
        format!("{mismatches} verdict mismatches vs libbitcoinconsensus in {compared} compared")
    } else {
        "no reference (build with --features bitcoinconsensus to compare)".to_string()
    };
    println!(
        "script fuzz: seed {seed}, {execs} execs in {seconds}s ({}/s) from {} corpus spends, {valid} valid, {panics} panics, {reference}, slowest exec {:.1} ms",
        execs / seconds.max(1),
        corpus.len(),
        slowest.as_secs_f64() * 1e3
    );
    eprintln!("slowest: {slowest_case}");
    if panics > 0 || mismatches > 0 {
        std::process::exit(1);
    }
}
