//! Every message a btcd full node speaks, and how each payload is encoded and decoded.

use super::address::{
    AddrV2Entry, TimestampedAddress, MIN_ADDRV2_ENTRY_SIZE, TIMESTAMPED_ADDRESS_SIZE,
};
use super::cfilters::{
    CFCheckptMessage, CFHeadersMessage, CFilterMessage, CFilterRangeRequest, GetCFCheckptMessage,
};
use super::command::Command;
use super::error::{PayloadError, WireError};
use super::inventory::Inventory;
use super::list::{read_list, write_list};
use super::locator::BlockLocatorMessage;
use super::merkle_block::MerkleBlockMessage;
use super::protocol::{
    INV_VECT_SIZE, MAX_ADDR_PER_MSG, MAX_BLOCK_HEADERS_PER_MSG, MAX_INV_PER_MSG,
};
use super::reject::RejectMessage;
use super::version::VersionMessage;
use crate::primitives::block::HEADER_SIZE;
use crate::primitives::encode::write_compact_size;
use crate::primitives::{Block, BlockHeader, Decodable, Encodable, Reader, Transaction};

/// A decoded peer-to-peer message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Message {
    /// Opens the handshake.
    Version(VersionMessage),
    /// Acknowledges a version.
    Verack,
    /// Keep-alive with a nonce to echo (BIP31).
    Ping(u64),
    /// Echo of a ping's nonce.
    Pong(u64),
    /// Known peer addresses, legacy form.
    Addr(Vec<TimestampedAddress>),
    /// Known peer addresses, BIP155 form.
    AddrV2(Vec<AddrV2Entry>),
    /// Asks for addrv2 instead of addr (BIP155; sent before verack).
    SendAddrV2,
    /// Asks for known addresses.
    GetAddr,
    /// Announces objects.
    Inv(Vec<Inventory>),
    /// Requests objects.
    GetData(Vec<Inventory>),
    /// Answers a getdata for objects we do not have.
    NotFound(Vec<Inventory>),
    /// Asks for an inv of the blocks after a locator.
    GetBlocks(BlockLocatorMessage),
    /// Asks for the headers after a locator.
    GetHeaders(BlockLocatorMessage),
    /// Block headers (each followed on the wire by a zero transaction count).
    Headers(Vec<BlockHeader>),
    /// Asks for new blocks to be announced by headers (BIP130).
    SendHeaders,
    /// A block.
    Block(Block),
    /// A transaction.
    Tx(Transaction),
    /// Asks for an inv of the mempool (BIP35).
    MemPool,
    /// The lowest fee rate, in satoshis per kilobyte, the sender wants relayed (BIP133).
    FeeFilter(i64),
    /// A rejection notice (BIP61).
    Reject(RejectMessage),
    /// Asks for transactions to be announced by wtxid (BIP339; sent before verack).
    WtxidRelay,
    /// Compact block negotiation (BIP152).
    SendCmpct {
        /// Whether to announce new blocks with cmpctblock.
        announce: bool,
        /// Compact block protocol version.
        version: u64,
    },
    /// A filtered block (BIP37).
    MerkleBlock(MerkleBlockMessage),
    /// Asks for compact filters (BIP157).
    GetCFilters(CFilterRangeRequest),
    /// One compact filter (BIP157).
    CFilter(CFilterMessage),
    /// Asks for compact filter headers (BIP157).
    GetCFHeaders(CFilterRangeRequest),
    /// Compact filter headers (BIP157).
    CFHeaders(CFHeadersMessage),
    /// Asks for filter header checkpoints (BIP157).
    GetCFCheckpt(GetCFCheckptMessage),
    /// Filter header checkpoints (BIP157).
    CFCheckpt(CFCheckptMessage),
    /// A command we do not know; its payload is kept uninterpreted. A command longer than 12
    /// bytes cannot be framed and is cut to 12 on encoding (decoding never produces one).
    Unknown {
        /// The command name, without its NUL padding.
        command: String,
        /// The raw payload.
        payload: Vec<u8>,
    },
}

