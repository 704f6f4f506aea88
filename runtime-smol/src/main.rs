//! The `rbtcd` daemon. For now it only reports its version and the chosen network; the smol
//! adapter (listeners, store, RPC) arrives with the daemon issue.

use rbtcd_core::params::{Network, Params};

fn main() {
    let mut network = Network::Mainnet;
    for arg in std::env::args().skip(1) {
        network = match arg.as_str() {
            "--regtest" => Network::Regtest,
            "--testnet" => Network::Testnet3,
            "--signet" => Network::Signet,
            "--simnet" => Network::Simnet,
            "--version" | "-V" => {
                println!("rbtcd version {}", env!("CARGO_PKG_VERSION"));
                return;
            }
            other => {
                eprintln!("rbtcd: unknown option {other}");
                std::process::exit(1);
            }
        };
    }
    let p = Params::new(network);
    println!(
        "rbtcd version {} on {} (genesis {}, p2p port {}, rpc port {})",
        env!("CARGO_PKG_VERSION"),
        network,
        p.genesis_hash,
        p.default_port,
        p.rpc_port
    );
}
