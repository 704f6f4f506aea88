//! Our own addresses as peers should dial them (btcd's `localAddresses`): where each came from
//! sets its priority, and the one advertised to a peer is the most reachable from that peer's
//! network, ties going to the higher priority (btcd's `GetBestLocalAddress`).

use super::addrmgr::PeerAddr;
use super::group::is_routable;
use crate::wire::AddrV2;
use std::collections::BTreeMap;

/// Where a local address was learnt, lowest priority first (btcd's `AddressPriority`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LocalSource {
    /// An address of a network interface we listen on (all interfaces).
    Interface,
    /// An address a listener is bound to explicitly (`listen`).
    Bound,
    /// The gateway's external address, learnt through UPnP.
    Upnp,
    /// Reported by an external service.
    Http,
    /// Given by the operator (`externalip`).
    Manual,
}

/// How well a peer on one network can reach one of our addresses (btcd's
/// `getReachabilityFrom`), worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    Unreachable,
    Default,
    Teredo,
    Ipv6Weak,
    Ipv4,
    Ipv6Strong,
    Private,
}

/// Our advertisable addresses with their priorities.
#[derive(Clone, Debug, Default)]
pub struct LocalAddrs {
    /// Address and port -> priority score (btcd: a source seen again scores one higher).
    scores: BTreeMap<PeerAddr, u8>,
}

impl LocalAddrs {
    /// Adds `addr` learnt from `source`; false (and nothing kept) when it is not routable, as
    /// no peer could dial it. Learning an address again from a better source raises it above
    /// that source, as btcd does.
    pub fn add(&mut self, addr: PeerAddr, source: LocalSource) -> bool {
        if !is_routable(&addr.addr) {
            return false;
        }
        let priority = source as u8;
        match self.scores.get_mut(&addr) {
            Some(score) if *score < priority => *score = priority + 1,
            Some(_) => {}
            None => {
                self.scores.insert(addr, priority);
            }
        }
        true
    }

    /// Each address with its score (Core's `getnetworkinfo` lists them).
    pub fn iter(&self) -> impl Iterator<Item = (&PeerAddr, u8)> {
        self.scores.iter().map(|(addr, score)| (addr, *score))
    }

    /// True when there is nothing to advertise.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// The address to advertise to a peer at `remote`, if any is reachable from there.
    pub fn best_for(&self, remote: &AddrV2) -> Option<&PeerAddr> {
        let mut best: Option<(Reach, u8, &PeerAddr)> = None;
        for (addr, score) in &self.scores {
            let reach = reachability(&addr.addr, remote);
            let better = match best {
                None => reach > Reach::Unreachable,
                Some((r, s, _)) => reach > r || (reach == r && *score > s),
            };
            if better {
                best = Some((reach, *score, addr));
            }
        }
        best.map(|(_, _, a)| a)
    }
}

/// The IPv6 form of an IP address (IPv4 as `::ffff:a.b.c.d`), for the prefix tests.
fn v6_bytes(addr: &AddrV2) -> Option<[u8; 16]> {
    match addr {
        AddrV2::Ipv4(b) => Some(std::net::Ipv4Addr::from(*b).to_ipv6_mapped().octets()),
        AddrV2::Ipv6(b) => Some(*b),
        _ => None,
    }
}

fn is_ipv4(addr: &AddrV2) -> bool {
    v6_bytes(addr).is_some_and(|b| std::net::Ipv6Addr::from(b).to_ipv4_mapped().is_some())
}

/// Teredo, RFC 4380 (2001::/32).
fn is_teredo(addr: &AddrV2) -> bool {
    v6_bytes(addr).is_some_and(|b| b[..4] == [0x20, 0x01, 0, 0])
}

/// IPv6 carrying IPv4: 6to4 (RFC 3964), NAT64 (RFC 6052) and SIIT (RFC 6145).
fn is_tunnelled(addr: &AddrV2) -> bool {
    v6_bytes(addr).is_some_and(|b| {
        b[..2] == [0x20, 0x02]
            || b[..12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]
            || b[..12] == [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0]
    })
}

