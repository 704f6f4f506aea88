//! The peer and network RPC commands end to end: two regtest daemons connected with `node
//! connect` and `addnode`, seen in `getpeerinfo`, traffic in `getnettotals`, pings, and
//! disconnects; the limited user is refused each admin-only network command.

mod common;

use common::rpc::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Polls `done` until it holds; fails the test after 30 s (a hang, not a slow machine).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Peers that completed the handshake (their version is known).
fn ready_peers(d: &Daemon) -> Vec<Value> {
    let peers = d.ok("getpeerinfo", json!([]));
    peers
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["version"].as_u64().unwrap_or(0) > 0)
        .cloned()
        .collect()
}

fn peer_count(d: &Daemon) -> usize {
    d.ok("getpeerinfo", json!([])).as_array().unwrap().len()
}

#[test]
fn node_connect_shows_both_peers_counts_bytes_pings_and_disconnects() {
    let a = Daemon::start("net-a", &[]);
    let b = Daemon::start("net-b", &[]);
    assert_eq!(a.ok("getpeerinfo", json!([])), json!([]));
    assert_eq!(a.ok("node", json!(["connect", b.p2p])), Value::Null);
    wait_until("a and b shake hands", || {
        ready_peers(&a).len() == 1 && ready_peers(&b).len() == 1
    });
    // b sends its minrelaytxfee as a feefilter right after the handshake.
    wait_until("b's feefilter arrives", || {
        ready_peers(&a)[0]["feefilter"] == json!(1000)
    });
    let pa = &ready_peers(&a)[0];
    assert_eq!(pa["addr"], json!(b.p2p));
    assert_eq!(pa["inbound"], json!(false));
    assert_eq!(pa["version"], json!(70016));
    assert!(pa["subver"].as_str().unwrap().starts_with("/rbtcd:"));
    assert_eq!(pa["startingheight"], json!(0));
    assert_eq!(pa["banscore"], json!(0));
    let pb = &ready_peers(&b)[0];
    assert_eq!(pb["inbound"], json!(true));
    assert_eq!(b.ok("getconnectioncount", json!([])), json!(1));
    // Core's getnetworkinfo counts them by direction and names us as peers see us.
    let (na, nb) = (
        a.ok("getnetworkinfo", json!([])),
        b.ok("getnetworkinfo", json!([])),
    );
    assert_eq!(
        (&na["connections_in"], &na["connections_out"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(
        (&nb["connections_in"], &nb["connections_out"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(nb["subversion"], pa["subver"]);

    let before = a.ok("getnettotals", json!([]));
    for key in ["totalbytesrecv", "totalbytessent", "timemillis"] {
        assert!(before[key].as_u64().unwrap() > 0, "{key}: {before}");
    }
    assert_eq!(a.ok("ping", json!([])), Value::Null);
    // The ping and its pong add bytes both ways.
    wait_until("the pong arrives", || {
        let now = a.ok("getnettotals", json!([]));
        now["totalbytessent"].as_u64() > before["totalbytessent"].as_u64()
            && now["totalbytesrecv"].as_u64() > before["totalbytesrecv"].as_u64()
            && ready_peers(&a)[0].get("pingwait").is_none()
    });
    let pa = &ready_peers(&a)[0];
    assert!(pa["bytessent"].as_u64().unwrap() > 0);
    assert!(pa["pingtime"].as_f64().is_some());

    let id = pa["id"].to_string();
    assert_eq!(a.ok("node", json!(["disconnect", id])), Value::Null);
    assert_eq!(peer_count(&a), 0);
    assert_eq!(a.err("node", json!(["disconnect", id])), -8);
    wait_until("b sees the connection close", || peer_count(&b) == 0);
}

#[test]
fn addnode_keeps_a_peer_listed_until_removed() {
    let a = Daemon::start("addnode-a", &[]);
    let b = Daemon::start("addnode-b", &[]);
    assert_eq!(a.ok("getaddednodeinfo", json!([false])), json!([]));
    assert_eq!(a.ok("addnode", json!([b.p2p, "add"])), Value::Null);
    assert_eq!(a.err("addnode", json!([b.p2p, "add"])), -8, "already added");
    assert_eq!(a.err("addnode", json!([b.p2p, "sometimes"])), -8);
    wait_until("the added node connects", || ready_peers(&a).len() == 1);
    assert_eq!(
        a.ok("getaddednodeinfo", json!([false])),
        json!([b.p2p.clone()])
    );
    let info = a.ok("getaddednodeinfo", json!([true, b.p2p]));
    assert_eq!(info[0]["addednode"], json!(b.p2p));
    assert_eq!(info[0]["connected"], json!(true));
    assert_eq!(
        info[0]["addresses"],
        json!([{"address": "127.0.0.1", "connected": "outbound"}])
    );
    assert_eq!(a.err("getaddednodeinfo", json!([true, "127.0.0.1:1"])), -24);
    assert_eq!(
        a.err("node", json!(["disconnect", b.p2p])),
        -1,
        "permanent: use remove"
    );
    assert_eq!(a.ok("addnode", json!([b.p2p, "remove"])), Value::Null);
    assert_eq!(peer_count(&a), 0);
    assert_eq!(a.ok("getaddednodeinfo", json!([false])), json!([]));
    assert_eq!(a.err("addnode", json!([b.p2p, "remove"])), -8);
    wait_until("b sees the connection close", || peer_count(&b) == 0);
}

#[test]
fn getnodeaddresses_answers_from_the_empty_book() {
    let d = Daemon::start("nodeaddrs", &[]);
    assert_eq!(d.ok("getnodeaddresses", json!([])), json!([]));
    assert_eq!(d.ok("getnodeaddresses", json!([10])), json!([]));
    assert_eq!(d.err("getnodeaddresses", json!([0])), -8);
    assert_eq!(d.err("node", json!(["connect", "no.such.host"])), -8);
}

#[test]
fn limited_user_is_refused_each_admin_network_command() {
    let d = Daemon::start("net-limited", &[]);
    for (method, params) in [
        ("addnode", json!(["127.0.0.1:1", "add"])),
        ("node", json!(["connect", "127.0.0.1:1"])),
        ("getaddednodeinfo", json!([false])),
        ("getpeerinfo", json!([])),
        ("ping", json!([])),
        ("getnodeaddresses", json!([])),
    ] {
        let r = d.call_as(LIMITED, method, params);
        assert_eq!(r["error"]["code"], json!(-32603), "{method}: {r}");
    }
    assert_eq!(
        d.ok("getaddednodeinfo", json!([false])),
        json!([]),
        "the refused addnode changed nothing"
    );
    // getnettotals is in btcd's limited set.
    let totals = d.call_as(LIMITED, "getnettotals", json!([]));
    assert_eq!(totals["result"]["totalbytessent"], json!(0), "{totals}");
}

#[test]
fn disconnectnode_drops_a_peer_by_address_or_id_as_core() {
    let a = Daemon::start("disc-a", &[]);
    let b = Daemon::start("disc-b", &[]);
    let err = |d: &Daemon, params: Value| {
        let r = d.call_as(ADMIN, "disconnectnode", params);
        r["error"]["code"].as_i64().unwrap_or_else(|| panic!("{r}"))
    };
    assert_eq!(err(&a, json!([b.p2p])), -29, "not connected");
    assert_eq!(err(&a, json!([b.p2p, 1])), -32602, "both given");
    assert_eq!(err(&a, json!([])), -32602, "neither given");
    for by_id in [false, true] {
        assert_eq!(a.ok("node", json!(["connect", b.p2p])), Value::Null);
        wait_until("a and b shake hands", || {
            ready_peers(&a).len() == 1 && ready_peers(&b).len() == 1
        });
        let params = match by_id {
            false => json!([b.p2p]),
            true => json!(["", ready_peers(&a)[0]["id"]]),
        };
        assert_eq!(a.ok("disconnectnode", params), Value::Null);
        wait_until("both drop the connection", || {
            peer_count(&a) == 0 && peer_count(&b) == 0
        });
    }
    assert_eq!(err(&a, json!(["", 999])), -29);
    let r = b.call_as(LIMITED, "disconnectnode", json!([a.p2p]));
    assert_eq!(r["error"]["code"], json!(-32603), "admin only: {r}");
}
