//! An honest sync under each P2P attack of issue 19: a regtest daemon with 2,000 blocks is
//! flooded for 10 s over IPv4 loopback by one attack at a time while a second daemon syncs
//! every block from it over IPv6 loopback (so bans of the attacker's address do not touch the
//! honest peer). Prints the honest sync's time quiet and under each flood, their ratio, the
//! attacked daemon's peak resident memory during each flood and over the whole run, and the
//! machine's load.
//!
//! `cargo bench -p rbtcd --bench hostile`; under `cargo test` (no `--bench` argument) a short
//! smoke pass of 50 blocks and one-second floods.

#[path = "../tests/common/mod.rs"]
mod e2e;

use e2e::foreign::{peak_rss_kb, RssSampler};
use e2e::rpc::Daemon;
use e2e::{free_port, p2p};
use rbtcd_core::chain::builder::spend;
use rbtcd_core::primitives::{Hash256, OutPoint};
use rbtcd_core::wire::{InvType, Inventory, Message};
use serde_json::json;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The regtest address generated blocks pay to.
const MINING_ADDR: &str = "mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc";

/// One attack: a name and what each attacking connection does until `stop`.
struct Attack {
    name: &'static str,
    /// Connections run at once.
    connections: usize,
    run: fn(&Target, &AtomicBool),
}

/// The daemon under attack, as the attacker sees it.
struct Target {
    addr: SocketAddr,
    blocks: Vec<Hash256>,
    /// Bytes the attackers wrote.
    sent: AtomicU64,
}

impl Target {
    fn write_raw(&self, s: &mut TcpStream, bytes: &[u8]) -> Option<()> {
        s.write_all(bytes).ok()?;
        self.sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Some(())
    }

    fn write(&self, s: &mut TcpStream, msg: &Message) -> Option<()> {
        self.write_raw(s, &p2p::message(msg))
    }

