//! rbtcd's deterministic network simulator: the unmodified sans-IO [`rbtcd_core::node::Node`],
//! many copies in one process, exchanging the same framed bytes the real daemon sends over
//! simulated TCP links with their own latency and bandwidth, under seed-derived faults (loss,
//! partitions, crashes, full disks, clock skew, adversarial peers), with invariants checked
//! during and after every run. A discrete-event loop drives it: simulated time jumps from one
//! event to the next, and a run is a pure function of its seed (the same seed gives the same
//! trace digest).

pub mod adversary;
pub mod breakage;
pub mod calendar;
pub mod calls;
pub mod digest;
pub mod invariants;
pub mod links;
pub mod net;
pub mod plot;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod soak;
pub mod store;
pub mod workload;
pub mod world;

/// The planted-bug features of the core (test builds that break one rule on purpose, to show
/// the simulator catches it) and whether this build has each.
pub const PLANTED_BUGS: &[(&str, bool)] = &[
    ("planted-bug-merkle", cfg!(feature = "planted-bug-merkle")),
    ("planted-bug-bits", cfg!(feature = "planted-bug-bits")),
    (
        "planted-bug-coinbase-height",
        cfg!(feature = "planted-bug-coinbase-height"),
    ),
    ("planted-bug-subsidy", cfg!(feature = "planted-bug-subsidy")),
    (
        "planted-bug-maturity",
        cfg!(feature = "planted-bug-maturity"),
    ),
    (
        "planted-bug-locktime",
        cfg!(feature = "planted-bug-locktime"),
    ),
    ("planted-bug-scripts", cfg!(feature = "planted-bug-scripts")),
    (
        "planted-bug-no-refetch",
        cfg!(feature = "planted-bug-no-refetch"),
    ),
];
