//! proptest strategies for transactions, blocks and every wire message, shared by the wire
//! property tests and the differential tests against rust-bitcoin.
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Union;
use rbtcd_core::primitives::{Block, BlockHeader, Hash256, OutPoint, Transaction, TxIn, TxOut};
use rbtcd_core::wire::cfilters::{
    CFCheckptMessage, CFHeadersMessage, CFilterMessage, CFilterRangeRequest, GetCFCheckptMessage,
};
use rbtcd_core::wire::locator::BlockLocatorMessage;
use rbtcd_core::wire::merkle_block::MerkleBlockMessage;
use rbtcd_core::wire::reject::{RejectCode, RejectMessage};
use rbtcd_core::wire::{
    AddrV2, AddrV2Entry, Command, InvType, Inventory, Message, NetAddress, ServiceFlags,
    TimestampedAddress, VersionMessage,
};
use std::net::Ipv6Addr;

pub fn hash() -> impl Strategy<Value = Hash256> {
    any::<[u8; 32]>().prop_map(Hash256)
}

pub fn header() -> impl Strategy<Value = BlockHeader> {
    (
        any::<i32>(),
        hash(),
        hash(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(version, prev_blockhash, merkle_root, time, bits, nonce)| BlockHeader {
                version,
                prev_blockhash,
                merkle_root,
                time,
                bits,
                nonce,
            },
        )
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn txin(witness: bool) -> impl Strategy<Value = TxIn> {
    let w = if witness { 0..4usize } else { 0..1usize };
    (
        hash(),
        any::<u32>(),
        bytes(40),
        any::<u32>(),
        vec(bytes(80), w),
    )
        .prop_map(|(txid, vout, script_sig, sequence, witness)| TxIn {
            prevout: OutPoint::new(txid, vout),
            script_sig,
            sequence,
            witness,
        })
}

/// Transactions with at least one input (zero inputs is the segwit marker on the wire),
/// with and without witness data.
pub fn transaction() -> impl Strategy<Value = Transaction> {
    any::<bool>().prop_flat_map(|w| {
        (
            any::<i32>(),
            vec(txin(w), 1..4),
            vec((any::<i64>(), bytes(40)), 0..4),
            any::<u32>(),
        )
            .prop_map(|(version, inputs, outputs, lock_time)| Transaction {
                version,
                inputs,
                outputs: outputs
                    .into_iter()
                    .map(|(value, script_pubkey)| TxOut {
                        value,
                        script_pubkey,
                    })
                    .collect(),
                lock_time,
            })
    })
}

pub fn block() -> impl Strategy<Value = Block> {
    (header(), vec(transaction(), 0..4)).prop_map(|(header, txdata)| Block { header, txdata })
}

pub fn services() -> impl Strategy<Value = ServiceFlags> {
    any::<u64>().prop_map(ServiceFlags)
}

pub fn net_address() -> impl Strategy<Value = NetAddress> {
    (services(), any::<[u8; 16]>(), any::<u16>()).prop_map(|(services, ip, port)| NetAddress {
        services,
        ip: Ipv6Addr::from(ip),
        port,
    })
}

pub fn version() -> impl Strategy<Value = VersionMessage> {
    (
        (any::<i32>(), services(), any::<i64>()),
        (net_address(), net_address(), any::<u64>()),
        ("[ -~]{0,40}", any::<i32>(), any::<bool>()),
    )
        .prop_map(
            |(
                (version, services, timestamp),
                (receiver, sender, nonce),
                (user_agent, start_height, relay),
            )| {
                VersionMessage {
                    version,
                    services,
                    timestamp,
                    receiver,
                    sender,
                    nonce,
                    user_agent,
                    start_height,
                    relay,
                }
            },
        )
}

pub fn addr_v2() -> impl Strategy<Value = AddrV2> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(AddrV2::Ipv4),
        any::<[u8; 16]>().prop_map(AddrV2::Ipv6),
        any::<[u8; 10]>().prop_map(AddrV2::TorV2),
        any::<[u8; 32]>().prop_map(AddrV2::TorV3),
        any::<[u8; 32]>().prop_map(AddrV2::I2p),
        any::<[u8; 16]>().prop_map(AddrV2::Cjdns),
        (7u8.., bytes(40)).prop_map(|(network, bytes)| AddrV2::Unknown { network, bytes }),
    ]
}

pub fn addr_v2_entry() -> impl Strategy<Value = AddrV2Entry> {
    (any::<u32>(), services(), addr_v2(), any::<u16>()).prop_map(|(time, services, addr, port)| {
        AddrV2Entry {
            time,
            services,
            addr,
            port,
        }
    })
}

pub fn inv_type() -> impl Strategy<Value = InvType> {
    prop_oneof![
        Just(InvType::TX),
        Just(InvType::BLOCK),
        Just(InvType::WTX),
        Just(InvType::WITNESS_TX),
        Just(InvType::WITNESS_BLOCK),
        any::<u32>().prop_map(InvType),
    ]
}

