//! The connection manager's rules: how many outbound connections to keep, which address to
//! dial next (one per network group, never a banned or connected one), and the conversions
//! between socket addresses and the address manager's BIP155 entries.

use super::addrmgr::{AddrManager, PeerAddr};
use super::group::group_key;
use crate::time::Time;
use crate::wire::{AddrV2, AddrV2Entry, NetAddress, TimestampedAddress};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Most automatic outbound connections (btcd's `defaultTargetOutbound`).
pub const DEFAULT_TARGET_OUTBOUND: usize = 8;
/// A dial not reported as connected or failed within this long is forgotten.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Candidates drawn from the address manager per free outbound slot before giving up until
/// the next tick (btcd tries up to 100).
const SELECT_TRIES: usize = 100;

/// btcd's outbound target: `min(8, maxpeers - permanent)`; inbound gets the rest.
pub fn target_outbound(max_peers: usize, permanent: usize) -> usize {
    DEFAULT_TARGET_OUTBOUND.min(max_peers.saturating_sub(permanent))
}

/// Most inbound connections: `maxpeers` less the slots kept for outbound ones, the permanent
/// peers and, unless only `connect` peers are dialed, the automatic outbound target, so that
/// inbound peers can never starve the outbound side (Core; btcd shares one `maxpeers` pool).
pub fn max_inbound(max_peers: usize, permanent: usize, connect_only: bool) -> usize {
    let automatic = match connect_only {
        true => 0,
        false => target_outbound(max_peers, permanent),
    };
    max_peers.saturating_sub(permanent + automatic)
}

/// The address manager's key for a socket address.
pub fn peer_addr(addr: &SocketAddr) -> PeerAddr {
    let a = match addr.ip() {
        IpAddr::V4(v4) => AddrV2::Ipv4(v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => AddrV2::Ipv4(v4.octets()),
            None => AddrV2::Ipv6(v6.octets()),
        },
    };
    PeerAddr {
        addr: a,
        port: addr.port(),
    }
}

/// The socket address to dial for an address manager entry (IP networks only).
pub fn socket_addr(peer: &PeerAddr) -> Option<SocketAddr> {
    let ip = match &peer.addr {
        AddrV2::Ipv4(b) => IpAddr::from(b.to_owned()),
        AddrV2::Ipv6(b) => IpAddr::from(b.to_owned()),
        _ => return None,
    };
    Some(SocketAddr::new(ip, peer.port))
}

/// A legacy addr entry as BIP155.
pub fn from_legacy(a: &TimestampedAddress) -> AddrV2Entry {
    let p = peer_addr(&a.addr.socket_addr());
    AddrV2Entry {
        time: a.time,
        services: a.addr.services,
        addr: p.addr,
        port: p.port,
    }
}

/// A BIP155 entry as legacy addr, when it is an IP address.
pub fn to_legacy(e: &AddrV2Entry) -> Option<TimestampedAddress> {
    let socket = socket_addr(&PeerAddr {
        addr: e.addr.clone(),
        port: e.port,
    })?;
    Some(TimestampedAddress {
        time: e.time,
        addr: NetAddress::new(socket, e.services),
    })
}

/// Dials in progress: addresses dialed and not yet connected, failed or given up on.
#[derive(Default, Debug)]
pub struct ConnManager {
    dialing: BTreeSet<SocketAddr>,
}

impl ConnManager {
    /// Dials in progress.
    pub fn dialing_count(&self) -> usize {
        self.dialing.len()
    }

    /// The dial to `addr` ended (connected, failed, or timed out after [`DIAL_TIMEOUT`]).
    pub fn dial_ended(&mut self, addr: &SocketAddr) {
        self.dialing.remove(addr);
    }

    /// Picks addresses to dial so that `outbound` connections plus dials reach `target`: each
    /// from a network group not already used by an outbound connection or dial, not in
    /// `connected`, and not refused by `banned`. Records the dials, made at `now`.
    pub fn pick(
        &mut self,
        addrs: &mut AddrManager,
        target: usize,
        outbound: &[SocketAddr],
        connected: &BTreeSet<SocketAddr>,
        banned: impl Fn(&IpAddr) -> bool,
        now: Time,
    ) -> Vec<SocketAddr> {
        let mut groups: BTreeSet<String> = outbound
            .iter()
            .chain(&self.dialing)
            .map(|a| group_key(&peer_addr(a).addr))
            .collect();
        let mut picked = Vec::new();
        let mut free = target.saturating_sub(outbound.len() + self.dialing.len());
        // Drawing many more times than there are addresses only redraws the same ones (in a
        // small or mostly connected book the full budget made every tick slow).
        let max_tries = (SELECT_TRIES * target.max(1)).min(4 * addrs.len() + 1);
        let mut tries = 0;
        while free > 0 && tries < max_tries {
            tries += 1;
            let Some(known) = addrs.select(now.unix_secs()) else {
                break;
            };
            let peer = known.peer.clone();
            let Some(socket) = socket_addr(&peer) else {
                continue;
            };
            let group = group_key(&peer.addr);
            if groups.contains(&group)
                || connected.contains(&socket)
                || self.dialing.contains(&socket)
                || banned(&socket.ip())
            {
                continue;
            }
            addrs.attempt(&peer, now.unix_secs());
            groups.insert(group);
            self.dialing.insert(socket);
            picked.push(socket);
            free -= 1;
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::wire::ServiceFlags;

    #[test]
    fn outbound_target_is_btcds() {
        assert_eq!(target_outbound(125, 0), 8);
        assert_eq!(target_outbound(125, 2), 8);
        assert_eq!(target_outbound(5, 2), 3);
        assert_eq!(target_outbound(2, 3), 0);
    }

    #[test]
    fn inbound_leaves_room_for_the_outbound_target() {
        assert_eq!(max_inbound(125, 0, false), 117);
        assert_eq!(max_inbound(125, 2, false), 115);
        assert_eq!(max_inbound(125, 2, true), 123);
        assert_eq!(max_inbound(10, 3, false), 0);
        assert_eq!(max_inbound(2, 0, true), 2);
    }

    #[test]
    fn addresses_convert_both_ways() {
        let v4: SocketAddr = "8.8.4.4:8333".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:8.8.4.4]:8333".parse().unwrap();
        let v6: SocketAddr = "[2a01::1]:18444".parse().unwrap();
        assert_eq!(peer_addr(&mapped), peer_addr(&v4));
        for a in [v4, v6] {
            assert_eq!(socket_addr(&peer_addr(&a)), Some(a));
            let legacy = TimestampedAddress {
                time: 5,
                addr: NetAddress::new(a, ServiceFlags::NETWORK),
            };
            assert_eq!(to_legacy(&from_legacy(&legacy)), Some(legacy));
        }
        let tor = PeerAddr {
            addr: AddrV2::TorV3([1; 32]),
            port: 1,
        };
        assert_eq!(socket_addr(&tor), None);
    }

    #[test]
    fn picks_skip_used_groups_connected_and_banned_addresses() {
        let mut addrs = AddrManager::new(Rng::new(3));
        let entry = |a: &str| {
            let p = peer_addr(&a.parse().unwrap());
            AddrV2Entry {
                time: 1_000_000,
                services: ServiceFlags::NETWORK,
                addr: p.addr,
                port: p.port,
            }
        };
        let all = [
            "8.1.0.1:8333",
            "8.1.0.2:8333",
            "8.2.0.1:8333",
            "8.3.0.1:8333",
            "8.4.0.1:8333",
        ];
        let entries: Vec<AddrV2Entry> = all.iter().map(|a| entry(a)).collect();
        addrs.add(&entries, &AddrV2::Ipv4([9, 9, 9, 9]), 1_000_000);
        let mut cm = ConnManager::default();
        let outbound: Vec<SocketAddr> = vec!["8.2.0.1:8333".parse().unwrap()];
        let connected: BTreeSet<SocketAddr> = outbound.iter().copied().collect();
        let banned: IpAddr = "8.3.0.1".parse().unwrap();
        let picks = cm.pick(
            &mut addrs,
            8,
            &outbound,
            &connected,
            |ip| *ip == banned,
            Time::from_millis(1_000_000_000),
        );
        let groups: BTreeSet<String> = picks
            .iter()
            .map(|a| group_key(&peer_addr(a).addr))
            .collect();
        // One from 8.1/16, the one in 8.4/16; 8.2 is in use and 8.3 banned.
        assert_eq!(picks.len(), 2, "{picks:?}");
        assert_eq!(groups.len(), 2);
        assert!(picks.contains(&"8.4.0.1:8333".parse().unwrap()));
        assert_eq!(cm.dialing.len(), 2);
        for a in &picks {
            cm.dial_ended(a);
        }
        assert!(cm.dialing.is_empty());
    }
}
