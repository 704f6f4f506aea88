//! Real mainnet blocks through the script interpreter: blocks 1..=255 with their spent outputs
//! built from the earlier blocks, and block 277647 with btcd's stored utxo set.

mod common;

use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, Hash256, OutPoint, TxOut};
use rbtcd_core::script::{flags_for_height, SigCache, TxVerifier};
use std::collections::BTreeMap;

/// Verifies every non-coinbase input of `block` against `utxos`, adding each transaction's
/// outputs as it goes so later transactions in the block can spend them. Returns how many
/// inputs were verified.
fn verify_block(block: &Block, height: u32, utxos: &mut BTreeMap<OutPoint, TxOut>) -> usize {
    let flags = flags_for_height(&Params::new(Network::Mainnet), height);
    let mut verified = 0;
    for tx in &block.txdata {
        let txid = tx.txid();
        if !tx.is_coinbase() {
            let spent: Vec<TxOut> = tx
                .inputs
                .iter()
                .map(|i| {
                    utxos.remove(&i.prevout).unwrap_or_else(|| {
                        panic!("block {height}: {txid} spends unknown {:?}", i.prevout)
                    })
                })
                .collect();
            TxVerifier::new(tx, &spent)
                .verify_all(flags)
                .unwrap_or_else(|(i, e)| panic!("block {height}: {txid} input {i}: {e}"));
            verified += spent.len();
        }
        for (vout, out) in tx.outputs.iter().enumerate() {
            utxos.insert(OutPoint::new(txid, vout as u32), out.clone());
        }
    }
    verified
}

#[test]
fn mainnet_blocks_1_to_255_script_validate() {
    let mut utxos = BTreeMap::new();
    let mut inputs = 0;
    let blocks = common::blocks("blocks1-256.bz2");
    for (i, block) in blocks.iter().enumerate() {
        inputs += verify_block(block, i as u32 + 1, &mut utxos);
    }
    println!(
        "blocks 1..={}: {inputs} spending inputs script-validated",
        blocks.len()
    );
    // Block 170 holds the first spend (Satoshi to Hal Finney); a handful more follow.
    assert!(inputs >= 1, "the file spends coins");
}

/// btcd's VLQ: seven bits a byte, most significant first, each continuation adding one.
fn read_vlq(data: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    loop {
        let b = data[*pos];
        *pos += 1;
        n = (n << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return n;
        }
        n += 1;
    }
}

/// Inverse of btcd's (and Core's) amount compression.
fn decompress_amount(x: u64) -> i64 {
    if x == 0 {
        return 0;
    }
    let mut x = x - 1;
    let e = x % 10;
    x /= 10;
    let mut n = if e < 9 {
        let d = x % 9 + 1;
        x /= 9;
        x * 10 + d
    } else {
        x + 1
    };
    for _ in 0..e {
        n *= 10;
    }
    n as i64
}

/// Inverse of btcd's script compression (special forms 0..=5, else raw with length + 6).
fn decompress_script(data: &[u8], pos: &mut usize) -> Vec<u8> {
    let kind = read_vlq(data, pos);
    let take = |pos: &mut usize, n: usize| {
        let v = data[*pos..*pos + n].to_vec();
        *pos += n;
        v
    };
    match kind {
        0 => [&[0x76, 0xa9, 20][..], &take(pos, 20), &[0x88, 0xac]].concat(),
        1 => [&[0xa9, 20][..], &take(pos, 20), &[0x87]].concat(),
        2 | 3 => [&[33, kind as u8][..], &take(pos, 32), &[0xac]].concat(),
        4 | 5 => {
            let compressed = [&[kind as u8 - 2][..], &take(pos, 32)].concat();
            let key =
                secp256k1::PublicKey::from_slice(&compressed).expect("stored key is on the curve");
            [&[65][..], &key.serialize_uncompressed(), &[0xac]].concat()
        }
        n => take(pos, n as usize - 6),
    }
}

