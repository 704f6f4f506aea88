//! `getblockcount` throughput and latency: 32 concurrent keep-alive clients against a regtest
//! daemon on loopback. Prints requests per second and the p50/p99 latencies.

mod common;

use rbtcd_core::rpc::auth::basic_auth;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const RUN: Duration = Duration::from_secs(5);

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
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
    let load = common::hammer(&rpc, &basic_auth("bench", "bench"), body, CLIENTS, RUN);
    println!(
        "rpc getblockcount: {CLIENTS} keep-alive clients, {}",
        load.summary()
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    let _ = std::fs::remove_dir_all(&home);
}
