//! A regtest daemon with RPC credentials on free ports, spoken to over raw HTTP and WebSocket.

use super::free_ports;
use rbtcd::rpc::client;
use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::{Block, Encodable, TxOut};
use rbtcd_core::rpc::auth::basic_auth;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin user every test daemon has.
pub const ADMIN: (&str, &str) = ("admin", "adminpw");
/// The limited user every test daemon has.
pub const LIMITED: (&str, &str) = ("limited", "limitedpw");

/// A running daemon, killed when dropped.
pub struct Daemon {
    /// The daemon process.
    pub child: Child,
    /// Its RPC listener, `host:port`.
    pub rpc: String,
    /// Its P2P listener, `host:port`.
    pub p2p: String,
    /// Its home directory (removed on drop).
    pub home: PathBuf,
    /// Whether it serves RPC over TLS (else `--notls`).
    pub tls: bool,
}

impl Daemon {
    /// A daemon serving RPC over plain HTTP (`--notls`), as most tests speak it.
    pub fn start(name: &str, extra: &[&str]) -> Daemon {
        Daemon::launch(name, false, extra)
    }

    /// A daemon serving RPC over TLS, with the certificate it generates in its home.
    pub fn start_tls(name: &str, extra: &[&str]) -> Daemon {
        Daemon::launch(name, true, extra)
    }

    /// Starts the daemon on fresh ports, again on others when it exits before its RPC comes
    /// up: between [`free_ports`] releasing a port and the daemon binding it, another test's
    /// outgoing connection can take it as its own port.
    fn launch(name: &str, tls: bool, extra: &[&str]) -> Daemon {
        let home = std::env::temp_dir().join(format!("rbtcd-rpc-{name}-{}", std::process::id()));
        for _ in 0..3 {
            let _ = std::fs::remove_dir_all(&home);
            std::fs::create_dir_all(&home).unwrap();
            let [rpc, p2p] = free_ports().map(|port| format!("127.0.0.1:{port}"));
            let child = spawn(&home, &rpc, &p2p, tls, extra);
            let mut d = Daemon {
                child,
                rpc,
                p2p,
                home: home.clone(),
                tls,
            };
            if d.rpc_came_up() {
                return d;
            }
        }
        panic!("the daemon exited before its RPC came up, three times");
    }

    /// The daemon's generated certificate (`~/.rbtcd/rpc.cert` in its home).
    pub fn cert(&self) -> PathBuf {
        self.home.join(".rbtcd/rpc.cert")
    }

    /// Stops the daemon with SIGTERM (checking it exits cleanly) and starts it again on the
    /// same home and ports with `extra` arguments.
    pub fn restart(&mut self, extra: &[&str]) {
        self.stop();
        self.relaunch(extra);
    }

    /// Starts the stopped daemon again on the same home and ports with `extra` arguments.
    pub fn relaunch(&mut self, extra: &[&str]) {
        self.child = spawn(&self.home, &self.rpc, &self.p2p, self.tls, extra);
        self.wait_for_rpc();
    }

    /// A daemon started with `extra` arguments holding two big blocks on genesis (each a
    /// coinbase paying `outputs` distinct P2WPKH outputs, slow to show at verbosity 2); their
    /// hashes.
    pub fn with_big_blocks(name: &str, outputs: usize, extra: &[&str]) -> (Daemon, Vec<String>) {
        let d = Daemon::start(name, extra);
        let mut hashes = Vec::new();
        for tag in 1..=2 {
            let block = d.big_block(tag, outputs);
            let submitted = d.ok("submitblock", json!([hex_encode(&block.encode())]));
            assert!(submitted.is_null(), "{submitted}");
            hashes.push(block.block_hash().to_string());
        }
        assert_eq!(d.ok("getblockcount", json!([])), json!(2));
        (d, hashes)
    }

    /// A block on the tip whose coinbase pays `outputs` distinct P2WPKH outputs (`tag` tells
    /// blocks apart).
    fn big_block(&self, tag: u8, outputs: usize) -> Block {
        let tip = self.ok("getbestblockhash", json!([]));
        let header = self.ok("getblockheader", json!([tip]));
        let params = Params::new(Network::Regtest);
        let height = header["height"].as_u64().unwrap() as u32;
        let time = header["time"].as_u64().unwrap() as u32;
        let parent = tip.as_str().unwrap().parse().unwrap();
        let mut b = BlockBuilder::new(&params, parent, height + 1, time);
        let each = 1_000;
        b.coinbase.outputs[0].value -= each * outputs as i64;
        for i in 0..outputs {
            let mut script = vec![0x00, 0x14, tag];
            script.extend_from_slice(&[0; 15]);
            script.extend_from_slice(&(i as u32).to_le_bytes());
            b.coinbase.outputs.push(TxOut {
                value: each,
                script_pubkey: script,
            });
        }
        b.build()
    }

    /// Stops the daemon with SIGTERM and checks it exits with status 0 (its home stays).
    pub fn stop(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(self.child.wait().unwrap().code(), Some(0));
    }

    /// Waits until the RPC listener accepts connections; fails if the daemon exits first.
    pub fn wait_for_rpc(&mut self) {
        assert!(
            self.rpc_came_up(),
            "the daemon exited before its RPC came up"
        );
    }

