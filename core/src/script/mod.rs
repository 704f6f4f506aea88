//! Bitcoin script: parsing, verification flags, sigop counting, the interpreter, signature
//! hashing and signature checks.

mod checker;
pub mod disasm;
pub mod error;
pub mod flags;
pub mod hashes;
pub mod instruction;
pub mod interpreter;
pub mod key_cache;
pub mod num;
pub mod opcodes;
pub mod sigcache;
pub mod sighash;
pub mod signature;
pub mod sigops;
pub mod standard;
pub mod taproot;
mod verify;

pub use error::ScriptError;
pub use flags::{flags_for_height, Flags, STANDARD_FLAGS};
pub use sigcache::SigCache;
pub use verify::TxVerifier;
