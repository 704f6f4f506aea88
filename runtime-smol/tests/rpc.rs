//! The RPC server end to end: a regtest daemon on free ports, spoken to over raw HTTP and by
//! rbtcctl.

mod common;

use common::rpc::*;
use rbtcd_core::rpc::auth::basic_auth;
use rbtcd_core::rpc::methods::{Reach, METHODS};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn chain_commands_answer_in_btcds_shapes() {
    let d = Daemon::start("shapes", &[]);
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
    let genesis = d.ok("getbestblockhash", json!([]));
    assert_eq!(d.ok("getblockhash", json!([0])), genesis);
    assert_eq!(d.ok("getbestblock", json!([]))["height"], json!(0));
    assert_eq!(d.err("getblockhash", json!([1])), -1);
    let hex = d.ok("getblock", json!([genesis, 0]));
    assert_eq!(hex.as_str().unwrap().len(), 2 * 285);
    let v1 = d.ok("getblock", json!([genesis]));
    let core_only = ["nonce", "bits", "difficulty", "previousblockhash"];
    for key in common::foreign::BLOCK_FIELDS.iter().chain(&core_only) {
        assert!(v1.get(key).is_some(), "getblock lacks {key}: {v1}");
    }
    assert_eq!(v1["confirmations"], json!(1));
    let v2 = d.ok("getblock", json!([genesis, 2]));
    let coinbase = &v2["rawtx"][0];
    assert_eq!(coinbase["txid"], v1["tx"][0]);
    assert_eq!(d.err("getblock", json!(["00".repeat(32)])), -5);
    let hdr = d.ok("getblockheader", json!([genesis]));
    assert_eq!(hdr["merkleroot"], v1["merkleroot"]);
    assert_eq!(
        d.ok("getblockheader", json!([genesis, false]))
            .as_str()
            .unwrap()
            .len(),
        160
    );
    let info = d.ok("getblockchaininfo", json!([]));
    assert_eq!(
        (info["chain"].clone(), info["blocks"].clone()),
        (json!("regtest"), json!(0))
    );
    // Checked as text: Core's figure, which serde_json's fast float parsing reads 1 ulp off.
    let (_, _, reply) = d.post(
        Some(ADMIN),
        br#"{"jsonrpc":"1.0","id":1,"method":"getdifficulty","params":[]}"#,
    );
    let reply = String::from_utf8(reply).unwrap();
    assert!(
        reply.contains(r#""result":4.656542373906925e-10"#),
        "{reply}"
    );
    let tips = d.ok("getchaintips", json!([]));
    assert_eq!(
        tips,
        json!([{"height": 0, "hash": genesis, "branchlen": 0, "status": "active"}])
    );
    assert_eq!(d.ok("getcurrentnet", json!([])), json!(0xdab5_bffa_u32));
    let gi = d.ok("getinfo", json!([]));
    assert_eq!(
        (gi["blocks"].clone(), gi["protocolversion"].clone()),
        (json!(0), json!(70016))
    );
    assert_eq!(
        d.ok("getmempoolinfo", json!([])),
        json!({"size": 0, "bytes": 0})
    );
    assert_eq!(d.ok("getrawmempool", json!([])), json!([]));
    assert_eq!(d.ok("getrawmempool", json!([true])), json!({}));
    // The genesis coinbase is not spendable, so it is not in the UTXO set.
    assert_eq!(d.ok("gettxout", json!([coinbase["txid"], 0])), Value::Null);
    let decoded = d.ok("decoderawtransaction", json!([coinbase["hex"]]));
    assert_eq!(decoded["txid"], coinbase["txid"]);
    assert_eq!(decoded["vout"][0]["value"], json!(50.0));
    assert_eq!(d.err("decoderawtransaction", json!(["0100"])), -22);
    let script = d.ok("decodescript", json!(["51"]));
    assert_eq!(
        (script["asm"].clone(), script["type"].clone()),
        (json!("1"), json!("nonstandard"))
    );
    let addr = d.ok(
        "validateaddress",
        json!(["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]),
    );
    assert_eq!(addr["isvalid"], json!(true));
    assert_eq!(
        d.ok("validateaddress", json!(["nonsense"])),
        json!({"isvalid": false})
    );
    assert!(d.ok("uptime", json!([])).as_u64().is_some());
    assert_eq!(
        d.ok("version", json!([]))["btcdjsonrpcapi"]["versionstring"],
        json!("1.3.0")
    );
    assert!(d
        .ok("help", json!([]))
        .as_str()
        .unwrap()
        .contains("getblockcount"));
    assert_eq!(
        d.err("getbalance", json!([])),
        -1,
        "wallet commands: no wallet"
    );
    assert_eq!(d.err("getwork", json!([])), -1, "unimplemented");
}

#[test]
fn limited_user_is_refused_every_admin_command() {
    let d = Daemon::start("limited", &[]);
    let admin_only = METHODS
        .iter()
        .filter(|m| !m.limited && m.reach == Reach::Both);
    let mut n = 0;
    for m in admin_only {
        let r = d.call_as(LIMITED, m.name, json!([]));
        assert_eq!(r["error"]["code"], json!(-32603), "{}: {r}", m.name);
        n += 1;
    }
    assert!(n >= 15, "btcd has at least 15 admin-only commands, saw {n}");
    assert_eq!(
        d.call_as(LIMITED, "getblockcount", json!([]))["result"],
        json!(0)
    );
    // `stop` was refused above, so the daemon still serves.
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}

#[test]
fn malformed_requests_get_btcds_codes() {
    let d = Daemon::start("malformed", &[]);
    let code = |body: &[u8]| -> Value {
        let (status, _, reply) = d.post(Some(ADMIN), body);
        assert_eq!(status, 200);
        serde_json::from_slice(&reply).unwrap()
    };
    assert_eq!(code(b"{not json")["error"]["code"], json!(-32700));
    assert_eq!(
        code(br#"{"id":1,"method":"nosuch"}"#)["error"]["code"],
        json!(-32601)
    );
    assert_eq!(
        code(br#"{"id":1,"method":"getblockhash","params":["x"]}"#)["error"]["code"],
        json!(-32602)
    );
    assert_eq!(
        code(br#"{"id":1,"method":"getblockcount","params":[1,2]}"#)["error"]["code"],
        json!(-32602)
    );
    let v2 = code(br#"{"jsonrpc":"2.0","id":"a","method":"getblockcount"}"#);
    assert_eq!(v2, json!({"jsonrpc": "2.0", "id": "a", "result": 0}));
    let batch = code(br#"[{"jsonrpc":"2.0","id":1,"method":"getblockcount"},{"jsonrpc":"2.0","id":2,"method":"nosuch"}]"#);
    assert_eq!(batch[0]["result"], json!(0));
    assert_eq!(batch[1]["error"]["code"], json!(-32601));
}

#[test]
fn bad_credentials_get_401_and_oversize_bodies_are_refused() {
    let d = Daemon::start("auth", &[]);
    let body = br#"{"id":1,"method":"getblockcount"}"#;
    for who in [None, Some((ADMIN.0, "wrong")), Some((LIMITED.0, ADMIN.1))] {
        let (status, head, _) = d.post(who, body);
        assert_eq!(status, 401, "{who:?}");
        assert!(
            header(&head, "WWW-Authenticate") == Some("Basic realm=\"rbtcd RPC\""),
            "{head}"
        );
    }
    let mut s = d.connect();
    s.write_all(
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n",
            basic_auth(ADMIN.0, ADMIN.1),
            rbtcd::rpc::http::MAX_BODY + 1
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(read_reply(&mut s).0, 413);
    assert!(is_closed(&mut s));
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}

/// A keep-alive connection that has been served once, so it surely holds a client slot.
/// Connections refused with 503 (the daemon may still count the probes that waited for it to
/// come up) are retried.
fn served_client(d: &Daemon) -> TcpStream {
    let body = br#"{"id":1,"method":"getblockcount"}"#;
    let start = Instant::now();
    loop {
        let mut s = d.connect();
        send(&mut s, Some(ADMIN), body, false);
        if read_reply(&mut s).0 == 200 {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never served");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn surplus_clients_get_503_and_unauthenticated_ones_hold_no_slot() {
    let d = Daemon::start("limits", &["--rpcmaxclients=2"]);
    let body = br#"{"id":1,"method":"getblockcount"}"#;
    // Connections that never authenticate take no slot: both slots still go to clients that do.
    let mut silent: Vec<TcpStream> = (0..10).map(|_| d.connect()).collect();
    let mut kept = served_client(&d);
    let other = served_client(&d);
    // Both slots are held: one more authenticated client is answered 503 and closed.
    let mut extra = d.connect();
    send(&mut extra, Some(ADMIN), body, false);
    assert_eq!(read_reply(&mut extra).0, 503);
    assert!(is_closed(&mut extra));
    // A closed client's slot is freed (the server notices the close; served_client retries).
    drop(other);
    let third = served_client(&d);
    drop(third);
    // A client that trickles its head a byte a second is dropped by its deadline anyway: the
    // deadline counts from the connection, and nothing the client sends moves it.
    let mut slow = d.connect();
    slow.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let head = format!("POST / HTTP/1.1\r\nHost: x\r\nX-Pad: {}", "a".repeat(100));
    let start = Instant::now();
    let mut dropped = false;
    for byte in head.as_bytes() {
        if slow.write_all(&[*byte]).is_err() {
            dropped = true;
            break;
        }
        let mut chunk = [0u8; 256];
        match slow.read(&mut chunk) {
            Ok(0) => {
                dropped = true;
                break;
            }
            Ok(n) => panic!("unexpected reply {:?}", &chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                dropped = true;
                break;
            }
        }
        // The kept client, which asks every second, is served meanwhile.
        send(&mut kept, Some(ADMIN), body, false);
        assert_eq!(read_reply(&mut kept).0, 200);
    }
    assert!(dropped, "trickling client kept for {:?}", start.elapsed());
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "{:?}",
        start.elapsed()
    );
    // The silent ones were dropped by then too, without a reply.
    for s in &mut silent {
        assert!(is_closed(s));
    }
    send(&mut kept, Some(ADMIN), body, false);
    assert_eq!(read_reply(&mut kept).0, 200);
}

#[test]
fn rbtcctl_calls_and_fails_with_the_servers_message() {
    let d = Daemon::start("ctl", &[]);
    let ctl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rbtcctl"))
            .env("HOME", &d.home)
            .args([
                "--regtest",
                "--notls",
                "-s",
                &d.rpc,
                "-u",
                ADMIN.0,
                "-P",
                ADMIN.1,
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let out = ctl(&["getblockcount"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    let out = ctl(&["getblockheader", &"00".repeat(32)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "-5: Block not found"
    );
    let out = ctl(&[
        "getblock",
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
        "1",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["height"], json!(0));
    let out = ctl(&["stop"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "rbtcd stopping."
    );
    let mut d = d;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = d.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "stop never shut the daemon down"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn websocket_clients_authenticate_by_header_or_first_command() {
    let d = Daemon::start("ws", &[]);
    let (status, ws) = websocket(&d, Some(ADMIN));
    assert_eq!(status, 101);
    let mut ws = ws.unwrap();
    assert_eq!(
        ws_call(&mut ws, "getblockcount", json!([])).unwrap()["result"],
        json!(0)
    );
    assert!(ws_call(&mut ws, "session", json!([])).unwrap()["result"]["sessionid"].is_u64());
    let again = ws_call(&mut ws, "authenticate", json!([ADMIN.0, ADMIN.1])).unwrap();
    assert_eq!(again["error"]["code"], json!(-32600));

    let (status, ws) = websocket(&d, None);
    assert_eq!(status, 101);
    let mut ws = ws.unwrap();
    let auth = ws_call(&mut ws, "authenticate", json!([LIMITED.0, LIMITED.1])).unwrap();
    assert_eq!(auth, json!({"result": null, "error": null, "id": 9}));
    assert_eq!(
        ws_call(&mut ws, "getbestblockhash", json!([])).unwrap()["result"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(
        ws_call(&mut ws, "stop", json!([])).unwrap()["error"]["code"],
        json!(-32602)
    );

    // An unauthenticated client that sends anything but `authenticate` is disconnected.
    let (_, ws) = websocket(&d, None);
    assert_eq!(ws_call(&mut ws.unwrap(), "getblockcount", json!([])), None);
    let (_, ws) = websocket(&d, None);
    assert_eq!(
        ws_call(&mut ws.unwrap(), "authenticate", json!([ADMIN.0, "wrong"])),
        None
    );
    // A wrong header is refused before the upgrade.
    assert_eq!(websocket(&d, Some((ADMIN.0, "wrong"))).0, 401);
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}

#[test]
fn message_and_mempool_dry_run_commands_answer_in_btcds_shapes() {
    let d = Daemon::start("msg", &[]);
    // Bitcoin Core's rpc_signmessage.py regtest key and address.
    let key = "cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N";
    let address = "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB";
    let sig = d.ok("signmessagewithprivkey", json!([key, "hello"]));
    assert_eq!(
        d.ok("verifymessage", json!([address, sig, "hello"])),
        json!(true)
    );
    assert_eq!(
        d.ok("verifymessage", json!([address, sig, "hullo"])),
        json!(false)
    );
    assert_eq!(d.err("verifymessage", json!(["x", sig, "hello"])), -5);
    // A version-2 transaction spending an unknown output: Core's "missing-inputs".
    let tx = [
        "02000000",         // version
        "01",               // one input
        &"11".repeat(32),   // unknown txid
        "00000000",         // vout
        "00",               // empty scriptSig
        "ffffffff",         // sequence
        "01",               // one output
        "00e1f50500000000", // 1 BTC
        "160014",           // P2WPKH script
        &"22".repeat(20),   // key hash
        "00000000",         // lock time
    ]
    .concat();
    let r = d.ok("testmempoolaccept", json!([[tx]]));
    assert_eq!(r[0]["reject-reason"], json!("missing-inputs"), "{r}");
    assert_eq!(r[0]["package-error"], json!(""));
    assert_eq!(d.err("testmempoolaccept", json!([["zz"]])), -22);
    let r = d.ok(
        "gettxspendingprevout",
        json!([[{"txid": "11".repeat(32), "vout": 3}]]),
    );
    assert_eq!(r, json!([{"txid": "11".repeat(32), "vout": 3}]));
    for m in ["signmessagewithprivkey", "testmempoolaccept"] {
        let r = d.call_as(LIMITED, m, json!([]));
        assert_eq!(r["error"]["code"], json!(-32603), "{m}: {r}");
    }
}

#[test]
fn index_backed_commands_name_their_index_and_getheaders_serves_headers() {
    let d = Daemon::start("indexes", &[]);
    let genesis = d.ok("getblockhash", json!([0]));
    for (method, params) in [
        (
            "searchrawtransactions",
            json!(["mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc"]),
        ),
        ("getcfilter", json!([genesis, 0])),
        ("getcfilterheader", json!([genesis, 0])),
    ] {
        let r = d.call_as(ADMIN, method, params);
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("index must be enabled"), "{method}: {r}");
    }
    // Only genesis exists: a locator naming it leaves nothing after it.
    assert_eq!(d.ok("getheaders", json!([[genesis], ""])), json!([]));
    assert_eq!(d.err("getheaders", json!(["x", ""])), -32602);
}

#[test]
fn a_client_that_expects_100_continue_gets_it_before_sending_its_body() {
    let d = Daemon::start("continue", &[]);
    let body = br#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#;
    let mut s = d.connect();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        basic_auth(ADMIN.0, ADMIN.1),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // The interim reply comes while the body is held back (the read fails after 60 s).
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut got = vec![0u8; interim.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, interim);
    s.write_all(body).unwrap();
    let (status, _, reply) = read_reply(&mut s);
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply["result"], json!(0), "{reply}");
}

#[test]
fn savemempool_answers_after_the_write_and_a_failed_write_gets_cores_error() {
    let d = Daemon::start("savemempool", &[]);
    let file = d.ok("savemempool", json!([]))["filename"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        std::path::Path::new(&file).is_file(),
        "answered before {file} was written"
    );
    // As Core's own test does: a directory where the temporary file must go fails the write.
    let blocker = format!("{file}.new");
    std::fs::create_dir(&blocker).unwrap();
    let r = d.call_as(ADMIN, "savemempool", json!([]));
    assert_eq!(
        (&r["error"]["code"], &r["error"]["message"]),
        (&json!(-1), &json!("Unable to dump mempool to disk")),
        "{r}"
    );
    assert!(r["result"].is_null(), "{r}");
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(d.ok("savemempool", json!([]))["filename"], json!(file));
}

#[test]
fn rbtcctl_reads_its_own_config_file_and_writes_the_first_from_the_daemons() {
    let d = Daemon::start("ctlconf", &[]);
    let home = d.home.join("user");
    let ctl = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rbtcctl"))
            .env("HOME", &home)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        (out.status.code(), stdout, stderr)
    };
    // Its own file, in btcd's format, names everything: no flags needed.
    let own = home.join(".rbtcctl").join("rbtcctl.conf");
    std::fs::create_dir_all(own.parent().unwrap()).unwrap();
    let text = format!(
        "[Application Options]\nrpcuser={}\nrpcpass={}\nnotls=1\nregtest=1\nrpcserver={}\n",
        ADMIN.0, ADMIN.1, d.rpc
    );
    std::fs::write(&own, &text).unwrap();
    assert_eq!(
        ctl(&["getblockcount"]),
        (Some(0), "0".into(), String::new())
    );
    // `-C` names another file; flags override it.
    let other = home.join("other.conf");
    std::fs::write(&other, text.replace(ADMIN.1, "wrong")).unwrap();
    let (code, _, e) = ctl(&["-C", other.to_str().unwrap(), "getblockcount"]);
    assert_eq!(code, Some(1), "{e}");
    let right = [
        "-C",
        other.to_str().unwrap(),
        "-P",
        ADMIN.1,
        "getblockcount",
    ];
    assert_eq!(ctl(&right).0, Some(0));
    // A line it does not know stops it, naming the file and line.
    std::fs::write(&other, "[Application Options]\nrpcusr=x\n").unwrap();
    let (code, _, e) = ctl(&["-C", other.to_str().unwrap(), "getblockcount"]);
    assert_eq!(code, Some(1));
    assert!(e.contains("other.conf: line 2"), "{e}");

    // No file of its own yet: the first is written from the daemon's credentials.
    std::fs::remove_dir_all(own.parent().unwrap()).unwrap();
    let daemon_conf = home.join(".rbtcd").join("rbtcd.conf");
    std::fs::create_dir_all(daemon_conf.parent().unwrap()).unwrap();
    std::fs::write(
        &daemon_conf,
        format!("rpcuser={}\nrpcpass={}\nnotls=1\n", ADMIN.0, ADMIN.1),
    )
    .unwrap();
    let flags = ["--regtest", "-s", d.rpc.as_str(), "getblockcount"];
    assert_eq!(ctl(&flags), (Some(0), "0".into(), String::new()));
    assert_eq!(
        std::fs::read_to_string(&own).unwrap(),
        format!("rpcuser={}\nrpcpass={}\nnotls=1\n", ADMIN.0, ADMIN.1)
    );
}
