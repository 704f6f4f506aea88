//! The wire decoder's case: a byte stream of frames (valid frames of every message kind,
//! mutated, payloads usually re-checksummed so the payload decoders are reached, mixed with
//! noise). Oracles: no panic; the same bytes give the same results however they are chunked;
//! whatever decodes re-encodes to a frame that decodes to the same message.

use crate::{mutate, Source};
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{BlockHeader, Hash256, OutPoint, Transaction, TxIn, TxOut};
use rbtcd_core::wire::cfilters::{
    CFCheckptMessage, CFHeadersMessage, CFilterMessage, CFilterRangeRequest, GetCFCheckptMessage,
};
use rbtcd_core::wire::locator::BlockLocatorMessage;
use rbtcd_core::wire::merkle_block::MerkleBlockMessage;
use rbtcd_core::wire::reject::{RejectCode, RejectMessage};
use rbtcd_core::wire::{
    encode_message, AddrV2, AddrV2Entry, Decoder, InvType, Inventory, Message, NetAddress,
    ServiceFlags, TimestampedAddress, VersionMessage, WireError,
};

/// One valid message of every kind, the starting points for mutation.
pub fn seeds(params: &Params) -> Vec<Message> {
    let addr = NetAddress::new("203.0.113.7:8333".parse().unwrap(), ServiceFlags::NETWORK);
    let h = |b: u8| Hash256([b; 32]);
    let witness_tx = Transaction {
        version: 2,
        inputs: vec![TxIn {
            prevout: OutPoint::new(h(3), 1),
            script_sig: vec![],
            sequence: 0xffff_fffd,
            witness: vec![vec![0x30; 71], vec![0x02; 33]],
        }],
        outputs: vec![TxOut {
            value: 50_000,
            script_pubkey: vec![
                0x00, 0x14, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            ],
        }],
        lock_time: 0,
    };
    let mut block = params.genesis.clone();
    block.txdata.push(witness_tx.clone());
    let header: BlockHeader = params.genesis.header;
    let inv = vec![
        Inventory {
            inv_type: InvType::WITNESS_TX,
            hash: h(1),
        },
        Inventory {
            inv_type: InvType::BLOCK,
            hash: h(2),
        },
    ];
    let locator = BlockLocatorMessage {
        version: 70016,
        locator: vec![h(4), h(5)],
        stop_hash: Hash256::ZERO,
    };
    vec![
        Message::Version(VersionMessage {
            version: 70016,
            services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
            timestamp: 1_700_000_000,
            receiver: addr,
            sender: addr,
            nonce: 42,
            user_agent: "/btcwire:0.5.0/rbtcd:0.1.0/".into(),
            start_height: 800_000,
            relay: true,
        }),
        Message::Verack,
        Message::Ping(7),
        Message::Pong(7),
        Message::Addr(vec![TimestampedAddress { time: 1, addr }; 3]),
        Message::AddrV2(vec![
            AddrV2Entry {
                time: 1,
                services: ServiceFlags::NETWORK,
                addr: AddrV2::Ipv4([1, 2, 3, 4]),
                port: 8333,
            },
            AddrV2Entry {
                time: 2,
                services: ServiceFlags::NONE,
                addr: AddrV2::TorV3([9; 32]),
                port: 9050,
            },
            AddrV2Entry {
                time: 3,
                services: ServiceFlags::NONE,
                addr: AddrV2::Unknown {
                    network: 42,
                    bytes: vec![1; 20],
                },
                port: 1,
            },
        ]),
        Message::SendAddrV2,
        Message::GetAddr,
        Message::Inv(inv.clone()),
        Message::GetData(inv.clone()),
        Message::NotFound(inv),
        Message::GetBlocks(locator.clone()),
        Message::GetHeaders(locator),
        Message::Headers(vec![header, header]),
        Message::SendHeaders,
        Message::Block(block),
        Message::Tx(witness_tx),
        Message::MemPool,
        Message::FeeFilter(1000),
        Message::Reject(RejectMessage {
            message: "tx".into(),
            code: RejectCode::DUST,
            reason: "dust".into(),
            hash: h(6),
        }),
        Message::WtxidRelay,
        Message::SendCmpct {
            announce: false,
            version: 2,
        },
        Message::MerkleBlock(MerkleBlockMessage {
            header,
            total_transactions: 3,
            hashes: vec![h(7), h(8)],
            flags: vec![0x1d],
        }),
        Message::GetCFilters(CFilterRangeRequest {
            filter_type: 0,
            start_height: 100,
            stop_hash: h(9),
        }),
        Message::CFilter(CFilterMessage {
            filter_type: 0,
            block_hash: h(9),
            filter: vec![1, 0xfa, 0x11],
        }),
        Message::GetCFHeaders(CFilterRangeRequest {
            filter_type: 0,
            start_height: 100,
            stop_hash: h(9),
        }),
        Message::CFHeaders(CFHeadersMessage {
            filter_type: 0,
            stop_hash: h(9),
            prev_filter_header: h(10),
            filter_hashes: vec![h(11); 3],
        }),
        Message::GetCFCheckpt(GetCFCheckptMessage {
            filter_type: 0,
            stop_hash: h(9),
        }),
        Message::CFCheckpt(CFCheckptMessage {
            filter_type: 0,
            stop_hash: h(9),
            filter_headers: vec![h(12); 2],
        }),
        Message::Unknown {
            command: "filterload".into(),
            payload: vec![1, 2, 3],
        },
    ]
}

