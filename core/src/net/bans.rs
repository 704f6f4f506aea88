//! Banned addresses and networks with when each ban ends: bans from the ban score and manual
//! ones (`Node::ban`), checked when a connection arrives before any handshake work, and saved
//! in the store so that they survive a restart.

use super::ipnet::IpNet;
use crate::primitives::encode::{write_compact_size, Reader};
use crate::primitives::DecodeError;
use crate::time::Time;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Format version of the saved list.
const VERSION: u8 = 1;
/// Smallest encoded ban: family, 4 address bytes, prefix, end time.
const MIN_RECORD: usize = 1 + 4 + 1 + 8;
/// Most bans restored (a bound on what a damaged blob can make us allocate).
const MAX_SAVED: u64 = 1_000_000;

/// Bans by network, each until a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BanList {
    bans: BTreeMap<IpNet, Time>,
}

/// The ip as the ban list compares it: IPv4-mapped IPv6 as IPv4 (dual-stack listeners).
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl BanList {
    /// Bans `net` until `until`, replacing an earlier ban of the same network.
    pub fn ban(&mut self, net: IpNet, until: Time) {
        self.bans.insert(net, until);
    }

    /// Lifts the ban on exactly `net`; false when it was not banned.
    pub fn unban(&mut self, net: &IpNet) -> bool {
        self.bans.remove(net).is_some()
    }

    /// When the ban covering `ip` at `now` ends, if one does (the latest of overlapping ones).
    pub fn banned_until(&self, ip: IpAddr, now: Time) -> Option<Time> {
        let ip = canonical(ip);
        self.bans
            .iter()
            .filter(|(net, until)| **until > now && net.contains(ip))
            .map(|(_, until)| *until)
            .max()
    }

    /// True when `ip` is banned at `now`.
    pub fn is_banned(&self, ip: IpAddr, now: Time) -> bool {
        self.banned_until(ip, now).is_some()
    }

    /// Forgets bans that ended by `now`; true when any did.
    pub fn expire(&mut self, now: Time) -> bool {
        let before = self.bans.len();
        self.bans.retain(|_, until| *until > now);
        self.bans.len() != before
    }

    /// Every ban, by network.
    pub fn iter(&self) -> impl Iterator<Item = (&IpNet, &Time)> {
        self.bans.iter()
    }

    /// The list as bytes for [`crate::chain::WriteOp::PutBans`].
    pub fn save(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        write_compact_size(&mut out, self.bans.len() as u64);
        for (net, until) in &self.bans {
            match net.addr {
                IpAddr::V4(v4) => {
                    out.push(4);
                    out.extend_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    out.push(6);
                    out.extend_from_slice(&v6.octets());
                }
            }
            out.push(net.prefix);
            out.extend_from_slice(&until.as_millis().to_le_bytes());
        }
        out
    }

    /// A list saved by [`BanList::save`].
    pub fn restore(bytes: &[u8]) -> Result<BanList, RestoreBansError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != VERSION {
            return Err(RestoreBansError::Version(version));
        }
        let n = r.count(MIN_RECORD, MAX_SAVED)?;
        let mut list = BanList::default();
        for _ in 0..n {
            let addr = match r.u8()? {
                4 => IpAddr::from(r.array::<4>()?),
                6 => IpAddr::from(r.array::<16>()?),
                other => return Err(RestoreBansError::Family(other)),
            };
            let prefix = r.u8()?;
            let net = IpNet::new(addr, prefix).ok_or(RestoreBansError::Prefix(prefix))?;
            list.ban(net, Time::from_millis(r.u64_le()?));
        }
        r.finish()?;
        Ok(list)
    }
}

/// Why a saved ban list was not restored (the node then starts without bans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreBansError {
    /// The list is from an unknown format.
    Version(u8),
    /// An address family byte other than 4 or 6.
    Family(u8),
    /// A prefix longer than its address.
    Prefix(u8),
    /// The bytes are truncated or malformed.
    Malformed(DecodeError),
}

impl From<DecodeError> for RestoreBansError {
    fn from(e: DecodeError) -> Self {
        RestoreBansError::Malformed(e)
    }
}

impl std::fmt::Display for RestoreBansError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestoreBansError::Version(v) => write!(f, "ban list format {v} is not supported"),
            RestoreBansError::Family(b) => write!(f, "ban list names address family {b}"),
            RestoreBansError::Prefix(p) => write!(f, "ban list holds a /{p} network"),
            RestoreBansError::Malformed(e) => write!(f, "ban list is malformed: {e}"),
        }
    }
}

impl std::error::Error for RestoreBansError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn t(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    #[test]
    fn subnets_cover_their_hosts_until_the_ban_ends() {
        let mut b = BanList::default();
        b.ban(net("10.1.0.0/16"), t(1000));
        b.ban(net("::1"), t(500));
        assert!(b.is_banned("10.1.200.3".parse().unwrap(), t(999)));
        assert!(
            b.is_banned("::ffff:10.1.0.1".parse().unwrap(), t(0)),
            "mapped"
        );
        assert!(!b.is_banned("10.2.0.1".parse().unwrap(), t(0)));
        assert!(!b.is_banned("10.1.0.1".parse().unwrap(), t(1000)));
        assert_eq!(b.banned_until("::1".parse().unwrap(), t(0)), Some(t(500)));
        assert!(b.expire(t(600)));
        assert!(!b.expire(t(600)));
        assert_eq!(b.iter().count(), 1);
        assert!(b.unban(&net("10.1.9.9/16")), "same network");
        assert!(!b.unban(&net("10.1.0.0/16")));
    }

    #[test]
    fn a_saved_list_restores_equal() {
        let mut b = BanList::default();
        b.ban(net("192.168.0.0/24"), t(u64::MAX));
        b.ban(net("2001:db8::/32"), t(7));
        b.ban(net("8.8.8.8"), t(42));
        assert_eq!(BanList::restore(&b.save()).unwrap(), b);
        assert_eq!(
            BanList::restore(&BanList::default().save()).unwrap(),
            BanList::default()
        );
    }

    #[test]
    fn damaged_lists_are_refused() {
        let mut b = BanList::default();
        b.ban(net("8.8.8.8"), t(42));
        let good = b.save();
        assert_eq!(BanList::restore(&[9]), Err(RestoreBansError::Version(9)));
        assert!(matches!(
            BanList::restore(&good[..good.len() - 1]),
            Err(RestoreBansError::Malformed(_))
        ));
        let mut family = good.clone();
        family[2] = 5;
        assert_eq!(BanList::restore(&family), Err(RestoreBansError::Family(5)));
        let mut prefix = good.clone();
        prefix[7] = 33;
        assert_eq!(BanList::restore(&prefix), Err(RestoreBansError::Prefix(33)));
        let mut trailing = good;
        trailing.push(0);
        assert!(BanList::restore(&trailing).is_err());
    }
}
