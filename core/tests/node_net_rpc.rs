//! The peer and network RPC commands answered through `Input::Rpc` over the in-memory harness:
//! `getpeerinfo`, `getnettotals`, `ping`, `node`, `addnode`, `getaddednodeinfo` and
//! `getnodeaddresses`, with btcd's shapes and errors.

use rbtcd_core::harness::{Harness, START};
use rbtcd_core::node::{Input, NodeConfig};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rpc::error::code;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

fn call(h: &mut Harness, i: usize, method: &str, params: Value) -> Result<Value, (i32, String)> {
    h.call(i, method, params).map_err(|e| (e.code, e.message))
}

fn err(h: &mut Harness, i: usize, method: &str, params: Value) -> (i32, String) {
    call(h, i, method, params).unwrap_err()
}

/// Three nodes; 0 dials 1 and the handshake is done.
fn network() -> Harness {
    let mut h = Harness::new(Params::new(Network::Regtest));
    for seed in 0..3 {
        h.add_node(NodeConfig::default(), seed);
    }
    h.connect(0, 1);
    h.run_until(START + MINUTE);
    h
}

fn peer_ids(h: &mut Harness, i: usize) -> Vec<u64> {
    let info = call(h, i, "getpeerinfo", json!([])).unwrap();
    info.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn getpeerinfo_and_getnettotals_report_each_connection_and_its_bytes() {
    let mut h = network();
    let info = call(&mut h, 0, "getpeerinfo", json!([])).unwrap();
    let [p] = info.as_array().unwrap().as_slice() else {
        panic!("one peer: {info}");
    };
    let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "id",
        "addr",
        "services",
        "relaytxes",
        "lastsend",
        "lastrecv",
        "bytessent",
        "bytesrecv",
        "conntime",
        "timeoffset",
        "pingtime",
        "version",
        "subver",
        "inbound",
        "startingheight",
        "banscore",
        "feefilter",
        "syncnode",
    ] {
        assert!(keys.contains(&key), "{key} missing from {p}");
    }
    assert_eq!(p["addr"], json!(Harness::addr_of(1).to_string()));
    assert_eq!(p["inbound"], json!(false));
    assert_eq!(
        p["services"],
        json!("00000009"),
        "NETWORK|WITNESS as btcd prints it"
    );
    assert_eq!(p["version"], json!(70016));
    assert!(p["subver"].as_str().unwrap().starts_with("/rbtcd:"));
    assert_eq!(p["feefilter"], json!(1000));
    assert_eq!(p["relaytxes"], json!(true));
    assert!(p["bytessent"].as_u64().unwrap() > 0 && p["bytesrecv"].as_u64().unwrap() > 0);
    assert!(p["conntime"].as_u64().unwrap() >= START.unix_secs());

    // What one side sent, the other received; totals sum every connection.
    let back = call(&mut h, 1, "getpeerinfo", json!([])).unwrap();
    assert_eq!(back[0]["inbound"], json!(true));
    assert_eq!(back[0]["bytesrecv"], p["bytessent"]);
    assert_eq!(back[0]["bytessent"], p["bytesrecv"]);
    let totals = call(&mut h, 0, "getnettotals", json!([])).unwrap();
    assert_eq!(totals["totalbytessent"], p["bytessent"]);
    assert_eq!(totals["totalbytesrecv"], p["bytesrecv"]);
    assert_eq!(totals["timemillis"], json!(h.now().as_millis()));
}

#[test]
fn ping_measures_the_round_trip_of_every_peer() {
    let mut h = network();
    assert_eq!(call(&mut h, 0, "ping", json!([])), Ok(Value::Null));
    let waiting = call(&mut h, 0, "getpeerinfo", json!([])).unwrap();
    assert_eq!(waiting[0]["pingwait"], json!(0.0), "sent just now");
    h.run_until(h.now() + Duration::from_secs(1));
    let info = call(&mut h, 0, "getpeerinfo", json!([])).unwrap();
    // Two 50 ms hops, in microseconds as btcd.
    assert_eq!(info[0]["pingtime"], json!(100_000.0));
    assert!(info[0].get("pingwait").is_none());
}

