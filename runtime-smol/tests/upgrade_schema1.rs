//! The upgrade from the first layout (blocks and undo data inside LMDB) to flat block files,
//! from a data directory written by rbtcd before the change (`tests/data/README.md`): the
//! daemon opens it, moves the blocks out, and serves and extends the same chain.

mod common;

use common::log_text;
use common::rpc::Daemon;
use rbtcd_core::chain::builder::{branch, spending_chain};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{hash::hex_encode, Encodable};
use serde_json::json;
use std::io::Read;

/// The fixture's chain: 130 blocks with spends, and a two-block side branch at 128.
const HEIGHT: u32 = 130;

#[test]
fn a_schema_1_data_directory_is_upgraded_and_keeps_its_chain() {
    let params = Params::new(Network::Regtest);
    let blocks = spending_chain(&params, HEIGHT + 1, 3);
    let side = branch(&params, &blocks[127], 129, 2, b"side");

    let mut d = Daemon::start("upgrade", &["--txindex"]);
    d.stop();
    let db = d.home.join(".rbtcd/data/regtest/blocks_lmdb");
    std::fs::remove_dir_all(&db).unwrap();
    std::fs::create_dir_all(&db).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/schema1-regtest.data.mdb.bz2");
    let mut data = Vec::new();
    bzip2::read::BzDecoder::new(std::fs::File::open(fixture).unwrap())
        .read_to_end(&mut data)
        .unwrap();
    std::fs::write(db.join("data.mdb"), data).unwrap();

    d.relaunch(&["--txindex"]);
    assert!(log_text(&d.home).contains("Upgrading database to schema 2"));
    assert!(db.join("blk00000.dat").exists() && db.join("rev00000.dat").exists());
    assert_eq!(d.ok("getblockcount", json!([])), json!(HEIGHT));
    let tip = blocks[HEIGHT as usize - 1].block_hash().to_string();
    assert_eq!(d.ok("getbestblockhash", json!([])), json!(tip));
    // Every block, main and side, reads back byte for byte from the files.
    for b in blocks[..HEIGHT as usize].iter().chain(&side) {
        let hash = b.block_hash().to_string();
        let hex = d.ok("getblock", json!([hash, 0]));
        assert_eq!(hex, json!(hex_encode(&b.encode())), "block {hash}");
    }
    // The UTXO set and the transaction index came along.
    let spend = &blocks[120].txdata[1];
    let raw = d.ok("getrawtransaction", json!([spend.txid().to_string()]));
    assert_eq!(raw, json!(hex_encode(&spend.encode())));
    let coinbase = blocks[HEIGHT as usize - 1].txdata[0].txid().to_string();
    assert!(d.ok("gettxout", json!([coinbase, 0]))["value"].is_number());
    let spent = blocks[0].txdata[0].txid().to_string();
    assert!(
        d.ok("gettxout", json!([spent, 0])).is_null(),
        "spent by block 101"
    );

    // Disconnecting needs the moved undo data: invalidating the tip moves to the side branch
    // of equal work (disconnecting 130 and 129), and invalidating that comes back.
    let side_tip = side[1].block_hash().to_string();
    d.ok("invalidateblock", json!([tip]));
    assert_eq!(d.ok("getbestblockhash", json!([])), json!(side_tip));
    d.ok("reconsiderblock", json!([tip]));
    assert_eq!(
        d.ok("getbestblockhash", json!([])),
        json!(side_tip),
        "equal work: no switch"
    );
    d.ok("invalidateblock", json!([side[0].block_hash().to_string()]));
    assert_eq!(d.ok("getbestblockhash", json!([])), json!(tip));

    // Upgraded once: a restart does not upgrade again, and the chain grows on.
    d.restart(&["--txindex"]);
    let upgrades = log_text(&d.home)
        .matches("Upgrading database to schema 2")
        .count();
    assert_eq!(upgrades, 1);
    let next = hex_encode(&blocks[HEIGHT as usize].encode());
    assert!(d.ok("submitblock", json!([next])).is_null());
    assert_eq!(d.ok("getblockcount", json!([])), json!(HEIGHT + 1));
}