impl Message {
    /// The known command, or `None` for [`Message::Unknown`].
    pub fn known_command(&self) -> Option<Command> {
        Some(match self {
            Message::Version(_) => Command::Version,
            Message::Verack => Command::Verack,
            Message::Ping(_) => Command::Ping,
            Message::Pong(_) => Command::Pong,
            Message::Addr(_) => Command::Addr,
            Message::AddrV2(_) => Command::AddrV2,
            Message::SendAddrV2 => Command::SendAddrV2,
            Message::GetAddr => Command::GetAddr,
            Message::Inv(_) => Command::Inv,
            Message::GetData(_) => Command::GetData,
            Message::NotFound(_) => Command::NotFound,
            Message::GetBlocks(_) => Command::GetBlocks,
            Message::GetHeaders(_) => Command::GetHeaders,
            Message::Headers(_) => Command::Headers,
            Message::SendHeaders => Command::SendHeaders,
            Message::Block(_) => Command::Block,
            Message::Tx(_) => Command::Tx,
            Message::MemPool => Command::MemPool,
            Message::FeeFilter(_) => Command::FeeFilter,
            Message::Reject(_) => Command::Reject,
            Message::WtxidRelay => Command::WtxidRelay,
            Message::SendCmpct { .. } => Command::SendCmpct,
            Message::MerkleBlock(_) => Command::MerkleBlock,
            Message::GetCFilters(_) => Command::GetCFilters,
            Message::CFilter(_) => Command::CFilter,
            Message::GetCFHeaders(_) => Command::GetCFHeaders,
            Message::CFHeaders(_) => Command::CFHeaders,
            Message::GetCFCheckpt(_) => Command::GetCFCheckpt,
            Message::CFCheckpt(_) => Command::CFCheckpt,
            Message::Unknown { .. } => return None,
        })
    }

    /// The command name in the frame header.
    pub fn command(&self) -> &str {
        match self {
            Message::Unknown { command, .. } => command,
            known => known.known_command().map_or("", Command::name),
        }
    }

    /// Appends the payload (everything after the frame header).
    pub fn encode_payload(&self, out: &mut Vec<u8>) {
        match self {
            Message::Version(v) => v.encode_to(out),
            Message::Verack
            | Message::SendAddrV2
            | Message::GetAddr
            | Message::SendHeaders
            | Message::MemPool
            | Message::WtxidRelay => {}
            Message::Ping(n) | Message::Pong(n) => out.extend_from_slice(&n.to_le_bytes()),
            Message::Addr(list) => write_list(out, list),
            Message::AddrV2(list) => write_list(out, list),
            Message::Inv(list) | Message::GetData(list) | Message::NotFound(list) => {
                write_list(out, list)
            }
            Message::GetBlocks(l) | Message::GetHeaders(l) => l.encode_to(out),
            Message::Headers(headers) => {
                write_compact_size(out, headers.len() as u64);
                for h in headers {
                    h.encode_to(out);
                    out.push(0);
                }
            }
            Message::Block(b) => b.encode_to(out),
            Message::Tx(t) => t.encode_to(out),
            Message::FeeFilter(rate) => out.extend_from_slice(&rate.to_le_bytes()),
            Message::Reject(r) => r.encode_to(out),
            Message::SendCmpct { announce, version } => {
                out.push(*announce as u8);
                out.extend_from_slice(&version.to_le_bytes());
            }
            Message::MerkleBlock(m) => m.encode_to(out),
            Message::GetCFilters(q) | Message::GetCFHeaders(q) => q.encode_to(out),
            Message::CFilter(f) => f.encode_to(out),
            Message::CFHeaders(h) => h.encode_to(out),
            Message::GetCFCheckpt(q) => q.encode_to(out),
            Message::CFCheckpt(c) => c.encode_to(out),
            Message::Unknown { payload, .. } => out.extend_from_slice(payload),
        }
    }

    /// Decodes the payload of a message named `command`. The payload must be consumed exactly;
    /// unknown commands are not an error.
    pub fn decode_payload(command: &str, payload: &[u8]) -> Result<Message, WireError> {
        let Some(known) = Command::from_name(command) else {
            return Ok(Message::Unknown {
                command: command.to_string(),
                payload: payload.to_vec(),
            });
        };
        let mut r = Reader::new(payload);
        decode_known(known, &mut r)
            .and_then(|m| {
                r.finish()?;
                Ok(m)
            })
            .map_err(|reason| WireError::Malformed {
                command: known.name(),
                reason,
            })
    }
}

