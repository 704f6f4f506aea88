//! Peer addresses as the protocol carries them: the legacy 26-byte form (version and addr
//! messages) and BIP155's variable-length form (addrv2).

use super::error::PayloadError;
use super::protocol::{ServiceFlags, MAX_ADDRV2_SIZE};
use crate::primitives::encode::{write_compact_size, write_var_bytes};
use crate::primitives::{Decodable, DecodeError, Encodable, Reader};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// A legacy address: services, a 16-byte IPv6 address (IPv4 as `::ffff:a.b.c.d`) and a port
/// that, unlike everything else in the protocol, is big-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NetAddress {
    /// Services the node at this address offers.
    pub services: ServiceFlags,
    /// The address; IPv4 addresses are IPv4-mapped.
    pub ip: Ipv6Addr,
    /// TCP port.
    pub port: u16,
}

impl NetAddress {
    /// The address of `addr`, mapping IPv4 into IPv6 as the wire requires.
    pub fn new(addr: SocketAddr, services: ServiceFlags) -> Self {
        let ip = match addr.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        NetAddress {
            services,
            ip,
            port: addr.port(),
        }
    }

    /// The socket address, with IPv4-mapped addresses turned back into IPv4.
    pub fn socket_addr(&self) -> SocketAddr {
        let ip = match self.ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(self.ip),
        };
        SocketAddr::new(ip, self.port)
    }
}

impl Encodable for NetAddress {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.services.0.to_le_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.port.to_be_bytes());
    }
}

impl Decodable for NetAddress {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(NetAddress {
            services: ServiceFlags(r.u64_le()?),
            ip: Ipv6Addr::from(r.array::<16>()?),
            port: r.u16_be()?,
        })
    }
}

/// An entry of an addr message: a legacy address and when it was last seen.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimestampedAddress {
    /// Unix time the address was last seen.
    pub time: u32,
    /// The address.
    pub addr: NetAddress,
}

/// Serialized size of a [`NetAddress`]: services, IPv6 address, port.
pub const NET_ADDRESS_SIZE: usize = 8 + 16 + 2;
/// Serialized size of a [`TimestampedAddress`].
pub const TIMESTAMPED_ADDRESS_SIZE: usize = 4 + NET_ADDRESS_SIZE;

impl Encodable for TimestampedAddress {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.time.to_le_bytes());
        self.addr.encode_to(out);
    }
}

impl Decodable for TimestampedAddress {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TimestampedAddress {
            time: r.u32_le()?,
            addr: NetAddress::decode_from(r)?,
        })
    }
}

/// A BIP155 network address. Each known network has a fixed length, checked on decode;
/// unknown networks are kept (up to 512 bytes) so that a future BIP does not make us drop
/// the whole message, as btcd does. Which kinds are worth relaying is the address
/// manager's decision, not the decoder's.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum AddrV2 {
    /// Network id 1.
    Ipv4([u8; 4]),
    /// Network id 2.
    Ipv6([u8; 16]),
    /// Network id 3: deprecated Tor v2 onion service.
    TorV2([u8; 10]),
    /// Network id 4: Tor v3 onion service (ed25519 public key).
    TorV3([u8; 32]),
    /// Network id 5: I2P (SHA-256 of the destination).
    I2p([u8; 32]),
    /// Network id 6: CJDNS (an fc00::/8 IPv6 address).
    Cjdns([u8; 16]),
    /// Any other network id.
    Unknown {
        /// The network id.
        network: u8,
        /// The address bytes.
        bytes: Vec<u8>,
    },
}

impl AddrV2 {
    /// The BIP155 network id.
    pub fn network_id(&self) -> u8 {
        match self {
            AddrV2::Ipv4(_) => 1,
            AddrV2::Ipv6(_) => 2,
            AddrV2::TorV2(_) => 3,
            AddrV2::TorV3(_) => 4,
            AddrV2::I2p(_) => 5,
            AddrV2::Cjdns(_) => 6,
            AddrV2::Unknown { network, .. } => *network,
        }
    }