    /// Waits until the RPC listener accepts connections; false when the daemon exited first.
    fn rpc_came_up(&mut self) -> bool {
        let start = Instant::now();
        while !super::listening(&self.rpc) {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "RPC never came up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.rpc).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s
    }

    pub fn call_as(&self, who: (&str, &str), method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        let (status, _, reply) = self.post(Some(who), body.to_string().as_bytes());
        assert_eq!(status, 200, "{method}");
        serde_json::from_slice(&reply).unwrap()
    }

    /// The result of an admin call, failing the test on an error reply.
    pub fn ok(&self, method: &str, params: Value) -> Value {
        let r = self.call_as(ADMIN, method, params);
        assert!(r["error"].is_null(), "{method}: {r}");
        r["result"].clone()
    }

    /// The error code of an admin call.
    pub fn err(&self, method: &str, params: Value) -> i64 {
        let r = self.call_as(ADMIN, method, params);
        r["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("{method}: {r}"))
    }

    pub fn post(&self, who: Option<(&str, &str)>, body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut s = self.connect();
        send(&mut s, who, body, true);
        read_reply(&mut s)
    }
}

/// The regtest daemon with the test credentials, listening on `rpc` and `p2p`.
fn spawn(home: &std::path::Path, rpc: &str, p2p: &str, tls: bool, extra: &[&str]) -> Child {
    let stderr = std::fs::File::options()
        .create(true)
        .append(true)
        .open(stderr_path(home))
        .unwrap();
    daemon_command(home, rpc, p2p, tls, extra)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Where [`spawn`] keeps the daemon's standard error (a panic's message goes there only).
fn stderr_path(home: &std::path::Path) -> PathBuf {
    home.join("stderr.txt")
}

/// The command [`Daemon::start`] runs: the daemon on regtest with `home`, the listeners and
/// the test users, plain HTTP, then `extra`; output discarded.
pub fn command(home: &std::path::Path, rpc: &str, p2p: &str, extra: &[&str]) -> Command {
    daemon_command(home, rpc, p2p, false, extra)
}

/// [`command`], over TLS when `tls` is set.
fn daemon_command(
    home: &std::path::Path,
    rpc: &str,
    p2p: &str,
    tls: bool,
    extra: &[&str],
) -> Command {
    let mut c = Command::new(super::binaries::rbtcd());
    c.env("HOME", home).args([
        "--regtest".to_string(),
        format!("--rpclisten={rpc}"),
        format!("--listen={p2p}"),
        format!("--rpcuser={}", ADMIN.0),
        format!("--rpcpass={}", ADMIN.1),
        format!("--rpclimituser={}", LIMITED.0),
        format!("--rpclimitpass={}", LIMITED.1),
    ]);
    if !tls {
        c.arg("--notls");
    }
    c.args(extra).stdout(Stdio::null()).stderr(Stdio::null());
    c
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What the daemon was doing when the test failed: CI keeps only this output.
            let exited = self.child.try_wait().ok().flatten();
            let log = super::log_text(&self.home);
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "the daemon on {} ({}): {exited:?}; its log's last lines:",
                self.rpc,
                self.home.display()
            );
            for line in tail.iter().rev() {
                eprintln!("  {line}");
            }
            let stderr = std::fs::read_to_string(stderr_path(&self.home)).unwrap_or_default();
            eprintln!("its standard error: {stderr:?}");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

pub fn send(s: &mut TcpStream, who: Option<(&str, &str)>, body: &[u8], close: bool) {
    client::write_request(s, "x", who, body, close).unwrap();
}

/// Reads one reply: status, head, body.
pub fn read_reply(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let reply = client::read_reply(s).unwrap();
    (reply.status, reply.head, reply.body)
}

/// The value of header `name` (matched case-insensitively, as RFC 9110 says) in `head`.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

pub fn is_closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}

/// Reads an HTTP response head up to its blank line, a byte at a time so that nothing after
/// it (a WebSocket's first frame) is consumed.
pub fn read_head(s: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed mid-head");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// Opens `/ws` with an optional `Authorization` header; the HTTP status, and the WebSocket
/// when upgraded.
pub fn websocket(
    d: &Daemon,
    who: Option<(&str, &str)>,
) -> (
    u16,
    Option<async_tungstenite::WebSocketStream<smol::Async<TcpStream>>>,
) {
    let mut s = d.connect();
    let mut req = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        .to_string();
    if let Some((u, p)) = who {
        req += &format!("Authorization: {}\r\n", basic_auth(u, p));
    }
    s.write_all(format!("{req}\r\n").as_bytes()).unwrap();
    let head = read_head(&mut s);
    let status = head[9..12].parse().unwrap();
    if status != 101 {
        return (status, None);
    }
    assert!(
        header(&head, "Sec-WebSocket-Accept") == Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{head}"
    );
    let stream = smol::Async::new(s).unwrap();
    let ws = smol::block_on(async_tungstenite::WebSocketStream::from_raw_socket(
        stream,
        async_tungstenite::tungstenite::protocol::Role::Client,
        None,
    ));
    (status, Some(ws))
}

/// Sends one request over `ws` and returns the reply, or `None` when the server closed.
pub fn ws_call(
    ws: &mut async_tungstenite::WebSocketStream<smol::Async<TcpStream>>,
    method: &str,
    params: Value,
) -> Option<Value> {
    use async_tungstenite::tungstenite::Message;
    use futures::StreamExt;
    smol::block_on(async {
        let req = json!({"jsonrpc": "1.0", "id": 9, "method": method, "params": params});
        if ws.send(Message::text(req.to_string())).await.is_err() {
            return None;
        }
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => return None,
            }
        }
    })
}
