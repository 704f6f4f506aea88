//! The peer-to-peer wire protocol: message types, their encodings, and the framing that
//! carries them, with every length from a peer bounded before anything is allocated.
//!
//! Payloads are decoded as at [`protocol::PROTOCOL_VERSION`]; rbtcd does not talk to peers
//! old enough for the encodings to differ.

pub mod address;
pub mod cfilters;
pub mod command;
pub mod error;
pub mod framing;
pub mod inventory;
mod list;
pub mod locator;
pub mod merkle_block;
pub mod message;
pub mod protocol;
pub mod reject;
mod text;
pub mod version;

pub use address::{AddrV2, AddrV2Entry, NetAddress, TimestampedAddress};
pub use command::Command;
pub use error::{PayloadError, WireError};
pub use framing::{encode_frame, encode_message, Decoder};
pub use inventory::{InvType, Inventory};
pub use message::Message;
pub use protocol::ServiceFlags;
pub use version::VersionMessage;
