//! Protocol versions, service flags and the size limits btcd enforces on every message.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// The protocol version rbtcd speaks (btcd's `ProtocolVersion`).
pub const PROTOCOL_VERSION: u32 = 70016;
/// Addr messages may hold more than one address from this version on.
pub const MULTIPLE_ADDRESS_VERSION: u32 = 209;
/// Addresses in addr messages carry a timestamp from this version on.
pub const NET_ADDRESS_TIME_VERSION: u32 = 31402;
/// Pong messages and ping nonces (BIP31) exist above this version.
pub const BIP0031_VERSION: u32 = 60000;
/// The mempool message (BIP35) exists from this version on.
pub const BIP0035_VERSION: u32 = 60002;
/// Bloom filtering and the version message's relay flag (BIP37) exist from this version on.
pub const BIP0037_VERSION: u32 = 70001;
/// The reject message exists from this version on.
pub const REJECT_VERSION: u32 = 70002;
/// `NODE_BLOOM` must be advertised for bloom filtering from this version on (BIP111).
pub const BIP0111_VERSION: u32 = 70011;
/// The sendheaders message (BIP130) exists from this version on.
pub const SEND_HEADERS_VERSION: u32 = 70012;
/// The feefilter message (BIP133) exists from this version on.
pub const FEE_FILTER_VERSION: u32 = 70013;
/// addrv2/sendaddrv2 (BIP155) and wtxidrelay (BIP339) exist from this version on.
pub const ADDRV2_VERSION: u32 = 70016;

/// Size of the frame header: magic, command, length, checksum.
pub const MESSAGE_HEADER_SIZE: usize = 24;
/// Bytes of the NUL-padded command name in the frame header.
pub const COMMAND_SIZE: usize = 12;
/// The largest payload btcd's message reader accepts on a connection
/// (`MaxProtocolMessageLength`); a header claiming more is rejected before anything is read.
/// btcd's older 32 MiB `MaxMessagePayload` now only bounds lengths inside payloads, where
/// [`crate::primitives::encode::MAX_COMPACT_SIZE`] (the same 32 MiB) plays that part.
pub const MAX_PROTOCOL_MESSAGE_LENGTH: u32 = 4_000_000;
/// Most bytes a `block`, `tx` or `merkleblock` payload may have (`MaxBlockPayload`).
pub const MAX_BLOCK_PAYLOAD: u32 = 4_000_000;
/// Most inventory vectors in one inv, getdata or notfound message.
pub const MAX_INV_PER_MSG: usize = 50_000;
/// Most addresses in one addr or addrv2 message.
pub const MAX_ADDR_PER_MSG: usize = 1000;
/// Most headers in one headers message.
pub const MAX_BLOCK_HEADERS_PER_MSG: usize = 2000;
/// Most locator hashes in one getblocks or getheaders message.
pub const MAX_BLOCK_LOCATORS_PER_MSG: usize = 500;
/// Longest user agent a version message may carry.
pub const MAX_USER_AGENT_LEN: usize = 256;
/// Longest address an addrv2 entry may carry, even for unknown networks.
pub const MAX_ADDRV2_SIZE: usize = 512;
/// Most bytes in one BIP158 filter carried by a cfilter message.
pub const MAX_CFILTER_DATA_SIZE: usize = 256 * 1024;
/// Most filter hashes in one cfheaders message.
pub const MAX_CFHEADERS_PER_MSG: usize = 2000;
/// Most filter headers in one cfcheckpt message.
pub const MAX_CFCHECKPT_HEADERS: usize = 100_000;
/// Most transaction hashes a merkleblock can reference (smallest possible transactions).
pub const MAX_TX_PER_BLOCK: usize = MAX_BLOCK_PAYLOAD as usize / 10 + 1;
/// Most flag bytes a merkleblock can need.
pub const MAX_FLAGS_PER_MERKLE_BLOCK: usize = MAX_TX_PER_BLOCK / 8;
/// Serialized size of one inventory vector.
pub const INV_VECT_SIZE: usize = 36;
/// Largest CompactSize encoding.
pub const MAX_VAR_INT_SIZE: usize = 9;

