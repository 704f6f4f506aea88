//! Tor onion names inside IP addresses, as btcd keeps them: a 16-character (version 2) onion
//! name is 10 bytes, carried in the OnionCat IPv6 range fd87:d87e:eb43::/48, so the node's
//! address handling needs no special case and the dialer turns it back into a name for the
//! proxy. Version 3 names (56 characters) do not fit and are refused.

use std::net::{IpAddr, Ipv6Addr};

/// The OnionCat prefix.
const ONIONCAT: [u8; 6] = [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];
/// RFC 4648 base32 alphabet, lower case as onion names are written.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Characters of a version 2 onion name (without `.onion`).
const NAME_LEN: usize = 16;

/// The OnionCat address of `host` when it is a version 2 `.onion` name.
pub fn to_ip(host: &str) -> Option<IpAddr> {
    let name = host.strip_suffix(".onion")?;
    if name.len() != NAME_LEN {
        return None;
    }
    let mut bits: u128 = 0;
    for c in name.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_lowercase())?;
        bits = (bits << 5) | v as u128;
    }
    let mut octets = [0u8; 16];
    octets[..6].copy_from_slice(&ONIONCAT);
    octets[6..].copy_from_slice(&bits.to_be_bytes()[6..]);
    Some(IpAddr::V6(Ipv6Addr::from(octets)))
}

/// The `.onion` name an OnionCat address stands for, or `None` for any other address.
pub fn to_name(ip: &IpAddr) -> Option<String> {
    let IpAddr::V6(v6) = ip else { return None };
    let octets = v6.octets();
    if octets[..6] != ONIONCAT {
        return None;
    }
    let mut wide = [0u8; 16];
    wide[6..].copy_from_slice(&octets[6..]);
    let bits = u128::from_be_bytes(wide);
    let name: String = (0..NAME_LEN)
        .rev()
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect();
    Some(format!("{name}.onion"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_onioncat() {
        let ip = to_ip("expyuzz4wqqyqhjn.onion").unwrap();
        assert!(ip.to_string().starts_with("fd87:d87e:eb43:"), "{ip}");
        assert_eq!(to_name(&ip).as_deref(), Some("expyuzz4wqqyqhjn.onion"));
        assert_eq!(to_ip("EXPYUZZ4WQQYQHJN.onion"), Some(ip));
    }

    #[test]
    fn other_names_and_addresses_are_not_onions() {
        assert_eq!(to_ip("example.com"), None);
        assert_eq!(to_ip("expyuzz4wqqyqhj1.onion"), None, "1 is not base32");
        let v3 = format!("{}.onion", "a".repeat(56));
        assert_eq!(to_ip(&v3), None);
        assert_eq!(to_name(&"127.0.0.1".parse().unwrap()), None);
        assert_eq!(to_name(&"fd00::1".parse().unwrap()), None);
    }
}