#[test]
fn node_disconnect_drops_a_peer_by_id_or_address() {
    let mut h = network();
    let [id] = peer_ids(&mut h, 0)[..] else {
        panic!("one peer")
    };
    assert_eq!(
        call(&mut h, 0, "node", json!(["disconnect", id.to_string()])),
        Ok(Value::Null)
    );
    assert!(peer_ids(&mut h, 0).is_empty());
    assert_eq!(
        err(&mut h, 0, "node", json!(["disconnect", id.to_string()])),
        (code::INVALID_PARAMETER, "peer not found".into())
    );
    h.run_until(h.now() + Duration::from_secs(1));
    assert!(
        peer_ids(&mut h, 1).is_empty(),
        "the other side saw it close"
    );

    h.connect(0, 1);
    h.run_until(h.now() + MINUTE);
    let target = Harness::addr_of(1).to_string();
    assert_eq!(
        err(&mut h, 0, "node", json!(["remove", target])),
        (
            code::MISC,
            "can't remove a temporary peer, use disconnect".into()
        )
    );
    assert_eq!(
        call(&mut h, 0, "node", json!(["disconnect", target])),
        Ok(Value::Null)
    );
    assert!(peer_ids(&mut h, 0).is_empty());
}

#[test]
fn added_nodes_are_connected_listed_and_removed() {
    let mut h = network();
    let two: SocketAddr = Harness::addr_of(2);
    let target = two.to_string();
    assert_eq!(
        call(&mut h, 0, "addnode", json!([target, "add"])),
        Ok(Value::Null)
    );
    assert_eq!(
        err(&mut h, 0, "addnode", json!([target, "add"])),
        (code::INVALID_PARAMETER, "peer already connected".into())
    );
    assert_eq!(
        err(&mut h, 0, "node", json!(["connect", target, "temp"])),
        (
            code::INVALID_PARAMETER,
            "peer exists as a permanent peer".into()
        )
    );
    h.run_until(h.now() + MINUTE);
    assert_eq!(peer_ids(&mut h, 2).len(), 1, "node 2 was dialed");
    assert_eq!(
        call(&mut h, 0, "getaddednodeinfo", json!([false])),
        Ok(json!([target]))
    );
    assert_eq!(
        call(&mut h, 0, "getaddednodeinfo", json!([true, target])),
        Ok(json!([{
            "addednode": target,
            "connected": true,
            "addresses": [{"address": two.ip().to_string(), "connected": "outbound"}],
        }]))
    );
    assert_eq!(
        err(&mut h, 0, "node", json!(["disconnect", target])),
        (
            code::MISC,
            "can't disconnect a permanent peer, use remove".into()
        )
    );
    assert_eq!(
        call(&mut h, 0, "addnode", json!([target, "remove"])),
        Ok(Value::Null)
    );
    assert_eq!(
        call(&mut h, 0, "getaddednodeinfo", json!([false])),
        Ok(json!([]))
    );
    // Gone, and not redialed.
    h.run_until(h.now() + MINUTE);
    assert!(peer_ids(&mut h, 2).is_empty());
    assert_eq!(
        err(&mut h, 0, "addnode", json!([target, "remove"])),
        (code::INVALID_PARAMETER, "peer not found".into())
    );
    // A one-off connection is made once and not listed.
    assert_eq!(
        call(&mut h, 0, "addnode", json!([target, "onetry"])),
        Ok(Value::Null)
    );
    h.run_until(h.now() + MINUTE);
    assert_eq!(peer_ids(&mut h, 2).len(), 1);
    assert_eq!(
        call(&mut h, 0, "getaddednodeinfo", json!([false])),
        Ok(json!([]))
    );
}

#[test]
fn getnodeaddresses_draws_from_the_address_book() {
    let mut h = network();
    assert_eq!(
        call(&mut h, 0, "getnodeaddresses", json!([])),
        Ok(json!([]))
    );
    // Seeds answer with IPs of nodes on the network's standard port (regtest's 18444).
    let found: Vec<SocketAddr> = (1..=100u8)
        .map(|i| SocketAddr::from(([20, i, 0, 1], 18444)))
        .collect();
    h.input(
        0,
        Input::Resolved {
            seed: "seed.example".into(),
            addrs: found.iter().map(SocketAddr::ip).collect(),
        },
    );
    let all = call(&mut h, 0, "getnodeaddresses", json!([1000])).unwrap();
    let all = all.as_array().unwrap();
    // A getaddr answer's share: 23% of the good addresses.
    assert_eq!(all.len(), 23);
    for a in all {
        let socket = SocketAddr::new(
            a["address"].as_str().unwrap().parse().unwrap(),
            a["port"].as_u64().unwrap() as u16,
        );
        assert!(found.contains(&socket), "{a}");
        assert_eq!(a["services"], json!(1));
        assert!(a["time"].as_u64().unwrap() > 0);
    }
    assert_eq!(
        call(&mut h, 0, "getnodeaddresses", json!([2]))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
