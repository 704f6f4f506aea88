//! `--upnp`, as btcd's `upnpUpdateThread`: find the gateway (SSDP), map the P2P listen port
//! on it with a 20-minute lease, tell the node the gateway's external address (advertised to
//! peers as a UPnP-learnt local address), renew the mapping before the lease ends, and delete
//! it at shutdown. Every failure is logged and the node runs on without UPnP.
//!
//! The protocol is igd-next's (a maintained SSDP + SOAP client, also used by rust-libp2p). Its
//! asynchronous client is tokio's, so its blocking client runs on smol's thread pool
//! (`smol::unblock`), each call bounded by the crate's own timeouts.

use igd_next::{Gateway, PortMappingProtocol, SearchOptions};
use rbtcd_core::net::local::LocalSource;
use rbtcd_core::node::Input;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

/// The lease asked for, seconds (btcd's).
pub const LEASE_SECS: u32 = 20 * 60;
/// How often the mapping is renewed when the gateway keeps the lease asked for (btcd's).
pub const RENEW_EVERY: Duration = Duration::from_secs(15 * 60);
/// How long gateway discovery may take.
const SEARCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The mapping's description on the gateway.
const DESCRIPTION: &str = "rbtcd listen port";
/// Most mapping entries read from the gateway looking for ours.
const MAX_ENTRIES_READ: u32 = 64;

/// When to renew a mapping the gateway reports with `lease` seconds left (`None`: it did not
/// say; `Some(0)`: permanent): after three quarters of it, which for the lease asked for is
/// btcd's 15 minutes. Some gateways shorten the lease they grant, and would drop a mapping
/// renewed on btcd's schedule.
pub fn renew_after(lease: Option<u32>) -> Duration {
    match lease {
        None | Some(0) => RENEW_EVERY,
        Some(secs) => RENEW_EVERY.min(Duration::from_secs(u64::from(secs) * 3 / 4).max(ONE_SEC)),
    }
}

const ONE_SEC: Duration = Duration::from_secs(1);

/// A port mapping kept on the gateway until [`Mapping::remove`].
pub struct Mapping {
    gateway: Gateway,
    port: u16,
    /// The external address was learnt and given to the node.
    reported: bool,
}

/// Maps `port` on the gateway while `stop` is open, then deletes the mapping; the external
/// address goes to the node through `report`. Returns once the mapping is removed, or at once
/// when there is no gateway.
pub async fn run(port: u16, report: impl Fn(Input), stop: async_channel::Receiver<()>) {
    let started = smol::future::or(async { Some(start(port, &report).await) }, async {
        let _ = stop.recv().await;
        None
    });
    let Some(Some(mut mapping)) = started.await else {
        return;
    };
    smol::future::or(mapping.keep(&report), async {
        let _ = stop.recv().await;
    })
    .await;
    mapping.remove().await;
}

/// Finds the gateway and maps `port`; `None` (logged) when there is no gateway. The first
/// mapping's external address goes to the node through `report`.
async fn start(port: u16, report: impl Fn(Input)) -> Option<Mapping> {
    let search = || {
        let mut options = SearchOptions::default();
        options.timeout = Some(SEARCH_TIMEOUT);
        igd_next::search_gateway(options)
    };
    let gateway = match smol::unblock(search).await {
        Ok(g) => g,
        Err(e) => {
            log::warn!(target: "rbtcd::p2p", "Can't discover upnp: {e}");
            return None;
        }
    };
    log::info!(target: "rbtcd::p2p", "UPnP gateway found at {}", gateway.addr);
    let mut mapping = Mapping {
        gateway,
        port,
        reported: false,
    };
    if mapping.add().await {
        mapping.reported = mapping.learn_external_address(&report).await;
    }
    Some(mapping)
}

impl Mapping {
    /// Keeps the mapping alive: renews it before each lease ends, and learns the external
    /// address once a mapping succeeds if it had not yet. Runs until dropped.
    pub async fn keep(&mut self, report: impl Fn(Input)) {
        loop {
            let lease = self.granted_lease().await;
            smol::Timer::after(renew_after(lease)).await;
            if self.add().await && !self.reported {
                self.reported = self.learn_external_address(&report).await;
            }
        }
    }

