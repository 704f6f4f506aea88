//! The commands rbtcd understands, their names and the payload limit btcd gives each.

use super::address::TIMESTAMPED_ADDRESS_SIZE;
use super::protocol::*;
use crate::primitives::block::HEADER_SIZE;

/// A known command. Anything else decodes to [`super::Message::Unknown`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Command {
    /// `version`
    Version,
    /// `verack`
    Verack,
    /// `ping`
    Ping,
    /// `pong`
    Pong,
    /// `addr`
    Addr,
    /// `addrv2`
    AddrV2,
    /// `sendaddrv2`
    SendAddrV2,
    /// `getaddr`
    GetAddr,
    /// `inv`
    Inv,
    /// `getdata`
    GetData,
    /// `notfound`
    NotFound,
    /// `getblocks`
    GetBlocks,
    /// `getheaders`
    GetHeaders,
    /// `headers`
    Headers,
    /// `sendheaders`
    SendHeaders,
    /// `block`
    Block,
    /// `tx`
    Tx,
    /// `mempool`
    MemPool,
    /// `feefilter`
    FeeFilter,
    /// `reject`
    Reject,
    /// `wtxidrelay`
    WtxidRelay,
    /// `sendcmpct`
    SendCmpct,
    /// `merkleblock`
    MerkleBlock,
    /// `getcfilters`
    GetCFilters,
    /// `cfilter`
    CFilter,
    /// `getcfheaders`
    GetCFHeaders,
    /// `cfheaders`
    CFHeaders,
    /// `getcfcheckpt`
    GetCFCheckpt,
    /// `cfcheckpt`
    CFCheckpt,
}

/// Largest payload of a getblocks/getheaders message.
const LOCATOR_MESSAGE_MAX: usize = 4 + MAX_VAR_INT_SIZE + MAX_BLOCK_LOCATORS_PER_MSG * 32 + 32;
/// Largest payload of an inv/getdata/notfound message.
const INV_MESSAGE_MAX: usize = MAX_VAR_INT_SIZE + MAX_INV_PER_MSG * INV_VECT_SIZE;
/// Largest addrv2 entry: time, 9-byte services, network id, 3-byte length, 512 bytes, port.
const MAX_ADDRV2_ENTRY_SIZE: usize = 4 + MAX_VAR_INT_SIZE + 1 + 3 + MAX_ADDRV2_SIZE + 2;

impl Command {
    /// Every known command.
    pub const ALL: [Command; 29] = [
        Command::Version,
        Command::Verack,
        Command::Ping,
        Command::Pong,
        Command::Addr,
        Command::AddrV2,
        Command::SendAddrV2,
        Command::GetAddr,
        Command::Inv,
        Command::GetData,
        Command::NotFound,
        Command::GetBlocks,
        Command::GetHeaders,
        Command::Headers,
        Command::SendHeaders,
        Command::Block,
        Command::Tx,
        Command::MemPool,
        Command::FeeFilter,
        Command::Reject,
        Command::WtxidRelay,
        Command::SendCmpct,
        Command::MerkleBlock,
        Command::GetCFilters,
        Command::CFilter,
        Command::GetCFHeaders,
        Command::CFHeaders,
        Command::GetCFCheckpt,
        Command::CFCheckpt,
    ];

