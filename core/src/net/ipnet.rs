//! An IP network for `whitelist`: an address with a prefix length, or a single address.
//! Whitelisted peers are never banned (btcd).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network such as `192.168.1.0/24` or `::1` (a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpNet {
    /// The network's address.
    pub addr: IpAddr,
    /// Leading bits that must match.
    pub prefix: u8,
}

/// The text is neither an IP address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIpNet;

impl IpNet {
    /// The network of `prefix` bits around `addr`, with the host bits cleared, so that
    /// `10.1.2.3/8` and `10.0.0.0/8` are the same network; `None` when `prefix` is too long.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        fn mask<const N: usize>(mut b: [u8; N], prefix: u8) -> [u8; N] {
            for (i, byte) in b.iter_mut().enumerate() {
                let keep = (usize::from(prefix)).saturating_sub(i * 8).min(8);
                *byte &= (0xff00u16 >> keep) as u8;
            }
            b
        }
        let addr = match addr {
            IpAddr::V4(v4) if prefix <= 32 => IpAddr::from(mask(v4.octets(), prefix)),
            IpAddr::V6(v6) if prefix <= 128 => IpAddr::from(mask(v6.octets(), prefix)),
            _ => return None,
        };
        Some(IpNet { addr, prefix })
    }

    /// The single address `ip`.
    pub fn host(ip: IpAddr) -> IpNet {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        IpNet { addr: ip, prefix }
    }

    /// True when `ip` is inside this network (IPv4 and IPv6 never match each other).
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits_match(a: &[u8], b: &[u8], prefix: u8) -> bool {
            let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
            a[..whole] == b[..whole]
                && (rest == 0 || (a[whole] ^ b[whole]) & (0xffu8 << (8 - rest)) == 0)
        }
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => bits_match(&n.octets(), &i.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(i)) => bits_match(&n.octets(), &i.octets(), self.prefix),
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = InvalidIpNet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| InvalidIpNet)?)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| InvalidIpNet)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        IpNet::new(addr, prefix.unwrap_or(max)).ok_or(InvalidIpNet)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_prefix() {
        let net: IpNet = "192.168.1.0/24".parse().unwrap();
        assert!(net.contains("192.168.1.77".parse().unwrap()));
        assert!(!net.contains("192.168.2.1".parse().unwrap()));
        let odd: IpNet = "10.0.0.0/9".parse().unwrap();
        assert!(odd.contains("10.127.0.1".parse().unwrap()));
        assert!(!odd.contains("10.128.0.1".parse().unwrap()));
        let one: IpNet = "::1".parse().unwrap();
        assert_eq!(one.prefix, 128);
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn host_bits_are_cleared() {
        let a: IpNet = "10.1.2.3/8".parse().unwrap();
        let b: IpNet = "10.0.0.0/8".parse().unwrap();
        assert_eq!(a, b);
        let c: IpNet = "10.1.2.3/13".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/13");
        let d: IpNet = "2001:db8::1/32".parse().unwrap();
        assert_eq!(d.to_string(), "2001:db8::/32");
        assert_eq!(IpNet::host("::1".parse().unwrap()).prefix, 128);
    }

    #[test]
    fn rejects_bad_networks() {
        for bad in ["", "1.2.3", "1.2.3.4/33", "::/129", "host/8", "1.2.3.4/x"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }
}