/// The utxostore records: txid, index, length, compressed entry.
fn load_utxostore(name: &str) -> BTreeMap<OutPoint, TxOut> {
    let data = common::read_bz2(name);
    let mut out = BTreeMap::new();
    let mut pos = 0;
    while pos < data.len() {
        let txid = Hash256(data[pos..pos + 32].try_into().unwrap());
        let index = u32::from_le_bytes(data[pos + 32..pos + 36].try_into().unwrap());
        let len = u32::from_le_bytes(data[pos + 36..pos + 40].try_into().unwrap()) as usize;
        let entry = &data[pos + 40..pos + 40 + len];
        let mut p = 0;
        let _height_and_coinbase = read_vlq(entry, &mut p);
        let value = decompress_amount(read_vlq(entry, &mut p));
        let script_pubkey = decompress_script(entry, &mut p);
        assert_eq!(p, len, "utxo entry fully decoded");
        out.insert(
            OutPoint::new(txid, index),
            TxOut {
                value,
                script_pubkey,
            },
        );
        pos += 40 + len;
    }
    out
}

#[test]
fn block_277647_validates_with_its_utxo_set() {
    let mut utxos = load_utxostore("277647.utxostore.bz2");
    let stored = utxos.len();
    let block = &common::blocks("277647.dat.bz2")[0];
    let inputs = verify_block(block, 277_647, &mut utxos);
    println!(
        "block 277647: {} transactions, {inputs} inputs script-validated against {stored} stored outputs",
        block.txdata.len()
    );
    let total: usize = block.txdata.iter().skip(1).map(|t| t.inputs.len()).sum();
    assert_eq!(inputs, total);

    // The same spend with one signature byte changed must fail.
    let stored = load_utxostore("277647.utxostore.bz2");
    let mut tx = block.txdata[1].clone();
    let spent: Vec<TxOut> = tx
        .inputs
        .iter()
        .map(|i| stored[&i.prevout].clone())
        .collect();
    tx.inputs[0].script_sig[10] ^= 1;
    let flags = flags_for_height(&Params::new(Network::Mainnet), 277_647);
    assert!(TxVerifier::new(&tx, &spent).verify_input(0, flags).is_err());
}

#[test]
fn signature_cache_fills_on_block_277647_and_never_turns_a_bad_spend_good() {
    let stored = load_utxostore("277647.utxostore.bz2");
    let block = &common::blocks("277647.dat.bz2")[0];
    let flags = flags_for_height(&Params::new(Network::Mainnet), 277_647);
    let cache = SigCache::new(100_000);
    let txs: Vec<_> = block
        .txdata
        .iter()
        .skip(1)
        .filter(|tx| tx.inputs.iter().all(|i| stored.contains_key(&i.prevout)))
        .collect();
    let mut inputs = 0;
    let mut sizes = Vec::new();
    for pass in 0..2 {
        for tx in &txs {
            let spent: Vec<TxOut> = tx
                .inputs
                .iter()
                .map(|i| stored[&i.prevout].clone())
                .collect();
            TxVerifier::new(tx, &spent)
                .with_sig_cache(&cache, true)
                .verify_all(flags)
                .unwrap_or_else(|(i, e)| panic!("pass {pass}: input {i}: {e}"));
            inputs += spent.len();
        }
        sizes.push(cache.len());
    }
    let filled = cache.len();
    // Every input checked at least one signature; the second pass only hit the cache.
    assert!(
        filled >= inputs / 2,
        "{filled} cached for {} inputs",
        inputs / 2
    );
    assert_eq!(sizes[0], sizes[1]);
    let mut bad = txs[0].clone();
    let spent: Vec<TxOut> = bad
        .inputs
        .iter()
        .map(|i| stored[&i.prevout].clone())
        .collect();
    bad.inputs[0].script_sig[10] ^= 1;
    let verifier = TxVerifier::new(&bad, &spent).with_sig_cache(&cache, true);
    assert!(verifier.verify_input(0, flags).is_err());
    assert_eq!(cache.len(), filled);
    println!("signature cache: {filled} entries after verifying {inputs} inputs twice");
}

#[test]
fn vlq_and_amount_codecs_match_btcd_examples() {
    // From btcd's compress.go documentation.
    for (bytes, n) in [
        (&[0x7f][..], 127u64),
        (&[0x80, 0x00], 128),
        (&[0xff, 0x7f], 16511),
        (&[0x80, 0x80, 0x00], 16512),
    ] {
        let mut p = 0;
        assert_eq!(read_vlq(bytes, &mut p), n);
    }
    assert_eq!(decompress_amount(0x9), 100_000_000);
    assert_eq!(decompress_amount(0x32), 5_000_000_000);
}
