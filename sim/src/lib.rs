//! rbtcd's deterministic network simulator: the unmodified sans-IO [`rbtcd_core::node::Node`],
//! one copy per simulated madsim host, exchanging the same framed bytes the real daemon sends,
//! under seed-derived faults (latency, loss, partitions, crashes, clock skew, adversarial
//! peers), with invariants checked during and after every run. A run is a pure function of its
//! seed: the same seed gives the same trace digest.

pub mod adversary;
pub mod calls;
pub mod digest;
pub mod driver;
pub mod invariants;
pub mod run;
pub mod scenario;
pub mod workload;
pub mod world;
