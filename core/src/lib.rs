//! rbtcd's core: the whole node as a sans-IO state machine.
//!
//! Nothing in this crate opens a socket, starts a thread, reads a clock or touches a file.
//! Time and randomness come in from the driver; storage goes through a synchronous trait.

pub mod address;
pub mod base64;
pub mod chain;
pub mod harness;
pub mod mempool;
pub mod mining;
pub mod net;
pub mod node;
pub mod params;
pub mod primitives;
pub mod rng;
pub mod rpc;
pub mod script;
pub mod time;
pub mod wire;
