use super::*;
use crate::rng::Rng;
use crate::wire::ServiceFlags;
use proptest::prelude::*;

const NOW: u64 = 1_700_000_000;

fn v4(a: u8, b: u8, c: u8, d: u8) -> AddrV2 {
    AddrV2::Ipv4([a, b, c, d])
}

fn entry(addr: AddrV2, time: u64) -> AddrV2Entry {
    AddrV2Entry {
        time: time as u32,
        services: ServiceFlags(1),
        addr,
        port: 12008,
    }
}

fn peer(addr: AddrV2) -> PeerAddr {
    PeerAddr { addr, port: 12008 }
}

fn manager(seed: u64) -> AddrManager {
    AddrManager::new(Rng::new(seed))
}

#[test]
fn unroutable_addresses_are_ignored_and_future_ones_backdated() {
    let mut m = manager(1);
    let src = v4(1, 1, 1, 1);
    m.add(
        &[
            entry(v4(10, 0, 0, 1), NOW),
            entry(v4(8, 8, 8, 8), NOW + 3600),
        ],
        &src,
        NOW,
    );
    assert_eq!(m.len(), 1);
    assert_eq!(
        m.get(&peer(v4(8, 8, 8, 8))).unwrap().time,
        NOW - BACKDATE_SECS
    );
    m.check_invariants().unwrap();
}

#[test]
fn good_moves_to_tried_and_select_finds_it() {
    let mut m = manager(2);
    let a = v4(8, 8, 8, 8);
    m.add(&[entry(a.clone(), NOW)], &v4(1, 1, 1, 1), NOW);
    assert_eq!((m.new_count(), m.tried_count()), (1, 0));
    m.attempt(&peer(a.clone()), NOW);
    m.good(&peer(a.clone()), NOW);
    assert_eq!((m.new_count(), m.tried_count()), (0, 1));
    assert!(m.get(&peer(a.clone())).unwrap().tried);
    assert_eq!(m.select(NOW + 3600).unwrap().peer, peer(a));
    m.check_invariants().unwrap();
}

#[test]
fn failing_addresses_become_bad_and_leave_getaddr_answers() {
    let mut m = manager(3);
    let addrs: Vec<AddrV2Entry> = (0..200).map(|i| entry(v4(20, i, 1, 1), NOW)).collect();
    m.add(&addrs, &v4(1, 1, 1, 1), NOW);
    let answer = m.address_cache(NOW);
    assert_eq!(answer.len(), m.len() * GETADDR_PERCENT / 100);
    for _ in 0..known::RETRIES {
        m.attempt(&peer(v4(20, 0, 1, 1)), NOW);
    }
    assert!(m.get(&peer(v4(20, 0, 1, 1))).unwrap().is_bad(NOW + 120));
    for _ in 0..20 {
        assert!(m
            .address_cache(NOW + 120)
            .iter()
            .all(|e| e.addr != v4(20, 0, 1, 1)));
    }
}

#[test]
fn same_seed_same_choices() {
    let fill = |m: &mut AddrManager| {
        let addrs: Vec<AddrV2Entry> = (0..500u32)
            .map(|i| entry(v4(30 + (i % 50) as u8, (i / 50) as u8, 0, 1), NOW))
            .collect();
        m.add(&addrs, &v4(1, 2, 3, 4), NOW);
    };
    let (mut a, mut b) = (manager(9), manager(9));
    fill(&mut a);
    fill(&mut b);
    for _ in 0..50 {
        assert_eq!(
            a.select(NOW).map(|k| k.peer.clone()),
            b.select(NOW).map(|k| k.peer.clone())
        );
    }
    assert_eq!(a.address_cache(NOW), b.address_cache(NOW));
}

#[test]
fn corrupt_saved_state_is_refused() {
    let mut m = manager(4);
    m.add(&[entry(v4(8, 8, 8, 8), NOW)], &v4(1, 1, 1, 1), NOW);
    let bytes = m.save();
    assert!(matches!(
        AddrManager::restore(&bytes[..bytes.len() - 1], Rng::new(0)),
        Err(RestoreError::Malformed(_))
    ));
    let mut wrong = bytes.clone();
    wrong[0] = 99;
    assert_eq!(
        AddrManager::restore(&wrong, Rng::new(0)).unwrap_err(),
        RestoreError::Version(99)
    );
    assert!(AddrManager::restore(&[], Rng::new(0)).is_err());
}

