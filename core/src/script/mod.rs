//! Bitcoin script: parsing, verification flags and sigop counting. The interpreter, signature
//! hashing and signature checks arrive with the script issue.

pub mod flags;
pub mod instruction;
pub mod opcodes;
pub mod sigops;
pub mod standard;

pub use flags::Flags;
