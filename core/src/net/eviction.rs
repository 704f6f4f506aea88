//! Which inbound peer to drop when every inbound slot is taken and another connection arrives
//! (Bitcoin Core's `SelectNodeToEvict`), so one host or network cannot hold every slot: peers
//! that are hard for an attacker to imitate are protected (a spread of network groups, low
//! ping, recent novel transactions and blocks, long uptime) and, among the rest, the youngest
//! connection of the network group with the most connections goes.

/// What eviction looks at for one inbound peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<P> {
    /// The driver's token.
    pub id: P,
    /// When it connected, ms.
    pub connected_at: u64,
    /// Its lowest ping round trip, ms (`None`: never answered).
    pub min_ping: Option<u64>,
    /// When it last sent a block new to us, ms (0: never).
    pub last_block_at: u64,
    /// When it last sent a transaction we accepted, ms (0: never).
    pub last_tx_at: u64,
    /// It asked for transaction relay.
    pub relays_txs: bool,
    /// It serves the full chain (NODE_NETWORK).
    pub full_node: bool,
    /// Its network group, hashed with a secret key so an attacker cannot choose which groups
    /// are protected.
    pub keyed_group: u64,
}

/// Protects (removes from `c`) the `k` candidates that sort last by `key` and satisfy `keep`.
fn protect_last<P, K: Ord>(
    c: &mut Vec<Candidate<P>>,
    k: usize,
    key: impl Fn(&Candidate<P>) -> K,
    keep: impl Fn(&Candidate<P>) -> bool,
) {
    c.sort_by_key(|x| key(x));
    let mut protected = 0;
    let mut i = c.len();
    while i > 0 && protected < k {
        i -= 1;
        if keep(&c[i]) {
            c.remove(i);
            protected += 1;
        }
    }
}

/// The peer to evict among `candidates` (inbound, not whitelisted), or `None` when every one
/// is protected and the new connection should be refused instead.
pub fn select<P: Ord + Copy>(mut c: Vec<Candidate<P>>) -> Option<P> {
    // Sorting by id first makes every later (stable) sort deterministic on ties; each key
    // ends with the connection time so that, on ties, older connections are protected.
    c.sort_by_key(|x| x.id);
    // A few peers from groups chosen by the secret key: an attacker would need addresses in
    // groups it cannot predict.
    protect_last(
        &mut c,
        4,
        |x| (x.keyed_group, std::cmp::Reverse(x.connected_at)),
        |_| true,
    );
    // The lowest latency: hard to fake from far away.
    protect_last(
        &mut c,
        8,
        |x| {
            (
                std::cmp::Reverse(x.min_ping.unwrap_or(u64::MAX)),
                std::cmp::Reverse(x.connected_at),
            )
        },
        |_| true,
    );
    // Recent novel transactions, then (for peers not relaying transactions) recent blocks, then
    // recent blocks from anyone: useful work an attacker must actually do.
    protect_last(
        &mut c,
        4,
        |x| {
            (
                x.last_tx_at,
                x.relays_txs,
                std::cmp::Reverse(x.connected_at),
            )
        },
        |_| true,
    );
    protect_last(
        &mut c,
        8,
        |x| (x.last_block_at, std::cmp::Reverse(x.connected_at)),
        |x| !x.relays_txs && x.full_node,
    );
    protect_last(
        &mut c,
        4,
        |x| {
            (
                x.last_block_at,
                x.full_node,
                std::cmp::Reverse(x.connected_at),
            )
        },
        |_| true,
    );
    // Half of the rest by uptime: the longest connected.
    let half = c.len() / 2;
    protect_last(
        &mut c,
        half,
        |x| std::cmp::Reverse(x.connected_at),
        |_| true,
    );
    if c.is_empty() {
        return None;
    }
    // The group with the most connections (ties: the one with the youngest member) loses its
    // youngest connection.
    let mut groups: std::collections::BTreeMap<u64, (usize, u64, P)> = Default::default();
    for x in &c {
        let g = groups.entry(x.keyed_group).or_insert((0, 0, x.id));
        g.0 += 1;
        if x.connected_at >= g.1 {
            g.1 = x.connected_at;
            g.2 = x.id;
        }
    }
    groups
        .values()
        .max_by_key(|(count, youngest, id)| (*count, *youngest, *id))
        .map(|(_, _, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: u32, group: u64, connected_at: u64) -> Candidate<u32> {
        Candidate {
            id,
            connected_at,
            min_ping: Some(100 + u64::from(id)),
            last_block_at: 0,
            last_tx_at: 0,
            relays_txs: true,
            full_node: true,
            keyed_group: group,
        }
    }

    #[test]
    fn the_biggest_group_loses_its_youngest_connection() {
        // 30 honest peers in distinct groups, 80 from one attacker group connecting later.
        let mut c: Vec<_> = (0..30)
            .map(|i| peer(i, 1000 + u64::from(i), u64::from(i)))
            .collect();
        c.extend((30..110).map(|i| peer(i, 7, 1000 + u64::from(i))));
        assert_eq!(select(c.clone()), Some(109));
        // Even when the attacker pings fastest, it still loses one of its own.
        for x in c.iter_mut().filter(|x| x.keyed_group == 7) {
            x.min_ping = Some(1);
        }
        let victim = select(c).unwrap();
        assert!(victim >= 30, "honest peer {victim} evicted");
    }

    #[test]
    fn peers_that_relay_new_blocks_and_transactions_are_protected() {
        let mut c: Vec<_> = (0..40).map(|i| peer(i, 5, u64::from(i))).collect();
        assert_eq!(select(c.clone()), Some(39), "the youngest goes");
        // The youngest two relayed a block and a transaction recently.
        c[39].last_block_at = 50;
        c[38].last_tx_at = 60;
        assert_eq!(select(c), Some(37));
    }

    #[test]
    fn too_few_candidates_are_all_protected() {
        let c: Vec<_> = (0..4).map(|i| peer(i, u64::from(i), 0)).collect();
        assert_eq!(select(c), None);
        assert_eq!(select::<u32>(Vec::new()), None);
    }
}