/// The payload of every seed message, by command: what [`input`] builds frames from.
pub fn seed_frames(params: &Params) -> Vec<(String, Vec<u8>)> {
    seeds(params)
        .iter()
        .map(|m| {
            let mut p = Vec::new();
            m.encode_payload(&mut p);
            (m.command().to_string(), p)
        })
        .collect()
}

/// Rewrites each frame's length and checksum to fit its (mutated) payload.
fn reframe(magic: [u8; 4], command: &str, payload: &[u8]) -> Vec<u8> {
    encode_message(
        magic,
        &Message::Unknown {
            command: command.to_string(),
            payload: payload.to_vec(),
        },
    )
}

/// Builds one input: a few frames, mutated, sometimes with noise in between.
pub fn input(rng: &mut impl Source, magic: [u8; 4], frames: &[(String, Vec<u8>)]) -> Vec<u8> {
    if rng.one_in(20) {
        let n = rng.below(300);
        return rng.bytes(n);
    }
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let (command, payload) = &frames[rng.below(frames.len())];
        let mut payload = payload.clone();
        if rng.one_in(4) {
            // Mutate the whole frame: header fields, checksum, everything.
            let mut framed = reframe(magic, command, &payload);
            mutate(rng, &mut framed);
            out.extend(framed);
        } else {
            if !rng.one_in(5) {
                mutate(rng, &mut payload);
            }
            out.extend(reframe(magic, command, &payload));
        }
        if rng.one_in(10) {
            let n = rng.below(40);
            out.extend(rng.bytes(n));
        }
    }
    out
}

fn decode(
    magic: [u8; 4],
    chunks: impl Iterator<Item = Vec<u8>>,
) -> Vec<Result<Message, WireError>> {
    let mut d = Decoder::new(magic);
    let mut out = Vec::new();
    for c in chunks {
        d.push(&c);
        while let Some(m) = d.pull() {
            out.push(m);
        }
    }
    out
}

/// Runs the oracles on one input, panicking on any violation; returns how many errors the
/// decoder reported.
pub fn check(rng: &mut impl Source, magic: [u8; 4], data: &[u8]) -> usize {
    let whole = decode(magic, std::iter::once(data.to_vec()));
    let mut chunks = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = (1 + rng.below(64)).min(rest.len());
        chunks.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let chunked = decode(magic, chunks.into_iter());
    assert_eq!(whole, chunked, "chunking changed the result");
    let errors = whole.iter().filter(|r| r.is_err()).count();
    for m in whole.into_iter().flatten() {
        let again = decode(magic, std::iter::once(encode_message(magic, &m)));
        assert_eq!(again, vec![Ok(m)], "decoded message does not round-trip");
    }
    errors
}