fn is_onion(addr: &AddrV2) -> bool {
    matches!(addr, AddrV2::TorV2(_) | AddrV2::TorV3(_))
}

fn reachability(local: &AddrV2, remote: &AddrV2) -> Reach {
    if !is_routable(remote) {
        return Reach::Unreachable;
    }
    if is_onion(remote) {
        return match local {
            l if is_onion(l) => Reach::Private,
            l if is_ipv4(l) => Reach::Ipv4,
            _ => Reach::Default,
        };
    }
    if is_onion(local) {
        return Reach::Default;
    }
    if is_teredo(remote) {
        return match local {
            l if is_teredo(l) => Reach::Teredo,
            l if is_ipv4(l) => Reach::Ipv4,
            _ => Reach::Ipv6Weak,
        };
    }
    if is_ipv4(remote) {
        return match is_ipv4(local) {
            true => Reach::Ipv4,
            false => Reach::Unreachable,
        };
    }
    match local {
        l if is_teredo(l) => Reach::Teredo,
        l if is_ipv4(l) => Reach::Ipv4,
        l if is_tunnelled(l) => Reach::Ipv6Weak,
        l if v6_bytes(l).is_some() => Reach::Ipv6Strong,
        _ => Reach::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::connmgr::peer_addr;

    fn addr(s: &str) -> PeerAddr {
        peer_addr(&s.parse().unwrap())
    }

    #[test]
    fn unroutable_addresses_are_refused() {
        let mut local = LocalAddrs::default();
        assert!(!local.add(addr("127.0.0.1:8333"), LocalSource::Manual));
        assert!(!local.add(addr("192.168.1.5:8333"), LocalSource::Bound));
        assert!(local.is_empty());
        assert!(local.add(addr("1.2.3.4:8333"), LocalSource::Bound));
        assert!(!local.is_empty());
    }

    #[test]
    fn best_address_suits_the_peers_network_then_priority() {
        let mut local = LocalAddrs::default();
        local.add(addr("1.2.3.4:8333"), LocalSource::Bound);
        local.add(addr("5.6.7.8:8333"), LocalSource::Upnp);
        local.add(addr("[2a01:4f8::1]:8333"), LocalSource::Manual);
        let v4_peer = addr("9.9.9.9:8333").addr;
        let v6_peer = addr("[2a02:1::7]:8333").addr;
        // IPv4 peers get an IPv4 address, the better-sourced one.
        assert_eq!(local.best_for(&v4_peer), Some(&addr("5.6.7.8:8333")));
        // IPv6 peers prefer a native IPv6 address to an IPv4 one.
        assert_eq!(local.best_for(&v6_peer), Some(&addr("[2a01:4f8::1]:8333")));
        // An unroutable peer is offered nothing.
        assert_eq!(local.best_for(&addr("10.0.0.1:1").addr), None);
    }

    #[test]
    fn an_ipv6_only_node_has_nothing_for_ipv4_peers() {
        let mut local = LocalAddrs::default();
        local.add(addr("[2a01:4f8::1]:8333"), LocalSource::Manual);
        assert_eq!(local.best_for(&addr("9.9.9.9:1").addr), None);
    }

    #[test]
    fn relearning_from_a_better_source_raises_the_score() {
        let mut local = LocalAddrs::default();
        local.add(addr("1.2.3.4:8333"), LocalSource::Interface);
        local.add(addr("5.6.7.8:8333"), LocalSource::Bound);
        let v4_peer = addr("9.9.9.9:8333").addr;
        assert_eq!(local.best_for(&v4_peer), Some(&addr("5.6.7.8:8333")));
        // Seen again from UPnP: now above a merely bound address.
        local.add(addr("1.2.3.4:8333"), LocalSource::Upnp);
        assert_eq!(local.best_for(&v4_peer), Some(&addr("1.2.3.4:8333")));
    }
}