    /// Runs `session` on fresh handshaken connections until `stop` (reconnecting after each
    /// drop); their replies are read and thrown away unless `read` is false.
    fn keep_attacking(
        &self,
        stop: &AtomicBool,
        read: bool,
        mut session: impl FnMut(&mut TcpStream) -> Option<()>,
    ) {
        while !stop.load(Ordering::Relaxed) {
            match p2p::handshake(self.addr, rand_u64()) {
                Some(mut s) => {
                    // A connection refused after the accept (the address banned by an earlier
                    // flood's score) stops reading: give up on it and connect again.
                    if s.set_write_timeout(Some(Duration::from_secs(1))).is_err() {
                        continue;
                    }
                    if read {
                        p2p::drain(&s);
                    }
                    while !stop.load(Ordering::Relaxed) && session(&mut s).is_some() {}
                }
                // Refused (banned, or every slot taken): try again shortly.
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// Randomness for nonces and txids (the attack needs no reproducibility).
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

fn random_hash() -> Hash256 {
    let mut b = [0u8; 32];
    for chunk in b.chunks_mut(8) {
        chunk.copy_from_slice(&rand_u64().to_le_bytes());
    }
    Hash256(b)
}

/// 50,000 random txids per `inv`, as fast as the daemon reads them.
fn inv_flood(t: &Target, stop: &AtomicBool) {
    t.keep_attacking(stop, true, |s| {
        let inv = (0..50_000)
            .map(|_| Inventory {
                inv_type: InvType::TX,
                hash: random_hash(),
            })
            .collect();
        t.write(s, &Message::Inv(inv))
    });
}

/// Distinct transactions the mempool refuses (version 3), unsolicited: banned after 50, then
/// again each time the one-second ban ends.
fn invalid_tx_flood(t: &Target, stop: &AtomicBool) {
    t.keep_attacking(stop, true, |s| {
        let mut tx = spend(&[OutPoint::new(random_hash(), 0)], &[1000]);
        tx.version = 3;
        t.write(s, &Message::Tx(tx))
    });
}

/// `getdata` for every block, again and again, never reading the answers.
fn getdata_without_reading(t: &Target, stop: &AtomicBool) {
    let all: Vec<Inventory> = t
        .blocks
        .iter()
        .map(|h| Inventory {
            inv_type: InvType::WITNESS_BLOCK,
            hash: *h,
        })
        .collect();
    let request = p2p::message(&Message::GetData(all));
    // A full socket blocks the write: `keep_attacking` gives up on it and reconnects.
    t.keep_attacking(stop, false, |s| t.write_raw(s, &request));
}

/// 4 MB messages of a command the daemon does not know.
fn unknown_4mb(t: &Target, stop: &AtomicBool) {
    let payload = vec![0xa5; 3_999_000];
    let junk = p2p::frame("bigjunk", &payload, payload.len() as u32);
    t.keep_attacking(stop, true, |s| t.write_raw(s, &junk));
}

/// A payload over its command's limit and an `inv` of 50,001 entries, alternately: each is
/// disconnected at once, and the attacker reconnects.
fn oversize(t: &Target, stop: &AtomicBool) {
    let ping = p2p::frame("ping", &[0; 9], 9);
    let mut inv = vec![0xfd];
    inv.extend_from_slice(&50_001u16.to_le_bytes());
    inv.extend(std::iter::repeat_n(0u8, 50_000 * 36));
    let inv = p2p::frame("inv", &inv, inv.len() as u32);
    let mut which = false;
    t.keep_attacking(stop, true, |s| {
        which = !which;
        t.write_raw(s, if which { &ping } else { &inv })
    });
}

/// Starts a fresh daemon that syncs from `from` and returns how long it took to reach `tip`.
fn honest_sync(name: &str, from: &str, tip: &str) -> Duration {
    let start = Instant::now();
    let b = Daemon::start(name, &[&format!("--connect={from}")]);
    while b.ok("getbestblockhash", json!([])) != json!(tip) {
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "sync never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (blocks, flood) = match full {
        true => (2_000u32, Duration::from_secs(10)),
        false => (50, Duration::from_secs(1)),
    };
    let v6 = format!("[::1]:{}", free_port());
    let source = Daemon::start(
        "bench-hostile",
        &[
            &format!("--listen={v6}"),
            &format!("--miningaddr={MINING_ADDR}"),
            // Short bans, so the banned flood comes back and keeps flooding.
            "--banduration=1s",
        ],
    );
    let mut mined = 0;
    while mined < blocks {
        let n = (blocks - mined).min(500);
        source.ok("generate", json!([n]));
        mined += n;
    }
    let tip = source.ok("getbestblockhash", json!([]));
    let tip = tip.as_str().unwrap();
    let hashes: Vec<Hash256> = (1..=blocks)
        .map(|h| {
            let hex = source.ok("getblockhash", json!([h]));
            let mut b = rbtcd_core::primitives::hash::hex_decode(hex.as_str().unwrap()).unwrap();
            b.reverse();
            Hash256(b.try_into().unwrap())
        })
        .collect();
    let target = Arc::new(Target {
        addr: source.p2p.parse().unwrap(),
        blocks: hashes,
        sent: AtomicU64::new(0),
    });
    let pid = source.child.id();

    // A first sync warms the daemon's caches; the second is the quiet reference.
    honest_sync("bench-hostile-warmup", &v6, tip);
    let quiet = honest_sync("bench-hostile-quiet", &v6, tip);
    let quiet_rss = mb(peak_rss_kb(pid));
    println!(
        "bench: sync_{blocks}_blocks_quiet: {:.2} s",
        quiet.as_secs_f64()
    );
    println!("bench: daemon_peak_rss_quiet: {quiet_rss:.1} MB");

    let attacks = [
        Attack {
            name: "inv_flood",
            connections: 1,
            run: inv_flood,
        },
        Attack {
            name: "invalid_tx_flood",
            connections: 1,
            run: invalid_tx_flood,
        },
        Attack {
            name: "getdata_without_reading",
            connections: 3,
            run: getdata_without_reading,
        },
        Attack {
            name: "unknown_4mb_messages",
            connections: 1,
            run: unknown_4mb,
        },
        Attack {
            name: "oversize_payload_and_inv",
            connections: 1,
            run: oversize,
        },
    ];
    for attack in attacks {
        let stop = Arc::new(AtomicBool::new(false));
        target.sent.store(0, Ordering::Relaxed);
        let flooders: Vec<_> = (0..attack.connections)
            .map(|_| {
                let (t, stop) = (Arc::clone(&target), Arc::clone(&stop));
                std::thread::spawn(move || (attack.run)(&t, &stop))
            })
            .collect();
        let began = Instant::now();
        let sampler = RssSampler::start(pid);
        let name = format!("bench-hostile-{}", attack.name);
        let took = honest_sync(&name, &v6, tip);
        std::thread::sleep(flood.saturating_sub(began.elapsed()));
        stop.store(true, Ordering::Relaxed);
        let flooded = began.elapsed();
        for f in flooders {
            f.join().unwrap();
        }
        let most_rss = sampler.stop();
        let sent = target.sent.load(Ordering::Relaxed);
        println!(
            "bench: sync_{blocks}_blocks_under_{}: {:.2} s",
            attack.name,
            took.as_secs_f64()
        );
        println!(
            "ratio: sync_under_{}_vs_quiet: {:.2}",
            attack.name,
            took.as_secs_f64() / quiet.as_secs_f64()
        );
        println!(
            "bench: daemon_rss_max_under_{}: {:.1} MB",
            attack.name,
            mb(most_rss)
        );
        println!(
            "bench: flood_sent_{}: {:.1} MB in {:.1} s",
            attack.name,
            sent as f64 / 1e6,
            flooded.as_secs_f64()
        );
    }
    let peak = mb(peak_rss_kb(pid));
    println!("bench: daemon_peak_rss: {peak:.1} MB");
    println!("ratio: daemon_peak_rss_vs_quiet: {:.2}", peak / quiet_rss);
    println!("bench: loadavg_1min: {}", e2e::foreign::loadavg());
}