    /// The address bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            AddrV2::Ipv4(b) => b,
            AddrV2::Ipv6(b) | AddrV2::Cjdns(b) => b,
            AddrV2::TorV2(b) => b,
            AddrV2::TorV3(b) | AddrV2::I2p(b) => b,
            AddrV2::Unknown { bytes, .. } => bytes,
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, PayloadError> {
        let network = r.u8()?;
        let size = r.compact_size_raw()?;
        let expected = match network {
            1 => Some(4),
            2 | 6 => Some(16),
            3 => Some(10),
            4 | 5 => Some(32),
            _ => None,
        };
        let valid = match expected {
            Some(n) => size == n,
            None => size <= MAX_ADDRV2_SIZE as u64,
        };
        if !valid {
            return Err(PayloadError::AddrV2Size { network, size });
        }
        let b = r.take(size as usize)?;
        Ok(match network {
            1 => AddrV2::Ipv4(b.try_into().expect("length checked")),
            2 => AddrV2::Ipv6(b.try_into().expect("length checked")),
            3 => AddrV2::TorV2(b.try_into().expect("length checked")),
            4 => AddrV2::TorV3(b.try_into().expect("length checked")),
            5 => AddrV2::I2p(b.try_into().expect("length checked")),
            6 => AddrV2::Cjdns(b.try_into().expect("length checked")),
            _ => AddrV2::Unknown {
                network,
                bytes: b.to_vec(),
            },
        })
    }
}

/// An entry of an addrv2 message.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AddrV2Entry {
    /// Unix time the address was last seen.
    pub time: u32,
    /// Services, CompactSize-encoded in this format.
    pub services: ServiceFlags,
    /// The address.
    pub addr: AddrV2,
    /// TCP port (big-endian on the wire).
    pub port: u16,
}

/// The smallest addrv2 entry: time, services, network id, length, no address, port.
pub const MIN_ADDRV2_ENTRY_SIZE: usize = 4 + 1 + 1 + 1 + 2;

impl AddrV2Entry {
    /// Reads one entry, checking the address length against its network.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, PayloadError> {
        Ok(AddrV2Entry {
            time: r.u32_le()?,
            services: ServiceFlags(r.compact_size_raw()?),
            addr: AddrV2::read(r)?,
            port: r.u16_be()?,
        })
    }
}

impl Encodable for AddrV2Entry {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.time.to_le_bytes());
        write_compact_size(out, self.services.0);
        out.push(self.addr.network_id());
        write_var_bytes(out, self.addr.bytes());
        out.extend_from_slice(&self.port.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_is_mapped_and_port_is_big_endian() {
        let a = NetAddress::new("1.2.3.4:8333".parse().unwrap(), ServiceFlags::NETWORK);
        let b = a.encode();
        assert_eq!(
            &b[8..24],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]
        );
        assert_eq!(&b[24..], &[0x20, 0x8d]);
        assert_eq!(NetAddress::decode(&b).unwrap(), a);
        assert_eq!(a.socket_addr().to_string(), "1.2.3.4:8333");
    }

    #[test]
    fn addrv2_lengths_are_checked_per_network() {
        // TorV3 with 31 bytes.
        let mut b = vec![0, 0, 0, 0, 0, 4, 31];
        b.extend_from_slice(&[0; 33]);
        assert_eq!(
            AddrV2Entry::read(&mut Reader::new(&b)),
            Err(PayloadError::AddrV2Size {
                network: 4,
                size: 31
            })
        );
        // Unknown network over 512 bytes.
        let b = [0, 0, 0, 0, 0, 99, 0xfd, 0x01, 0x02];
        assert_eq!(
            AddrV2Entry::read(&mut Reader::new(&b)),
            Err(PayloadError::AddrV2Size {
                network: 99,
                size: 513
            })
        );
        // I2P with the right length decodes.
        let e = AddrV2Entry {
            time: 7,
            services: ServiceFlags(1 << 40),
            addr: AddrV2::I2p([9; 32]),
            port: 0,
        };
        let b = e.encode();
        assert_eq!(AddrV2Entry::read(&mut Reader::new(&b)).unwrap(), e);
    }
}
