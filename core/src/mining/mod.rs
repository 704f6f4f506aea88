//! Mining as pure functions: block templates from the chain and mempool, a [`MiningJob`]
//! prepared once from a header, the nonce [`search`] over it, and the rolling that makes new
//! jobs when a job's nonce space is used up.
//!
//! Nothing here loops forever or keeps time: the driver (miner threads, the simulator) chooses
//! nonce ranges, clocks and when to roll.

mod coinbase;
mod job;
mod kernel;
mod roll;
mod search;
mod select;
mod template;
mod work;

pub use coinbase::{coinbase_script, coinbase_tx, COINBASE_FLAGS};
pub use job::{InvalidTarget, MiningJob};
pub use kernel::{Compressed, Kernel};
pub use roll::ExtraNonceRoll;
pub use search::search;
pub use select::{select, Budget, Selection};
pub use template::{
    choose_mining_address, new_block_template, new_block_template_paying, BlockTemplate,
    BLOCK_VERSION, REFRESH_AFTER_SECS, TIME_UPDATE_SECS,
};
pub use work::MinerWork;