fn decode_known(command: Command, r: &mut Reader<'_>) -> Result<Message, PayloadError> {
    Ok(match command {
        Command::Version => Message::Version(VersionMessage::read(r)?),
        Command::Verack => Message::Verack,
        Command::SendAddrV2 => Message::SendAddrV2,
        Command::GetAddr => Message::GetAddr,
        Command::SendHeaders => Message::SendHeaders,
        Command::MemPool => Message::MemPool,
        Command::WtxidRelay => Message::WtxidRelay,
        Command::Ping => Message::Ping(r.u64_le()?),
        Command::Pong => Message::Pong(r.u64_le()?),
        Command::Addr => Message::Addr(read_list(r, TIMESTAMPED_ADDRESS_SIZE, MAX_ADDR_PER_MSG)?),
        Command::AddrV2 => {
            let n = r.count(MIN_ADDRV2_ENTRY_SIZE, MAX_ADDR_PER_MSG as u64)?;
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                list.push(AddrV2Entry::read(r)?);
            }
            Message::AddrV2(list)
        }
        Command::Inv => Message::Inv(read_list(r, INV_VECT_SIZE, MAX_INV_PER_MSG)?),
        Command::GetData => Message::GetData(read_list(r, INV_VECT_SIZE, MAX_INV_PER_MSG)?),
        Command::NotFound => Message::NotFound(read_list(r, INV_VECT_SIZE, MAX_INV_PER_MSG)?),
        Command::GetBlocks => Message::GetBlocks(BlockLocatorMessage::decode_from(r)?),
        Command::GetHeaders => Message::GetHeaders(BlockLocatorMessage::decode_from(r)?),
        Command::Headers => {
            let n = r.count(HEADER_SIZE + 1, MAX_BLOCK_HEADERS_PER_MSG as u64)?;
            let mut headers = Vec::with_capacity(n);
            for _ in 0..n {
                headers.push(BlockHeader::decode_from(r)?);
                let txs = r.compact_size_raw()?;
                if txs != 0 {
                    return Err(PayloadError::HeaderWithTransactions(txs));
                }
            }
            Message::Headers(headers)
        }
        Command::Block => Message::Block(Block::decode_from(r)?),
        Command::Tx => Message::Tx(Transaction::decode_from(r)?),
        Command::FeeFilter => Message::FeeFilter(r.i64_le()?),
        Command::Reject => Message::Reject(RejectMessage::decode_from(r)?),
        Command::SendCmpct => Message::SendCmpct {
            announce: r.u8()? != 0,
            version: r.u64_le()?,
        },
        Command::MerkleBlock => Message::MerkleBlock(MerkleBlockMessage::decode_from(r)?),
        Command::GetCFilters => Message::GetCFilters(CFilterRangeRequest::decode_from(r)?),
        Command::CFilter => Message::CFilter(CFilterMessage::decode_from(r)?),
        Command::GetCFHeaders => Message::GetCFHeaders(CFilterRangeRequest::decode_from(r)?),
        Command::CFHeaders => Message::CFHeaders(CFHeadersMessage::decode_from(r)?),
        Command::GetCFCheckpt => Message::GetCFCheckpt(GetCFCheckptMessage::decode_from(r)?),
        Command::CFCheckpt => Message::CFCheckpt(CFCheckptMessage::decode_from(r)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{DecodeError, Hash256};
    use crate::wire::address::{AddrV2, NetAddress};
    use crate::wire::framing::{encode_message, Decoder};
    use crate::wire::inventory::InvType;
    use crate::wire::protocol::{
        ServiceFlags, MAX_ADDRV2_SIZE, MAX_BLOCK_LOCATORS_PER_MSG, MAX_CFCHECKPT_HEADERS,
        MAX_CFHEADERS_PER_MSG, MAX_CFILTER_DATA_SIZE, MAX_USER_AGENT_LEN,
    };
    use std::net::Ipv6Addr;

    const MAGIC: [u8; 4] = [1, 2, 3, 4];

    fn through_decoder(m: &Message) -> Result<Message, WireError> {
        let mut d = Decoder::new(MAGIC);
        d.push(&encode_message(MAGIC, m));
        d.pull().expect("one frame")
    }

    /// The largest message of each counted kind, with every field at its maximum.
    fn largest(command: Command, extra: usize) -> Message {
        let inv = |n| {
            vec![
                Inventory {
                    inv_type: InvType::WITNESS_BLOCK,
                    hash: Hash256([7; 32])
                };
                n
            ]
        };
        let hashes = |n| vec![Hash256([9; 32]); n];
        let addr = NetAddress {
            services: ServiceFlags(u64::MAX),
            ip: Ipv6Addr::LOCALHOST,
            port: 1,
        };
        match command {
            Command::Inv => Message::Inv(inv(MAX_INV_PER_MSG + extra)),
            Command::Addr => Message::Addr(vec![
                TimestampedAddress { time: 1, addr };
                MAX_ADDR_PER_MSG + extra
            ]),
            Command::AddrV2 => Message::AddrV2(vec![
                AddrV2Entry {
                    time: 1,
                    services: ServiceFlags(u64::MAX),
                    addr: AddrV2::Unknown {
                        network: 200,
                        bytes: vec![1; MAX_ADDRV2_SIZE]
                    },
                    port: 2,
                };
                MAX_ADDR_PER_MSG + extra
            ]),
            Command::GetHeaders => Message::GetHeaders(BlockLocatorMessage {
                version: 1,
                locator: hashes(MAX_BLOCK_LOCATORS_PER_MSG + extra),
                stop_hash: Hash256::ZERO,
            }),
            Command::Headers => Message::Headers(vec![
                BlockHeader::default();
                MAX_BLOCK_HEADERS_PER_MSG + extra
            ]),
            Command::CFHeaders => Message::CFHeaders(CFHeadersMessage {
                filter_type: 0,
                stop_hash: Hash256::ZERO,
                prev_filter_header: Hash256::ZERO,
                filter_hashes: hashes(MAX_CFHEADERS_PER_MSG + extra),
            }),
            Command::CFCheckpt => Message::CFCheckpt(CFCheckptMessage {
                filter_type: 0,
                stop_hash: Hash256::ZERO,
                filter_headers: hashes(MAX_CFCHECKPT_HEADERS + extra),
            }),
            Command::CFilter => Message::CFilter(CFilterMessage {
                filter_type: 0,
                block_hash: Hash256::ZERO,
                filter: vec![3; MAX_CFILTER_DATA_SIZE + extra],
            }),
            Command::Version => Message::Version(VersionMessage {
                version: 70016,
                services: ServiceFlags(u64::MAX),
                timestamp: 0,
                receiver: addr,
                sender: addr,
                nonce: 0,
                user_agent: "u".repeat(MAX_USER_AGENT_LEN + extra),
                start_height: 0,
                relay: true,
            }),
            other => unreachable!("{other:?} has no counted field"),
        }
    }

    #[test]
    fn largest_allowed_messages_fit_their_limits_and_one_more_item_does_not() {
        for command in [
            Command::Inv,
            Command::Addr,
            Command::AddrV2,
            Command::GetHeaders,
            Command::Headers,
            Command::CFHeaders,
            Command::CFCheckpt,
            Command::CFilter,
            Command::Version,
        ] {
            let max = largest(command, 0);
            let mut payload = Vec::new();
            max.encode_payload(&mut payload);
            assert!(payload.len() as u32 <= command.max_payload(), "{command:?}");
            assert_eq!(through_decoder(&max).as_ref(), Ok(&max), "{command:?}");

            // One item too many fails on the count (or the user agent length) even when
            // the frame itself is within limits.
            let over = largest(command, 1);
            let mut payload = Vec::new();
            over.encode_payload(&mut payload);
            let err = Message::decode_payload(command.name(), &payload).unwrap_err();
            let WireError::Malformed { reason, .. } = err else {
                panic!("{command:?}: {err:?}");
            };
            assert!(
                matches!(
                    reason,
                    PayloadError::Decode(DecodeError::CountTooLarge { .. })
                        | PayloadError::UserAgentTooLong(_)
                ),
                "{command:?}: {reason:?}"
            );
        }
    }
}
