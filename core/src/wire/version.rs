//! The version message that opens every connection.

use super::address::NetAddress;
use super::error::PayloadError;
use super::protocol::{ServiceFlags, MAX_USER_AGENT_LEN};
use super::text::text_from_wire;
use crate::primitives::encode::{write_var_bytes, MAX_COMPACT_SIZE};
use crate::primitives::{Decodable, Encodable, Reader};
use std::net::Ipv6Addr;

/// A version message. Fields after the receiver address are optional on the wire (very old
/// peers omit them); absent ones decode to the defaults btcd assumes, and encoding always
/// writes every field.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VersionMessage {
    /// The sender's protocol version.
    pub version: i32,
    /// Services the sender offers.
    pub services: ServiceFlags,
    /// The sender's clock, Unix seconds.
    pub timestamp: i64,
    /// The address the sender sees us at.
    pub receiver: NetAddress,
    /// The sender's own address (often unspecified).
    pub sender: NetAddress,
    /// Random nonce, to detect connections to self.
    pub nonce: u64,
    /// Software name and version, BIP14 form (at most 256 bytes; if not UTF-8, non-ASCII
    /// bytes read as `?`).
    pub user_agent: String,
    /// Height of the sender's best block.
    pub start_height: i32,
    /// False when the sender asks not to be sent transactions until it loads a filter (BIP37).
    pub relay: bool,
}

impl VersionMessage {
    /// Reads a version payload, which must be consumed whole by the caller's check.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, PayloadError> {
        let version = r.i32_le()?;
        let services = ServiceFlags(r.u64_le()?);
        let timestamp = r.i64_le()?;
        let receiver = NetAddress::decode_from(r)?;
        let mut msg = VersionMessage {
            version,
            services,
            timestamp,
            receiver,
            sender: NetAddress {
                services: ServiceFlags::NONE,
                ip: Ipv6Addr::UNSPECIFIED,
                port: 0,
            },
            nonce: 0,
            user_agent: String::new(),
            start_height: 0,
            relay: true,
        };
        if r.remaining() > 0 {
            msg.sender = NetAddress::decode_from(r)?;
        }
        if r.remaining() > 0 {
            msg.nonce = r.u64_le()?;
        }
        if r.remaining() > 0 {
            // The length is checked before reading so that a long claim costs nothing.
            let n = r.count(1, MAX_COMPACT_SIZE)?;
            if n > MAX_USER_AGENT_LEN {
                return Err(PayloadError::UserAgentTooLong(n));
            }
            msg.user_agent = text_from_wire(r.take(n)?);
        }
        if r.remaining() > 0 {
            msg.start_height = r.i32_le()?;
        }
        if r.remaining() > 0 {
            msg.relay = r.u8()? != 0;
        }
        Ok(msg)
    }
}

impl Encodable for VersionMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.services.0.to_le_bytes());
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        self.receiver.encode_to(out);
        self.sender.encode_to(out);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        write_var_bytes(out, self.user_agent.as_bytes());
        out.extend_from_slice(&self.start_height.to_le_bytes());
        out.push(self.relay as u8);
    }
}