/// A random operation on the manager.
#[derive(Debug, Clone)]
enum Op {
    Add {
        source: u8,
        addrs: Vec<(u8, u8, u8)>,
        age: u32,
    },
    Attempt(u16),
    Good(u16),
    Connected(u16),
    Select,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u8>(), prop::collection::vec(any::<(u8, u8, u8)>(), 1..60), 0u32..40 * 86_400)
            .prop_map(|(source, addrs, age)| Op::Add { source, addrs, age }),
        1 => any::<u16>().prop_map(Op::Attempt),
        2 => any::<u16>().prop_map(Op::Good),
        1 => any::<u16>().prop_map(Op::Connected),
        1 => Just(Op::Select),
    ]
}

fn nth_known(m: &AddrManager, i: u16) -> Option<PeerAddr> {
    (!m.is_empty()).then(|| {
        m.known
            .keys()
            .nth(usize::from(i) % m.len())
            .unwrap()
            .clone()
    })
}

fn apply(m: &mut AddrManager, op: &Op, now: u64) {
    match op {
        Op::Add { source, addrs, age } => {
            let entries: Vec<AddrV2Entry> = addrs
                .iter()
                .map(|(a, b, c)| entry(v4(40 + a % 100, *b, *c, 1), now - u64::from(*age)))
                .collect();
            m.add(&entries, &v4(50, *source, 0, 1), now);
        }
        Op::Attempt(i) => {
            if let Some(p) = nth_known(m, *i) {
                m.attempt(&p, now);
            }
        }
        Op::Good(i) => {
            if let Some(p) = nth_known(m, *i) {
                m.good(&p, now);
            }
        }
        Op::Connected(i) => {
            if let Some(p) = nth_known(m, *i) {
                m.connected(&p, now);
            }
        }
        Op::Select => {
            m.select(now);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Tables stay within their sizes, no address is duplicated or lost between tables, and
    /// a saved then restored manager equals the original and behaves the same.
    #[test]
    fn tables_bounded_consistent_and_restorable(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..80)) {
        let mut m = manager(seed);
        for (i, o) in ops.iter().enumerate() {
            apply(&mut m, o, NOW + i as u64 * 60);
            prop_assert_eq!(m.check_invariants(), Ok(()));
        }
        prop_assert!(m.new.values().all(|b| b.len() <= NEW_BUCKET_SIZE));
        prop_assert!(m.tried.iter().all(|b| b.len() <= TRIED_BUCKET_SIZE));
        let saved = m.save();
        let mut restored = AddrManager::restore(&saved, Rng::new(seed ^ 1)).unwrap();
        prop_assert_eq!(&restored.known, &m.known);
        prop_assert_eq!(&restored.new, &m.new);
        prop_assert_eq!(&restored.tried, &m.tried);
        prop_assert_eq!(restored.save(), saved);
        // Restored, it keeps working under the same operations.
        for o in &ops {
            apply(&mut restored, o, NOW + 100_000);
        }
        prop_assert_eq!(restored.check_invariants(), Ok(()));
    }
}

/// One source, however many addresses it sends from however many groups, lands in at most
/// NEW_BUCKETS_PER_GROUP new buckets: a bounded share of the new table.
#[test]
fn one_source_fills_only_its_share_of_the_new_table() {
    let mut m = manager(5);
    let spammer = v4(66, 66, 66, 66);
    for batch in 0..40u32 {
        let addrs: Vec<AddrV2Entry> = (0..1000u32)
            .map(|i| {
                let n = batch * 1000 + i;
                entry(
                    v4(
                        60 + (n % 150) as u8,
                        (n / 150 % 256) as u8,
                        (n >> 16) as u8,
                        7,
                    ),
                    NOW,
                )
            })
            .collect();
        m.add(&addrs, &spammer, NOW);
    }
    let used = m.new.len();
    assert!(used as u64 <= NEW_BUCKETS_PER_GROUP, "{used} buckets");
    assert!(m.new_count() <= NEW_BUCKETS_PER_GROUP as usize * NEW_BUCKET_SIZE);
    // An honest source still gets room.
    m.add(&[entry(v4(9, 9, 9, 9), NOW)], &v4(7, 7, 7, 7), NOW);
    assert!(m.get(&peer(v4(9, 9, 9, 9))).is_some());
    m.check_invariants().unwrap();
}
