//! DNS seed lookups for the node (the core never touches DNS): through the system resolver,
//! or with `--proxy` through the proxy's RESOLVE command (Tor's extension, as btcd's
//! `torLookupIP`), so that a Tor user's seed lookups never reach their DNS server. A failed
//! lookup is logged once per seed and answered with no addresses; the node asks again later.

use crate::p2p::socks5::{self, Proxy};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// How seeds are looked up, and which have failed before (their later failures are quiet).
#[derive(Clone, Default)]
pub struct SeedResolver {
    /// `--proxy`, through which lookups go when set.
    pub proxy: Option<Proxy>,
    failed: Arc<Mutex<BTreeSet<String>>>,
}

impl SeedResolver {
    /// A resolver going through `proxy` when there is one.
    pub fn new(proxy: Option<Proxy>) -> SeedResolver {
        SeedResolver {
            proxy,
            failed: Arc::default(),
        }
    }

    /// The addresses `seed` gives, empty when the lookup failed.
    pub async fn lookup(&self, seed: &str) -> Vec<IpAddr> {
        let found = match &self.proxy {
            Some(proxy) => socks5::resolve(proxy, seed)
                .await
                .map(|ip| vec![ip])
                .map_err(|e| e.to_string()),
            None => smol::net::resolve((seed, 0))
                .await
                .map(|addrs| addrs.iter().map(|a| a.ip()).collect())
                .map_err(|e| e.to_string()),
        };
        match found {
            Ok(ips) => {
                log::debug!(target: "rbtcd::p2p", "DNS seed {seed} gave {} addresses", ips.len());
                ips
            }
            Err(e) => {
                let first = self.failed.lock().is_ok_and(|mut f| f.insert(seed.into()));
                if first {
                    log::info!(target: "rbtcd::p2p", "DNS seed {seed} lookup failed: {e} (will retry)");
                } else {
                    log::debug!(target: "rbtcd::p2p", "DNS seed {seed} lookup failed again: {e}");
                }
                Vec::new()
            }
        }
    }
}
