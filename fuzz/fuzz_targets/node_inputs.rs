//! libFuzzer target over the whole node ([`rbtcd_fuzz::node_case`]): the input chooses a
//! sequence of connections, received bytes, writes, ticks and submitted blocks. Every oracle
//! of the case, including each peer's accounted memory staying within its budget, is checked
//! after every input; one input in eight is replayed and must give the same outputs. Without
//! libFuzzer (a plain build) it replays the files named on the command line.
#![cfg_attr(fuzzing, no_main)]

use rbtcd_fuzz::node_case::{run_case, world, World};
use rbtcd_fuzz::Bytes;
use std::sync::OnceLock;

fn case(data: &[u8]) {
    static WORLD: OnceLock<World> = OnceLock::new();
    let w = WORLD.get_or_init(world);
    let (outputs, broken) = run_case(&mut Bytes::new(data), w);
    if let Some(why) = broken {
        panic!("{why}");
    }
    if data.first().is_some_and(|b| b % 8 == 0) {
        assert!(
            run_case(&mut Bytes::new(data), w).0 == outputs,
            "the same input gave different outputs"
        );
    }
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| case(data));

#[cfg(not(fuzzing))]
fn main() {
    rbtcd_fuzz::replay_files(case);
}
