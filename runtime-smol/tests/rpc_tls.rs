//! RPC over TLS as btcd serves it: on by default with a certificate generated on first start
//! and reused after, plain HTTP to the TLS port answered 400 without disturbing other clients,
//! `/ws` over the same listener, the handshake held to the unauthenticated clients' cap and
//! deadline, and the refusals (`--notls` off loopback, a corrupt certificate) one line each.

mod common;

use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::{Message, WebSocket};
use common::rpc::{header, read_head, Daemon, ADMIN};
use rbtcd::rpc::client::{CallError, Connector};
use rbtcd::rpc::tls::{self, TlsFiles, Trust};
use rbtcd::rpc::UNAUTHENTICATED_CLIENTS;
use rbtcd_core::rpc::auth::basic_auth;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A bound on waits that only a hang would reach: several times the server's deadlines.
const PATIENCE: Duration = Duration::from_secs(60);

fn trusting(cert: &Path) -> Connector {
    Connector::tls(tls::client_config(Trust::Cert(cert)).unwrap())
}

fn block_count(c: &Connector, d: &Daemon) -> Result<Value, CallError> {
    c.call(&d.rpc, ADMIN, "getblockcount", &[], PATIENCE)
}

/// A certificate and key generated for another server, in `dir`.
fn foreign_cert(dir: &Path) -> TlsFiles {
    std::fs::create_dir_all(dir).unwrap();
    let files = TlsFiles {
        cert: dir.join("other.cert"),
        key: dir.join("other.key"),
    };
    tls::server_config(&files).unwrap();
    files
}

