//! Cross-node tests: rbtcd beside other Bitcoin nodes (Bitcoin Knots, bcoin), in `tests/`.
//! They share the daemon's end-to-end harness (`runtime-smol/tests/common`, included by path),
//! which has Cargo build the `rbtcd` binary for them; this library holds nothing of its own.