    /// Adds (or renews) the mapping; false (logged) when the gateway refused.
    async fn add(&self) -> bool {
        let (gateway, port) = (self.gateway.clone(), self.port);
        let added = smol::unblock(move || {
            let local = local_ip_towards(gateway.addr)?;
            gateway
                .add_port(
                    PortMappingProtocol::TCP,
                    port,
                    SocketAddr::new(local, port),
                    LEASE_SECS,
                    DESCRIPTION,
                )
                .map_err(|e| e.to_string())
        })
        .await;
        match added {
            Ok(()) => {
                log::debug!(target: "rbtcd::p2p", "UPnP mapped port {port} for {LEASE_SECS} s");
                true
            }
            Err(e) => {
                log::warn!(target: "rbtcd::p2p", "can't add UPnP port mapping: {e}");
                false
            }
        }
    }

    /// Asks the gateway its external address and gives it to the node; false when it would
    /// not say.
    async fn learn_external_address(&self, report: &impl Fn(Input)) -> bool {
        let gateway = self.gateway.clone();
        match smol::unblock(move || gateway.get_external_ip()).await {
            Ok(ip) => {
                let addr = SocketAddr::new(ip, self.port);
                log::info!(target: "rbtcd::p2p", "Successfully bound via UPnP to {addr}");
                report(Input::LocalAddress {
                    addr,
                    source: LocalSource::Upnp,
                });
                true
            }
            Err(e) => {
                log::warn!(target: "rbtcd::p2p", "UPnP can't get external address: {e}");
                false
            }
        }
    }

    /// The lease left on our mapping as the gateway lists it, if it lists it.
    async fn granted_lease(&self) -> Option<u32> {
        let (gateway, port) = (self.gateway.clone(), self.port);
        smol::unblock(move || {
            (0..MAX_ENTRIES_READ)
                .map_while(|i| gateway.get_generic_port_mapping_entry(i).ok())
                .find(|e| e.external_port == port && e.protocol == PortMappingProtocol::TCP)
                .map(|e| e.lease_duration)
        })
        .await
    }

    /// Deletes the mapping (at shutdown).
    pub async fn remove(self) {
        let (gateway, port) = (self.gateway, self.port);
        match smol::unblock(move || gateway.remove_port(PortMappingProtocol::TCP, port)).await {
            Ok(()) => log::info!(target: "rbtcd::p2p", "Removed UPnP port mapping for port {port}"),
            Err(e) => log::warn!(target: "rbtcd::p2p", "unable to remove UPnP port mapping: {e}"),
        }
    }
}

/// Our address on the gateway's network: the source address the OS picks to reach it (a UDP
/// "connection" sends nothing).
fn local_ip_towards(gateway: SocketAddr) -> Result<IpAddr, String> {
    let unspecified: SocketAddr = match gateway {
        SocketAddr::V4(_) => "0.0.0.0:0".parse().expect("constant"),
        SocketAddr::V6(_) => "[::]:0".parse().expect("constant"),
    };
    let socket = UdpSocket::bind(unspecified).map_err(|e| e.to_string())?;
    socket.connect(gateway).map_err(|e| e.to_string())?;
    socket
        .local_addr()
        .map(|a| a.ip())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_comes_before_the_granted_lease_ends() {
        assert_eq!(renew_after(None), RENEW_EVERY);
        assert_eq!(renew_after(Some(0)), RENEW_EVERY, "permanent mapping");
        assert_eq!(renew_after(Some(LEASE_SECS)), RENEW_EVERY);
        // A gateway that cut the lease to a minute is renewed every 45 s.
        assert_eq!(renew_after(Some(60)), Duration::from_secs(45));
        assert_eq!(renew_after(Some(1)), Duration::from_secs(1));
        assert_eq!(
            renew_after(Some(7200)),
            RENEW_EVERY,
            "never later than btcd"
        );
    }
}
