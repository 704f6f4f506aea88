//! `getblockcount` throughput and latency: 32 concurrent keep-alive clients against a regtest
//! daemon on loopback. Prints requests per second and the p50/p99 latencies.

use rbtcd::rpc_http::basic_auth;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const RUN: Duration = Duration::from_secs(5);

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Sends `request` and reads one reply (head and `Content-Length` body) from `s`.
fn round_trip(s: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) {
    s.write_all(request).unwrap();
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..end]).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        if buf.len() >= end + 4 + len {
            return;
        }
    }
}

fn main() {
    let home = std::env::temp_dir().join(format!("rbtcd-bench-rpc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let rpc = format!("127.0.0.1:{}", free_port());
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_rbtcd"))
        .env("HOME", &home)
        .args([
            "--regtest".to_string(),
            format!("--rpclisten={rpc}"),
            format!("--listen=127.0.0.1:{}", free_port()),
            "--rpcuser=bench".into(),
            "--rpcpass=bench".into(),
            format!("--rpcmaxclients={}", CLIENTS + 1),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(&rpc).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "RPC never came up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = r#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: bench\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        basic_auth("bench", "bench"),
        body.len()
    );
    let begin = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (rpc, request) = (rpc.clone(), request.clone());
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&rpc).unwrap();
                s.set_nodelay(true).unwrap();
                let mut buf = Vec::new();
                let mut latencies = Vec::new();
                while begin.elapsed() < RUN {
                    let t = Instant::now();
                    round_trip(&mut s, request.as_bytes(), &mut buf);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let elapsed = begin.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "rpc getblockcount: {CLIENTS} keep-alive clients, {} requests in {:.2} s: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    let _ = std::fs::remove_dir_all(&home);
}
