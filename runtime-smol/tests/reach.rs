//! Reachable on the real network, end to end, each test in a network namespace of its own
//! (routable addresses on its loopback, its own DNS server and home gateway, nothing leaving
//! it): DNS seeds dialled on each network's standard port, `--nodnsseed`, seeds resolved
//! through the proxy with `--proxy`, `--externalip` and `--uacomment` as a connecting peer
//! sees them, a node learning another's address from `addr` relay alone, and UPnP against a
//! gateway that works, fails or stays silent.

mod common;

use common::netns::{self, NODE_IP, OTHER_IP};
use common::peer::TestPeer;
use common::rpc::Daemon;
use common::socks::Socks;
use common::{dns, free_port, gateway, PATIENCE};
use rbtcd_core::params::{Network, Params};
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const MINING_ADDR: &str = "--miningaddr=mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc";

/// The log of the daemon in `home` on `network`.
fn log_of(home: &Path, network: Network) -> String {
    let path = home
        .join(".rbtcd/logs")
        .join(network.name())
        .join("rbtcd.log");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `done` holds, failing with `what`.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the daemon with stderr kept, for the exit check.
fn daemon(home: &Path, args: &[&str]) -> Child {
    common::rbtcd(home, args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A daemon with RPC (on a free loopback port) on `network`, for the tests that need to know
/// it is up before checking that something did not happen.
fn rpc_daemon(name: &str, network_flag: &str, extra: &[&str]) -> Daemon {
    let home = common::home(name);
    let rpc = format!("127.0.0.1:{}", free_port());
    let mut args = vec![
        network_flag.to_string(),
        format!("--rpclisten={rpc}"),
        "--rpcuser=admin".to_string(),
        "--rpcpass=adminpw".to_string(),
        "--rpclimituser=limited".to_string(),
        "--rpclimitpass=limitedpw".to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = daemon(&home, &refs);
    let d = Daemon {
        child,
        rpc,
        p2p: String::new(),
        home,
        tls: false,
    };
    wait_until("RPC never came up", || common::listening(&d.rpc));
    d
}

#[test]
fn seeds_are_dialled_on_each_networks_standard_port() {
    if !netns::enter("seeds_are_dialled_on_each_networks_standard_port") {
        return;
    }
    let asked = dns::serve(NODE_IP.parse().unwrap());
    let networks = [
        (None, Network::Mainnet),
        (Some("--testnet"), Network::Testnet3),
        (Some("--testnet4"), Network::Testnet4),
        (Some("--signet"), Network::Signet),
    ];
    for (flag, network) in networks {
        let params = Params::new(network);
        // Where the seeds' nodes listen: the standard port, not rbtcd's 12008.
        let node = TcpListener::bind((NODE_IP, params.standard_port)).unwrap();
        let home = common::home(network.name());
        let args: Vec<&str> = flag.into_iter().chain(["--nolisten", "--norpc"]).collect();
        let child = daemon(&home, &args);
        node.set_nonblocking(true).unwrap();
        let start = Instant::now();
        let mut conn = loop {
            match node.accept() {
                Ok((conn, _)) => break conn,
                Err(_) => assert!(start.elapsed() < PATIENCE, "{network}: never dialled"),
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        conn.set_nonblocking(false).unwrap();
        let mut magic = [0u8; 4];
        std::io::Read::read_exact(&mut conn, &mut magic).unwrap();
        assert_eq!(magic, params.magic, "{network}: a version of this network");
        common::terminate(child);
        let _ = std::fs::remove_dir_all(&home);
        let names = asked.lock().unwrap().clone();
        for seed in &params.dns_seeds {
            assert!(
                names.contains(seed),
                "{network}: {seed} not looked up: {names:?}"
            );
        }
    }
}

#[test]
fn nodnsseed_looks_nothing_up() {
    if !netns::enter("nodnsseed_looks_nothing_up") {
        return;
    }
    let asked = dns::serve(NODE_IP.parse().unwrap());
    let d = rpc_daemon("nodnsseed", "--testnet4", &["--nodnsseed", "--nolisten"]);
    // The node asks for seeds as it starts, before it serves any RPC call.
    d.ok("getblockcount", json!([]));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(*asked.lock().unwrap(), Vec::<String>::new());
    assert!(!log_of(&d.home, Network::Testnet4).contains("DNS seed"));
}

#[test]
fn with_a_proxy_seeds_are_resolved_by_the_proxy_only() {
    if !netns::enter("with_a_proxy_seeds_are_resolved_by_the_proxy_only") {
        return;
    }
    let asked = dns::serve(NODE_IP.parse().unwrap());
    let socks = Socks {
        login: None,
        resolves_to: NODE_IP.parse().unwrap(),
    };
    let (proxy, requests) = socks.start("127.0.0.1:0");
    let home = common::home("proxy-seeds");
    let proxy_arg = format!("--proxy={proxy}");
    let child = daemon(&home, &[&proxy_arg, "--norpc"]);
    let params = Params::new(Network::Mainnet);
    let expected: Vec<String> = params
        .dns_seeds
        .iter()
        .map(|s| format!("RESOLVE {s}"))
        .chain([format!("CONNECT {NODE_IP}:8333")])
        .collect();
    wait_until(
        "the proxy never resolved every seed and dialled the answer",
        || {
            let seen = requests.lock().unwrap();
            expected.iter().all(|e| seen.contains(e))
        },
    );
    common::terminate(child);
    assert_eq!(
        *asked.lock().unwrap(),
        Vec::<String>::new(),
        "the system resolver was asked"
    );
}

#[test]
fn a_connecting_peer_sees_externalip_and_uacomment() {
    if !netns::enter("a_connecting_peer_sees_externalip_and_uacomment") {
        return;
    }
    let d = Daemon::start(
        "externalip",
        &[
            "--listen=0.0.0.0:12008",
            "--externalip=1.2.3.4",
            "--uacomment=reach-test",
        ],
    );
    // Without a port of its own, the external address has our (first) listen port.
    let p2p: SocketAddr = d.p2p.parse().unwrap();
    let external = SocketAddr::from(([1, 2, 3, 4], p2p.port()));
    let node: SocketAddr = format!("{NODE_IP}:12008").parse().unwrap();
    let mut peer = TestPeer::connect(node, Params::new(Network::Regtest).magic);
    let version = peer.handshake();
    assert!(
        version.user_agent.ends_with("(reach-test)/"),
        "{}",
        version.user_agent
    );
    assert_eq!(version.sender.socket_addr(), external);
    assert_eq!(peer.getaddr().first(), Some(&external));
}

#[test]
fn a_node_learns_anothers_address_from_addr_relay_alone() {
    if !netns::enter("a_node_learns_anothers_address_from_addr_relay_alone") {
        return;
    }
    // A knows only B; B is told nothing about A. A listens on all interfaces, so it
    // advertises its interface address once it has a recent tip.
    let b_listen = format!("{OTHER_IP}:12010");
    let a = Daemon::start(
        "relay-a",
        &[
            MINING_ADDR,
            "--listen=0.0.0.0:12008",
            &format!("--connect={b_listen}"),
        ],
    );
    a.ok("generate", json!([1]));
    let b = Daemon::start("relay-b", &[&format!("--listen={b_listen}")]);
    let a_advertised = format!("{NODE_IP}:12008");
    wait_until("B never dialled the address A advertised", || {
        let peers = b.ok("getpeerinfo", json!([]));
        peers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["addr"] == json!(a_advertised) && p["inbound"] == json!(false))
    });
    let inbound = a.ok("getpeerinfo", json!([]));
    assert!(
        inbound
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["inbound"] == json!(true)),
        "{inbound}"
    );
}

/// The calls of `action` the gateway received so far.
fn calls_of(calls: &gateway::Calls, action: &str) -> Vec<gateway::Call> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.action == action)
        .cloned()
        .collect()
}

#[test]
fn upnp_maps_renews_advertises_and_deletes_the_mapping() {
    if !netns::enter("upnp_maps_renews_advertises_and_deletes_the_mapping") {
        return;
    }
    let external = Ipv4Addr::new(20, 1, 2, 3);
    // The gateway lists the mapping with 4 s left: the node must renew well before 15 min.
    let calls = gateway::start(gateway::Mode::Working { lease: 4 }, external);
    let home = common::home("upnp");
    let child = daemon(
        &home,
        &["--regtest", "--upnp", "--listen=0.0.0.0:12008", "--norpc"],
    );
    wait_until("the port was never mapped", || {
        !calls_of(&calls, "AddPortMapping").is_empty()
    });
    let add = &calls_of(&calls, "AddPortMapping")[0];
    assert_eq!(add.arg("NewExternalPort"), Some("12008"));
    assert_eq!(add.arg("NewInternalPort"), Some("12008"));
    assert_eq!(add.arg("NewProtocol"), Some("TCP"));
    assert_eq!(add.arg("NewLeaseDuration"), Some("1200"));
    common::wait_for_log(&home, "the external address", |log| {
        log.contains("Successfully bound via UPnP to 20.1.2.3:12008")
    });
    let node: SocketAddr = format!("{NODE_IP}:12008").parse().unwrap();
    let mut peer = TestPeer::connect(node, Params::new(Network::Regtest).magic);
    let version = peer.handshake();
    assert_eq!(
        version.sender.socket_addr(),
        SocketAddr::from((external, 12008))
    );
    wait_until("the mapping was never renewed", || {
        calls_of(&calls, "AddPortMapping").len() >= 2
    });
    assert!(calls_of(&calls, "DeletePortMapping").is_empty());
    common::terminate(child);
    let _ = std::fs::remove_dir_all(&home);
    let deletes = calls_of(&calls, "DeletePortMapping");
    assert_eq!(deletes.len(), 1, "deleted at SIGTERM");
    assert_eq!(deletes[0].arg("NewExternalPort"), Some("12008"));
    assert_eq!(deletes[0].arg("NewProtocol"), Some("TCP"));
}

/// With a gateway in `mode`, the node logs `line` and goes on serving peers.
fn upnp_failure_leaves_the_node_running(mode: gateway::Mode, line: &str) {
    let external = Ipv4Addr::new(20, 1, 2, 3);
    let _calls = gateway::start(mode, external);
    let home = common::home("upnp-failure");
    let child = daemon(
        &home,
        &["--regtest", "--upnp", "--listen=0.0.0.0:12008", "--norpc"],
    );
    common::wait_for_log(&home, line, |log| log.contains(line));
    let node: SocketAddr = format!("{NODE_IP}:12008").parse().unwrap();
    let mut peer = TestPeer::connect(node, Params::new(Network::Regtest).magic);
    let version = peer.handshake();
    // It advertises its interface address, never one it did not learn from the gateway.
    let sender = version.sender.socket_addr();
    assert_eq!(sender, SocketAddr::from(([20, 0, 0, 1], 12008)));
    common::terminate(child);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_gateway_answering_errors_leaves_the_node_running() {
    if !netns::enter("a_gateway_answering_errors_leaves_the_node_running") {
        return;
    }
    upnp_failure_leaves_the_node_running(gateway::Mode::Failing, "can't add UPnP port mapping");
}

#[test]
fn a_silent_gateway_leaves_the_node_running() {
    if !netns::enter("a_silent_gateway_leaves_the_node_running") {
        return;
    }
    upnp_failure_leaves_the_node_running(gateway::Mode::Silent, "Can't discover upnp");
}
