//! Mining as pure functions: a [`MiningJob`] prepared once from a header, the nonce [`search`]
//! over it, and the rolling that makes new jobs when a job's nonce space is used up.
//!
//! Nothing here loops forever or keeps time: the driver (miner threads, the simulator) chooses
//! nonce ranges, clocks and when to roll.

mod job;
mod roll;
mod search;

pub use job::{InvalidTarget, MiningJob};
pub use roll::ExtraNonceRoll;
pub use search::{search, search_lanes};
