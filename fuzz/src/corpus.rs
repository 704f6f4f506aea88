//! Seed corpora for the libFuzzer targets, made from the shared test vectors
//! (`../shared/vectors/`) and from recorded runs of the seeded cases, written to
//! `fuzz/corpus/<target>/` by `cargo run -p rbtcd-fuzz --bin seed_corpora` (see the README).

use crate::node_case::{run_case, world};
use crate::script_case::{load_corpus, verify_once};
use crate::vectors::{blocks, vectors_dir};
use crate::wire_case::seeds;
use crate::{Recorder, Rng};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::{hex_decode, hex_encode};
use rbtcd_core::primitives::{Decodable, Encodable, Transaction};
use rbtcd_core::wire::{encode_message, Message};
use serde_json::{json, Value};
use std::path::Path;

/// Recorded cases per target made from seeded runs.
const RECORDED: u64 = 200;

/// The transactions of `tx_valid.json` and `tx_invalid.json` that decode.
pub fn vector_transactions() -> Vec<Transaction> {
    ["tx_valid.json", "tx_invalid.json"]
        .iter()
        .flat_map(|name| {
            let path = vectors_dir().join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let rows: Vec<Value> = serde_json::from_str(&text).expect("vector json");
            rows.into_iter()
                .filter_map(|row| {
                    let hex = row.get(1)?.as_str()?;
                    Transaction::decode(&hex_decode(hex).ok()?).ok()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(dir.join(name), data)
}

/// Wire frames: one of every message kind, real mainnet blocks, headers and transactions.
fn wire_corpus(dir: &Path) -> std::io::Result<usize> {
    let params = Params::new(Network::Mainnet);
    let blocks = blocks("blocks1-256.bz2");
    let mut msgs = seeds(&params);
    msgs.extend(blocks.iter().step_by(16).map(|b| Message::Block(b.clone())));
    msgs.push(Message::Headers(blocks.iter().map(|b| b.header).collect()));
    msgs.extend(vector_transactions().into_iter().map(Message::Tx));
    for (i, m) in msgs.iter().enumerate() {
        write(
            dir,
            &format!("msg-{i:04}"),
            &encode_message(params.magic, m),
        )?;
    }
    Ok(msgs.len())
}

/// Writes [`RECORDED`] runs of `case`, each on a seeded generator whose choices are recorded
/// as the input that replays it, named `<prefix>-<seed>`.
fn recorded(
    dir: &Path,
    prefix: &str,
    mut case: impl FnMut(&mut Recorder<Rng>),
) -> std::io::Result<usize> {
    for seed in 0..RECORDED {
        let mut rec = Recorder::new(Rng::new(seed));
        case(&mut rec);
        write(dir, &format!("{prefix}-{seed:04}"), &rec.tape)?;
    }
    Ok(RECORDED as usize)
}

/// Node cases recorded from seeded runs (handshakes, messages of every kind, floods).
fn node_corpus(dir: &Path) -> std::io::Result<usize> {
    let w = world();
    recorded(dir, "case", |rec| {
        run_case(rec, &w);
    })
}

/// Script executions recorded from seeded runs over the taproot reference spends.
fn script_corpus(dir: &Path) -> std::io::Result<usize> {
    let corpus = load_corpus();
    recorded(dir, "spend", |rec| verify_once(rec, &corpus))
}

/// A JSON-RPC body per method, with parameters from the vectors, for the admin (control byte
/// 0) and a few for the limited user.
fn rpc_corpus(dir: &Path) -> std::io::Result<usize> {
    let block = &blocks("blocks1-256.bz2")[0];
    let tx = vector_transactions().remove(0);
    let hash = block.block_hash().to_string();
    let calls: Vec<(&str, Value)> = vec![
        ("getblockcount", json!([])),
        ("getbestblock", json!([])),
        ("getblockchaininfo", json!([])),
        ("getblockhash", json!([5])),
        ("getblockhash", json!([-1])),
        ("getblock", json!([hash, 2])),
        ("getblockheader", json!([hash, true])),
        ("getheaders", json!([[hash], ""])),
        ("getchaintips", json!([])),
        ("getdifficulty", json!([])),
        ("getnetworkhashps", json!([120, -1])),
        ("getmininginfo", json!([])),
        ("getblocktemplate", json!([{"rules": ["segwit"]}])),
        ("submitblock", json!([hex_encode(&block.encode())])),
        ("sendrawtransaction", json!([hex_encode(&tx.encode())])),
        ("decoderawtransaction", json!([hex_encode(&tx.encode())])),
        ("testmempoolaccept", json!([[hex_encode(&tx.encode())]])),
        (
            "decodescript",
            json!(["76a914000000000000000000000000000000000000000088ac"]),
        ),
        (
            "createrawtransaction",
            json!([[{"txid": hash, "vout": 0}], {"mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc": 1.5}]),
        ),
        ("getrawmempool", json!([true])),
        ("gettxout", json!([hash, 0, true])),
        (
            "validateaddress",
            json!(["mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc"]),
        ),
        (
            "verifymessage",
            json!(["mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc", "c2ln", "msg"]),
        ),
        ("estimatefee", json!([6])),
        ("generate", json!([1])),
        ("setgenerate", json!([false, 1])),
        ("invalidateblock", json!([hash])),
        ("reconsiderblock", json!([hash])),
        ("verifychain", json!([4, 100])),
        ("getpeerinfo", json!([])),
        ("getnettotals", json!([])),
        ("addnode", json!(["127.0.0.1:1", "add"])),
        ("node", json!(["connect", "127.0.0.1:1", "perm"])),
        ("getnodeaddresses", json!([10])),
        ("ping", json!([])),
        ("help", json!(["getblock"])),
        ("getinfo", json!([])),
        ("uptime", json!([])),
        ("version", json!([])),
    ];
    let mut n = 0;
    for (i, (method, params)) in calls.iter().enumerate() {
        let body = json!({"jsonrpc": "1.0", "id": i, "method": method, "params": params});
        let mut data = vec![0u8];
        data.extend(serde_json::to_vec(&body).expect("json"));
        write(dir, &format!("call-{i:03}"), &data)?;
        n += 1;
    }
    let batch: Vec<Value> = calls
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, (m, p))| json!({"jsonrpc": "2.0", "id": i, "method": m, "params": p}))
        .collect();
    for control in 0..4u8 {
        let mut data = vec![control];
        data.extend(serde_json::to_vec(&batch).expect("json"));
        write(dir, &format!("batch-{control}"), &data)?;
        n += 1;
    }
    Ok(n)
}

/// Writes every target's seed corpus under `root` (`root/<target>/`); returns each target's
/// name with the number of inputs written.
pub fn write_all(root: &Path) -> std::io::Result<Vec<(&'static str, usize)>> {
    type Writer = fn(&Path) -> std::io::Result<usize>;
    let targets: [(&'static str, Writer); 4] = [
        ("wire_frames", wire_corpus),
        ("node_inputs", node_corpus),
        ("script_spend", script_corpus),
        ("rpc_json", rpc_corpus),
    ];
    let mut written = Vec::new();
    for (name, writer) in targets {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        written.push((name, writer(&dir)?));
    }
    Ok(written)
}