pub fn inventory() -> impl Strategy<Value = Vec<Inventory>> {
    vec(
        (inv_type(), hash()).prop_map(|(inv_type, hash)| Inventory { inv_type, hash }),
        0..6,
    )
}

pub fn locator() -> impl Strategy<Value = BlockLocatorMessage> {
    (any::<u32>(), vec(hash(), 0..6), hash()).prop_map(|(version, locator, stop_hash)| {
        BlockLocatorMessage {
            version,
            locator,
            stop_hash,
        }
    })
}

pub fn timestamped_addresses() -> impl Strategy<Value = Vec<TimestampedAddress>> {
    vec(
        (any::<u32>(), net_address()).prop_map(|(time, addr)| TimestampedAddress { time, addr }),
        0..5,
    )
}

fn reject() -> impl Strategy<Value = RejectMessage> {
    (
        prop_oneof![
            Just("block".to_string()),
            Just("tx".to_string()),
            Just("version".to_string()),
            "[a-z]{0,12}",
        ],
        any::<u8>(),
        "[ -~]{0,30}",
        hash(),
    )
        .prop_map(|(message, code, reason, hash)| {
            let hash = if message == "block" || message == "tx" {
                hash
            } else {
                Hash256::ZERO
            };
            RejectMessage {
                message,
                code: RejectCode(code),
                reason,
                hash,
            }
        })
}

fn range_request() -> impl Strategy<Value = CFilterRangeRequest> {
    (any::<u8>(), any::<u32>(), hash()).prop_map(|(filter_type, start_height, stop_hash)| {
        CFilterRangeRequest {
            filter_type,
            start_height,
            stop_hash,
        }
    })
}

/// A command name we do not know (so it decodes to `Message::Unknown`).
pub fn unknown_command() -> impl Strategy<Value = String> {
    "[a-z0-9]{0,12}".prop_filter("known command", |c| Command::from_name(c).is_none())
}

/// Any message, every variant reachable.
pub fn message() -> impl Strategy<Value = Message> {
    let simple = prop_oneof![
        Just(Message::Verack),
        Just(Message::SendAddrV2),
        Just(Message::GetAddr),
        Just(Message::SendHeaders),
        Just(Message::MemPool),
        Just(Message::WtxidRelay),
    ];
    Union::new(vec![
        simple.boxed(),
        version().prop_map(Message::Version).boxed(),
        any::<u64>().prop_map(Message::Ping).boxed(),
        any::<u64>().prop_map(Message::Pong).boxed(),
        timestamped_addresses().prop_map(Message::Addr).boxed(),
        vec(addr_v2_entry(), 0..5).prop_map(Message::AddrV2).boxed(),
        inventory().prop_map(Message::Inv).boxed(),
        inventory().prop_map(Message::GetData).boxed(),
        inventory().prop_map(Message::NotFound).boxed(),
        locator().prop_map(Message::GetBlocks).boxed(),
        locator().prop_map(Message::GetHeaders).boxed(),
        vec(header(), 0..5).prop_map(Message::Headers).boxed(),
        block().prop_map(Message::Block).boxed(),
        transaction().prop_map(Message::Tx).boxed(),
        any::<i64>().prop_map(Message::FeeFilter).boxed(),
        reject().prop_map(Message::Reject).boxed(),
        (any::<bool>(), any::<u64>())
            .prop_map(|(announce, version)| Message::SendCmpct { announce, version })
            .boxed(),
        (header(), any::<u32>(), vec(hash(), 0..5), bytes(10))
            .prop_map(|(header, total_transactions, hashes, flags)| {
                Message::MerkleBlock(MerkleBlockMessage {
                    header,
                    total_transactions,
                    hashes,
                    flags,
                })
            })
            .boxed(),
        range_request().prop_map(Message::GetCFilters).boxed(),
        range_request().prop_map(Message::GetCFHeaders).boxed(),
        (any::<u8>(), hash(), bytes(100))
            .prop_map(|(filter_type, block_hash, filter)| {
                Message::CFilter(CFilterMessage {
                    filter_type,
                    block_hash,
                    filter,
                })
            })
            .boxed(),
        (any::<u8>(), hash(), hash(), vec(hash(), 0..5))
            .prop_map(
                |(filter_type, stop_hash, prev_filter_header, filter_hashes)| {
                    Message::CFHeaders(CFHeadersMessage {
                        filter_type,
                        stop_hash,
                        prev_filter_header,
                        filter_hashes,
                    })
                },
            )
            .boxed(),
        (any::<u8>(), hash())
            .prop_map(|(filter_type, stop_hash)| {
                Message::GetCFCheckpt(GetCFCheckptMessage {
                    filter_type,
                    stop_hash,
                })
            })
            .boxed(),
        (any::<u8>(), hash(), vec(hash(), 0..5))
            .prop_map(|(filter_type, stop_hash, filter_headers)| {
                Message::CFCheckpt(CFCheckptMessage {
                    filter_type,
                    stop_hash,
                    filter_headers,
                })
            })
            .boxed(),
        (unknown_command(), bytes(60))
            .prop_map(|(command, payload)| Message::Unknown { command, payload })
            .boxed(),
    ])
}
