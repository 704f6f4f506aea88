//! libFuzzer target over the script interpreter ([`rbtcd_fuzz::script_case`]): the input picks
//! one of Bitcoin Core's taproot reference spends, the mutations applied to it and the flags it
//! is verified under (compared with Core's verdict with the `bitcoinconsensus` feature).
//! Without libFuzzer (a plain build) it replays the files named on the command line.
#![cfg_attr(fuzzing, no_main)]

use rbtcd_fuzz::script_case::{load_corpus, verify_once, Case};
use rbtcd_fuzz::Bytes;
use std::sync::OnceLock;

fn case(data: &[u8]) {
    static CORPUS: OnceLock<Vec<Case>> = OnceLock::new();
    verify_once(&mut Bytes::new(data), CORPUS.get_or_init(load_corpus));
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| case(data));

#[cfg(not(fuzzing))]
fn main() {
    rbtcd_fuzz::replay_files(case);
}