#[test]
fn tls_is_on_by_default_and_plain_http_to_it_fails_cleanly() {
    let d = Daemon::start_tls("tls-default", &[]);
    let log = common::wait_for_log(&d.home, "the end of TLS generation", |t| {
        t.contains("Done generating TLS certificates")
    });
    let generating = log.find("Generating TLS certificates...").expect(&log);
    let done = log.find("Done generating TLS certificates").expect(&log);
    assert!(generating < done, "{log}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = d.home.join(".rbtcd/rpc.key");
        let mode = std::fs::metadata(key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let client = trusting(&d.cert());
    assert_eq!(block_count(&client, &d).unwrap(), json!(0));
    // Plain HTTP to the TLS port is told so, as btcd's Go server tells it, and closed; the
    // server goes on serving.
    let plain = Connector::plain()
        .post(
            &d.rpc,
            Some(ADMIN),
            &rbtcd::rpc::client::request("getblockcount", &[]),
            PATIENCE,
        )
        .unwrap();
    assert_eq!(plain.status, 400, "{plain:?}");
    assert_eq!(
        String::from_utf8_lossy(&plain.body),
        "Client sent an HTTP request to an HTTPS server.\n"
    );
    assert_eq!(block_count(&client, &d).unwrap(), json!(0));
    // A client trusting another certificate refuses the server; one skipping verification
    // talks to it.
    let other = foreign_cert(&d.home.join("other"));
    match block_count(&trusting(&other.cert), &d) {
        Err(CallError::Transport(e)) => assert!(e.contains("certificate"), "{e}"),
        other => panic!("an untrusted server was believed: {other:?}"),
    }
    let skip = Connector::tls(tls::client_config(Trust::Anyone).unwrap());
    assert_eq!(block_count(&skip, &d).unwrap(), json!(0));
}

#[test]
fn websockets_are_served_over_the_same_tls_listener() {
    let d = Daemon::start_tls("tls-ws", &[]);
    let mut s = trusting(&d.cert()).open(&d.rpc, PATIENCE).unwrap();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Authorization: {}\r\n\r\n",
        basic_auth(ADMIN.0, ADMIN.1)
    );
    s.write_all(req.as_bytes()).unwrap();
    s.flush().unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(
        header(&head, "Sec-WebSocket-Accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    let mut ws = WebSocket::from_raw_socket(s, Role::Client, None);
    let call = json!({"jsonrpc": "1.0", "id": 7, "method": "getblockcount", "params": []});
    ws.send(Message::text(call.to_string())).unwrap();
    let reply = loop {
        match ws.read().unwrap() {
            Message::Text(t) => break serde_json::from_str::<Value>(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(
        (reply["id"].clone(), reply["result"].clone()),
        (json!(7), json!(0))
    );
}

#[test]
fn handshakes_that_never_finish_are_capped_and_closed_at_the_deadline() {
    let d = Daemon::start_tls("tls-stall", &[]);
    // Each sends the head of a TLS record and then nothing: one more than the cap.
    let mut held: Vec<TcpStream> = (0..=UNAUTHENTICATED_CLIENTS)
        .map(|_| {
            let mut s = TcpStream::connect(&d.rpc).unwrap();
            let _ = s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
            s
        })
        .collect();
    let start = Instant::now();
    for (i, s) in held.iter_mut().enumerate() {
        let left = PATIENCE.saturating_sub(start.elapsed());
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = [0u8; 64];
        // The server closes it (an end of stream, a reset, or an alert and then the end);
        // a read timeout means it was still held open.
        let closed = loop {
            match s.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) => {
                    break !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }
            }
        };
        assert!(
            closed,
            "stalled handshake {i} still open after {PATIENCE:?}"
        );
    }
    drop(held);
    assert_eq!(
        block_count(&trusting(&d.cert()), &d).unwrap(),
        json!(0),
        "service goes on"
    );
}

#[test]
fn the_certificate_is_reused_and_a_corrupt_one_is_one_line() {
    let mut d = Daemon::start_tls("tls-reuse", &[]);
    let cert = std::fs::read(d.cert()).unwrap();
    d.restart(&[]);
    assert_eq!(std::fs::read(d.cert()).unwrap(), cert, "regenerated");
    let log = common::log_text(&d.home);
    assert_eq!(
        log.matches("Generating TLS certificates...").count(),
        1,
        "{log}"
    );
    assert_eq!(block_count(&trusting(&d.cert()), &d).unwrap(), json!(0));
    d.stop();
    std::fs::write(d.cert(), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n").unwrap();
    let rpc = format!("--rpclisten={}", d.rpc);
    let args = [
        "--regtest",
        "--listen=127.0.0.1:0",
        &rpc,
        "--rpcuser=u",
        "--rpcpass=p",
    ];
    let out = common::rbtcd_tls(&d.home, &args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains(&d.cert().display().to_string()), "{stderr}");
}

#[test]
fn notls_off_loopback_is_one_line_and_status_1() {
    let h = common::home("tls-notls");
    let args = [
        "--regtest",
        "--rpcuser=u",
        "--rpcpass=p",
        "--notls",
        "--rpclisten=0.0.0.0:0",
    ];
    let out = common::rbtcd_tls(&h, &args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains("--notls"), "{stderr}");
    assert!(stderr.contains("0.0.0.0"), "{stderr}");
}

#[test]
fn rbtcctl_speaks_tls_by_default_trusting_the_daemons_certificate() {
    let d = Daemon::start_tls("tls-ctl", &[]);
    let other = foreign_cert(&d.home.join("other"));
    let ctl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rbtcctl"))
            .env("HOME", &d.home)
            .args(["--regtest", "-s", &d.rpc, "-u", ADMIN.0, "-P", ADMIN.1])
            .args(args)
            .output()
            .unwrap()
    };
    let out = ctl(&["getblockcount"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    let foreign = format!("--rpccert={}", other.cert.display());
    for refused in [
        &["--notls", "getblockcount"][..],
        &[&foreign, "getblockcount"],
    ] {
        let out = ctl(refused);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{refused:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{refused:?}: {stderr:?}");
        let why = if refused[0] == "--notls" {
            "HTTPS"
        } else {
            "certificate"
        };
        assert!(stderr.contains(why), "{refused:?}: {stderr}");
    }
    let out = ctl(&[&foreign, "--skipverify", "getblockcount"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let missing = d.home.join("missing.cert");
    let out = ctl(&["-c", missing.to_str().unwrap(), "getblockcount"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing.cert"), "{stderr}");
}
