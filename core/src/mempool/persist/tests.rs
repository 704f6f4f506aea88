use super::*;
use crate::primitives::{OutPoint, TxIn, TxOut};

fn tx(n: u8, witness: bool) -> Transaction {
    Transaction {
        version: 2,
        inputs: vec![TxIn {
            prevout: OutPoint {
                txid: crate::primitives::Hash256([n; 32]),
                vout: u32::from(n),
            },
            script_sig: vec![],
            sequence: 0xffff_fffd,
            witness: if witness { vec![vec![n; 3]] } else { vec![] },
        }],
        outputs: vec![TxOut {
            value: 1000 * i64::from(n),
            script_pubkey: vec![0x51],
        }],
        lock_time: 0,
    }
}

fn sample() -> MempoolFile {
    MempoolFile {
        txs: vec![
            SavedTx {
                tx: tx(1, true),
                time: 1_700_000_000,
                fee_delta: 0,
            },
            SavedTx {
                tx: tx(2, false),
                time: 1_700_000_005,
                fee_delta: -7,
            },
        ],
        deltas: vec![(crate::primitives::Hash256([9; 32]), 500)],
        unbroadcast: vec![tx(1, true).txid()],
    }
}

#[test]
fn both_versions_read_back_what_was_written() {
    let pool = sample();
    for key in [None, Some([1, 2, 3, 4, 5, 6, 7, 0xff])] {
        let bytes = pool.encode(key);
        assert_eq!(MempoolFile::decode(&bytes).unwrap(), pool, "key {key:?}");
    }
}

#[test]
fn version_two_obfuscates_by_file_offset_as_core() {
    // An empty pool: version 2, the key as an 8-byte vector, then the zero count (u64) and the
    // two empty collections, each byte XORed with the key byte of its file offset (17 on).
    let key = [0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87];
    let bytes = MempoolFile::default().encode(Some(key));
    let mut expected = vec![2, 0, 0, 0, 0, 0, 0, 0, 8];
    expected.extend_from_slice(&key);
    expected.extend((17..27).map(|p| key[p % 8]));
    assert_eq!(bytes, expected);
    // And a transaction's bytes do not appear as they are.
    let plain = tx(3, true).encode();
    let one = MempoolFile {
        txs: vec![SavedTx {
            tx: tx(3, true),
            time: 0,
            fee_delta: 0,
        }],
        ..Default::default()
    };
    let written = one.encode(Some(key));
    assert!(!written.windows(plain.len()).any(|w| w == plain));
    assert!(one.encode(None).windows(plain.len()).any(|w| w == plain));
}

#[test]
fn damaged_files_are_refused_with_the_reason() {
    let bytes = sample().encode(Some([7; 8]));
    assert_eq!(
        MempoolFile::decode(&3u64.to_le_bytes()),
        Err(MempoolFileError::Version(3))
    );
    let mut short_key = 2u64.to_le_bytes().to_vec();
    short_key.extend_from_slice(&[4, 1, 2, 3, 4]);
    assert_eq!(
        MempoolFile::decode(&short_key),
        Err(MempoolFileError::KeyLength(4))
    );
    for cut in [0, 5, 12, 30, bytes.len() - 1] {
        assert!(
            matches!(
                MempoolFile::decode(&bytes[..cut]),
                Err(MempoolFileError::Decode(_))
            ),
            "cut at {cut}"
        );
    }
    // A count far beyond the file is refused before anything is reserved for it.
    let mut huge = 1u64.to_le_bytes().to_vec();
    huge.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        MempoolFile::decode(&huge),
        Err(MempoolFileError::Decode(
            DecodeError::CountExceedsInput { .. }
        ))
    ));
}

proptest::proptest! {
    #[test]
    fn any_bytes_decode_or_fail_without_panicking(bytes in proptest::collection::vec(0u8..=255, 0..200)) {
        let _ = MempoolFile::decode(&bytes);
    }
}
