//! libFuzzer target over the streaming wire decoder ([`rbtcd_fuzz::wire_case`]): the input is
//! a byte stream of mainnet frames, decoded whole and in chunks whose sizes are read from the
//! input itself. Without libFuzzer (a plain build) it replays the files named on the command
//! line.
#![cfg_attr(fuzzing, no_main)]

use rbtcd_core::params::{Network, Params};
use rbtcd_fuzz::wire_case::check;
use rbtcd_fuzz::Bytes;

fn case(data: &[u8]) {
    let magic = Params::new(Network::Mainnet).magic;
    check(&mut Bytes::new(data), magic, data);
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| case(data));

#[cfg(not(fuzzing))]
fn main() {
    rbtcd_fuzz::replay_files(case);
}
