//! Network groups: which addresses count as "the same place" for bucketing and for outbound
//! diversity (btcd's `GroupKey`): IPv4 /16, IPv6 /32 (/36 for Hurricane Electric), tunnelled
//! IPv4 by its embedded address, onion services by 4 bits of their key.

use crate::wire::AddrV2;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The IPv4 address inside `ip` when it is IPv4-mapped (`::ffff:a.b.c.d`).
fn mapped_v4(ip: &[u8; 16]) -> Option<Ipv4Addr> {
    Ipv6Addr::from(*ip).to_ipv4_mapped()
}

fn v4_local(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.octets()[0] == 0
}

fn v4_routable(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(v4_local(ip)
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // RFC 2544 benchmarking and RFC 6598 shared address space.
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 100 && (o[1] & 0xc0) == 64))
}

fn v6_routable(ip: &[u8; 16]) -> bool {
    let addr = Ipv6Addr::from(*ip);
    let seg = addr.segments();
    !(addr.is_loopback()
        || addr.is_unspecified()
        // RFC 4862 link-local, RFC 3849 documentation, RFC 4193 unique local,
        // RFC 4843 ORCHID.
        || (seg[0] == 0xfe80 && seg[1..4] == [0, 0, 0])
        || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        || (ip[0] & 0xfe) == 0xfc
        || (seg[0] == 0x2001 && (seg[1] & 0xfff0) == 0x0010))
}

/// True when the address could be reached over the public Internet or an overlay network we
/// can dial (Tor v3, I2P, CJDNS): only such addresses are stored and relayed.
pub fn is_routable(addr: &AddrV2) -> bool {
    match addr {
        AddrV2::Ipv4(b) => v4_routable(Ipv4Addr::from(*b)),
        AddrV2::Ipv6(b) => match mapped_v4(b) {
            Some(v4) => v4_routable(v4),
            None => v6_routable(b),
        },
        AddrV2::TorV3(_) | AddrV2::I2p(_) | AddrV2::Cjdns(_) => true,
        AddrV2::TorV2(_) | AddrV2::Unknown { .. } => false,
    }
}

fn v4_group(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("{}.{}.0.0", o[0], o[1])
}

/// The network group of `addr`.
pub fn group_key(addr: &AddrV2) -> String {
    let v6 = match addr {
        AddrV2::Ipv4(b) => {
            let ip = Ipv4Addr::from(*b);
            return match () {
                _ if v4_local(ip) => "local".into(),
                _ if !v4_routable(ip) => "unroutable".into(),
                _ => v4_group(ip),
            };
        }
        AddrV2::Ipv6(b) => *b,
        AddrV2::TorV3(key) => return format!("tor:{}", key[0] & 0x0f),
        AddrV2::I2p(hash) => return format!("i2p:{}", hash[0] & 0x0f),
        AddrV2::Cjdns(b) => return format!("cjdns:{:02x}{:02x}", b[1], b[2]),
        AddrV2::TorV2(_) | AddrV2::Unknown { .. } => return "unroutable".into(),
    };
    if let Some(v4) = mapped_v4(&v6) {
        return group_key(&AddrV2::Ipv4(v4.octets()));
    }
    let addr = Ipv6Addr::from(v6);
    let seg = addr.segments();
    if addr.is_loopback() {
        return "local".into();
    }
    if !v6_routable(&v6) {
        return "unroutable".into();
    }
    let embedded = |b: [u8; 4]| v4_group(Ipv4Addr::from(b));
    // RFC 6052 (64:ff9b::/96) and RFC 6145 (::ffff:0:0:0/96): IPv4 in the last four bytes.
    if (seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0]) || (seg[..6] == [0, 0, 0, 0, 0xffff, 0]) {
        return embedded([v6[12], v6[13], v6[14], v6[15]]);
    }
    // RFC 3964 6to4: IPv4 in bytes 2..6.
    if seg[0] == 0x2002 {
        return embedded([v6[2], v6[3], v6[4], v6[5]]);
    }
    // RFC 4380 Teredo: the client's IPv4, inverted, in the last four bytes.
    if seg[0] == 0x2001 && seg[1] == 0 {
        return embedded([!v6[12], !v6[13], !v6[14], !v6[15]]);
    }
    // Hurricane Electric hands out /36s from 2001:470::/32.
    let bits = if seg[0] == 0x2001 && seg[1] == 0x0470 {
        36
    } else {
        32
    };
    let mut masked = [0u16; 8];
    masked[..2].copy_from_slice(&seg[..2]);
    if bits == 36 {
        masked[2] = seg[2] & 0xf000;
    }
    Ipv6Addr::from(masked).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> AddrV2 {
        AddrV2::Ipv4(s.parse::<Ipv4Addr>().unwrap().octets())
    }
    fn v6(s: &str) -> AddrV2 {
        AddrV2::Ipv6(s.parse::<Ipv6Addr>().unwrap().octets())
    }

    #[test]
    fn groups_as_btcd() {
        assert_eq!(group_key(&v4("8.8.4.4")), "8.8.0.0");
        assert_eq!(group_key(&v6("::ffff:8.8.4.4")), "8.8.0.0");
        assert_eq!(group_key(&v4("127.0.0.1")), "local");
        assert_eq!(group_key(&v4("10.1.2.3")), "unroutable");
        assert_eq!(group_key(&v6("2002:0808:0404::1")), "8.8.0.0", "6to4");
        assert_eq!(
            group_key(&v6("2001:0:4136:e378:8000:63bf:f7f7:fbfb")),
            "8.8.0.0",
            "teredo"
        );
        assert_eq!(group_key(&v6("64:ff9b::808:404")), "8.8.0.0", "rfc6052");
        assert_eq!(
            group_key(&v6("2001:470:1f05:1234::1")),
            "2001:470:1000::",
            "he.net /36"
        );
        assert_eq!(group_key(&v6("2a01:4f8:1:2::3")), "2a01:4f8::");
        assert_eq!(group_key(&v6("fc00::1")), "unroutable");
        assert_eq!(group_key(&AddrV2::TorV3([0x3a; 32])), "tor:10");
    }

    #[test]
    fn routability() {
        for bad in [
            "10.0.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.1.1",
            "198.18.0.1",
            "100.64.0.1",
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "127.0.0.1",
        ] {
            assert!(!is_routable(&v4(bad)), "{bad}");
        }
        assert!(is_routable(&v4("1.2.3.4")));
        assert!(!is_routable(&v6("2001:db8::1")));
        assert!(!is_routable(&v6("fe80::1")));
        assert!(is_routable(&v6("2a01:4f8::1")));
        assert!(!is_routable(&AddrV2::TorV2([0; 10])));
    }
}
