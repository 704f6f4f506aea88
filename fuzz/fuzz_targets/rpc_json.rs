//! libFuzzer target over JSON-RPC ([`rbtcd_fuzz::rpc_case`]): the first byte picks the
//! transport (`Input::Rpc` or a WebSocket message) and the user, the rest is a request body
//! answered by a node over a 110-block regtest chain. Without libFuzzer (a plain build) it replays the files named on the command
//! line.
#![cfg_attr(fuzzing, no_main)]

use rbtcd_fuzz::node_case::{world, World};
use rbtcd_fuzz::rpc_case::{rpc_node, run_body};
use std::sync::OnceLock;

fn case(data: &[u8]) {
    static WORLD: OnceLock<World> = OnceLock::new();
    let Some((control, body)) = data.split_first() else {
        return;
    };
    let mut node = rpc_node(WORLD.get_or_init(world));
    if let Err(why) = run_body(&mut node, *control, body) {
        panic!("{why}");
    }
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| case(data));

#[cfg(not(fuzzing))]
fn main() {
    rbtcd_fuzz::replay_files(case);
}