    /// The name in the frame header.
    pub fn name(self) -> &'static str {
        match self {
            Command::Version => "version",
            Command::Verack => "verack",
            Command::Ping => "ping",
            Command::Pong => "pong",
            Command::Addr => "addr",
            Command::AddrV2 => "addrv2",
            Command::SendAddrV2 => "sendaddrv2",
            Command::GetAddr => "getaddr",
            Command::Inv => "inv",
            Command::GetData => "getdata",
            Command::NotFound => "notfound",
            Command::GetBlocks => "getblocks",
            Command::GetHeaders => "getheaders",
            Command::Headers => "headers",
            Command::SendHeaders => "sendheaders",
            Command::Block => "block",
            Command::Tx => "tx",
            Command::MemPool => "mempool",
            Command::FeeFilter => "feefilter",
            Command::Reject => "reject",
            Command::WtxidRelay => "wtxidrelay",
            Command::SendCmpct => "sendcmpct",
            Command::MerkleBlock => "merkleblock",
            Command::GetCFilters => "getcfilters",
            Command::CFilter => "cfilter",
            Command::GetCFHeaders => "getcfheaders",
            Command::CFHeaders => "cfheaders",
            Command::GetCFCheckpt => "getcfcheckpt",
            Command::CFCheckpt => "cfcheckpt",
        }
    }

    /// The command with this name, if known.
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The longest payload this command may carry at [`PROTOCOL_VERSION`], as btcd's
    /// `MaxPayloadLength`; a header claiming more is rejected before the payload is read.
    pub fn max_payload(self) -> u32 {
        let n = match self {
            Command::Verack
            | Command::SendAddrV2
            | Command::GetAddr
            | Command::SendHeaders
            | Command::MemPool
            | Command::WtxidRelay => 0,
            Command::Ping | Command::Pong | Command::FeeFilter => 8,
            // version, services, timestamp, two addresses (btcd counts them with the 4-byte
            // timestamp they do not carry here), nonce, user agent, height, relay.
            Command::Version => {
                4 + 8
                    + 8
                    + 2 * TIMESTAMPED_ADDRESS_SIZE
                    + 8
                    + MAX_VAR_INT_SIZE
                    + MAX_USER_AGENT_LEN
                    + 4
                    + 1
            }
            Command::Addr => MAX_VAR_INT_SIZE + MAX_ADDR_PER_MSG * TIMESTAMPED_ADDRESS_SIZE,
            Command::AddrV2 => 3 + MAX_ADDR_PER_MSG * MAX_ADDRV2_ENTRY_SIZE,
            Command::Inv | Command::GetData | Command::NotFound => INV_MESSAGE_MAX,
            Command::GetBlocks | Command::GetHeaders => LOCATOR_MESSAGE_MAX,
            Command::Headers => MAX_VAR_INT_SIZE + (HEADER_SIZE + 1) * MAX_BLOCK_HEADERS_PER_MSG,
            Command::Block | Command::Tx | Command::MerkleBlock => MAX_BLOCK_PAYLOAD as usize,
            Command::Reject => MAX_PROTOCOL_MESSAGE_LENGTH as usize,
            // announce flag and version (BIP152).
            Command::SendCmpct => 1 + 8,
            Command::GetCFilters | Command::GetCFHeaders => 1 + 4 + 32,
            Command::CFilter => 1 + 32 + 5 + MAX_CFILTER_DATA_SIZE,
            Command::CFHeaders => 1 + 32 + 32 + MAX_VAR_INT_SIZE + 32 * MAX_CFHEADERS_PER_MSG,
            Command::GetCFCheckpt => 1 + 32,
            Command::CFCheckpt => 1 + 32 + 5 + 32 * MAX_CFCHECKPT_HEADERS,
        };
        n as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_fit_the_header() {
        for c in Command::ALL {
            assert!(c.name().len() <= COMMAND_SIZE);
            assert_eq!(Command::from_name(c.name()), Some(c));
        }
        assert_eq!(Command::from_name("filterload"), None);
    }

    #[test]
    fn payload_limits_match_btcd() {
        // Values of btcd's MaxPayloadLength at protocol version 70016.
        let expected = [
            (Command::Version, 358),
            (Command::Addr, 30_009),
            (Command::AddrV2, 531_003),
            (Command::Inv, 1_800_009),
            (Command::GetHeaders, 16_045),
            (Command::Headers, 162_009),
            (Command::Block, 4_000_000),
            (Command::CFilter, 262_182),
            (Command::CFHeaders, 64_074),
            (Command::CFCheckpt, 3_200_038),
            (Command::Ping, 8),
            (Command::Verack, 0),
        ];
        for (c, max) in expected {
            assert_eq!(c.max_payload(), max, "{}", c.name());
        }
    }
}