/// The services a node advertises, as a bit set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags(pub u64);

impl ServiceFlags {
    /// No services.
    pub const NONE: ServiceFlags = ServiceFlags(0);
    /// A full node that serves the whole chain.
    pub const NETWORK: ServiceFlags = ServiceFlags(1);
    /// Supports getutxos/utxos (BIP64).
    pub const GETUTXO: ServiceFlags = ServiceFlags(1 << 1);
    /// Supports bloom filtering (BIP37, BIP111).
    pub const BLOOM: ServiceFlags = ServiceFlags(1 << 2);
    /// Serves blocks and transactions with witness data (BIP144).
    pub const WITNESS: ServiceFlags = ServiceFlags(1 << 3);
    /// Supports xthin blocks.
    pub const XTHIN: ServiceFlags = ServiceFlags(1 << 4);
    /// Service bit 5.
    pub const BIT5: ServiceFlags = ServiceFlags(1 << 5);
    /// Serves committed filters (BIP157).
    pub const CF: ServiceFlags = ServiceFlags(1 << 6);
    /// Runs Segwit2X software.
    pub const SEGWIT2X: ServiceFlags = ServiceFlags(1 << 7);
    /// Serves the last 288 blocks only (BIP159).
    pub const NETWORK_LIMITED: ServiceFlags = ServiceFlags(1 << 10);
    /// Supports BIP324 v2 transport.
    pub const P2P_V2: ServiceFlags = ServiceFlags(1 << 11);

    /// True when every flag in `other` is set here.
    pub fn has(self, other: ServiceFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Names in btcd's order, for display.
    const NAMES: [(ServiceFlags, &'static str); 10] = [
        (Self::NETWORK, "SFNodeNetwork"),
        (Self::GETUTXO, "SFNodeGetUTXO"),
        (Self::BLOOM, "SFNodeBloom"),
        (Self::WITNESS, "SFNodeWitness"),
        (Self::XTHIN, "SFNodeXthin"),
        (Self::BIT5, "SFNodeBit5"),
        (Self::CF, "SFNodeCF"),
        (Self::SEGWIT2X, "SFNode2X"),
        (Self::NETWORK_LIMITED, "SFNodeNetworkLimited"),
        (Self::P2P_V2, "SFNodeP2PV2"),
    ];
}

impl BitOr for ServiceFlags {
    type Output = ServiceFlags;
    fn bitor(self, rhs: ServiceFlags) -> ServiceFlags {
        ServiceFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for ServiceFlags {
    fn bitor_assign(&mut self, rhs: ServiceFlags) {
        self.0 |= rhs.0;
    }
}

/// Formats like btcd: `SFNodeNetwork|SFNodeWitness`, unknown bits as hex, `0x0` when empty.
impl fmt::Display for ServiceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0x0");
        }
        let mut rest = self.0;
        let mut parts = Vec::new();
        for (flag, name) in Self::NAMES {
            if rest & flag.0 == flag.0 {
                parts.push(name.to_string());
                rest &= !flag.0;
            }
        }
        if rest != 0 {
            parts.push(format!("0x{rest:x}"));
        }
        f.write_str(&parts.join("|"))
    }
}

impl fmt::Debug for ServiceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_flags_display_like_btcd() {
        assert_eq!(ServiceFlags::NONE.to_string(), "0x0");
        let f = ServiceFlags::NETWORK | ServiceFlags::WITNESS | ServiceFlags(1 << 20);
        assert_eq!(f.to_string(), "SFNodeNetwork|SFNodeWitness|0x100000");
        assert!(f.has(ServiceFlags::WITNESS));
        assert!(!f.has(ServiceFlags::BLOOM | ServiceFlags::WITNESS));
    }
}
