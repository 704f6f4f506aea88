//! The memory a peer can make the node hold, by kind, and the limits that bound each kind.
//!
//! Every structure that grows with what a peer sends is counted here ([`PeerMemory`]) and has
//! a cap, so that [`PEER_MEMORY_BUDGET`] is an upper bound on what one connection costs
//! whatever it sends, and the node's total stays under its configured budget. The limits are
//! Bitcoin Core's where Core has one (send buffer, tx announcements and requests in flight);
//! counts of entries are turned into bytes with the costs below, which include the
//! containers' own overhead, so the figures are what the allocator holds, not payload bytes.

use crate::wire::protocol::{MAX_INV_PER_MSG, MAX_PROTOCOL_MESSAGE_LENGTH, MESSAGE_HEADER_SIZE};

/// Above this many bytes handed to the driver and not yet written, `getdata` is not served
/// until the peer reads (Core's `-maxsendbuffer` default, 1000 kB): a peer that asks for big
/// blocks and never reads holds at most this plus one block.
pub const SEND_BUFFER_LIMIT: u64 = 1_000_000;
/// Largest frame on the wire: header and the biggest payload any command may have.
pub const MAX_FRAME: u64 = MESSAGE_HEADER_SIZE as u64 + MAX_PROTOCOL_MESSAGE_LENGTH as u64;
/// How far past its send buffer limit a peer's unwritten bytes may go before it is dropped:
/// the one block or transaction served last, and 1 MB of the small replies and announcements
/// (pongs, headers, inv) that are sent regardless of the limit. A peer past it stopped reading.
pub const SEND_QUEUE_SLACK: u64 = MAX_FRAME + 1_000_000;
/// The most a peer can leave unwritten with the default send buffer limit.
pub const SEND_QUEUE_HARD_LIMIT: u64 = SEND_BUFFER_LIMIT + SEND_QUEUE_SLACK;
/// Most `getdata` items waiting to be served to one peer (one full `getdata`); a peer asking for
/// more while it does not read is dropped.
pub const MAX_GETDATA_BACKLOG: usize = MAX_INV_PER_MSG;
/// Transactions announced by one peer and not yet requested that are remembered (Core's
/// `MAX_PEER_TX_ANNOUNCEMENTS`); further announcements are ignored until the peer's queue drains.
pub const MAX_PEER_TX_ANNOUNCEMENTS: usize = 5_000;
/// Transactions requested from one peer and not yet answered (Core's
/// `MAX_PEER_TX_REQUEST_IN_FLIGHT`).
pub const MAX_PEER_TX_IN_FLIGHT: usize = 100;

/// Bytes one entry of an ordered set of 32-byte hashes costs: the key and its share of a
/// B-tree node at the lowest occupancy a node can have (5 of 11 keys).
pub const HASH_SET_ENTRY: usize = 80;
/// Bytes one entry of an ordered map from a 32-byte hash to a 16-byte record costs, counted
/// the same way.
pub const HASH_MAP_ENTRY: usize = 128;

/// Bytes of one queued inventory entry.
const INVENTORY: usize = std::mem::size_of::<crate::wire::Inventory>();
/// A ring buffer that grew to hold at most `n` entries of `size` bytes has a capacity under
/// twice `n` (growth doubles, or takes what is asked for).
const fn ring(n: usize, size: usize) -> u64 {
    (2 * n * size) as u64
}
/// The receive buffer holds at most one partial frame; compaction keeps its capacity within
/// twice its contents.
const RECEIVE_BOUND: u64 = 2 * MAX_FRAME;
/// The getdata backlog.
const GETDATA_BOUND: u64 = ring(MAX_GETDATA_BACKLOG, INVENTORY);
/// Announced inventory ([`crate::net::peer::KNOWN_INVENTORY_CAP`]): a ring buffer of 4-byte
/// keys.
const KNOWN_BOUND: u64 = ring(crate::net::peer::KNOWN_INVENTORY_CAP, 4);
/// Transaction announcements queued (a ring buffer and a set) and requests in flight.
const TX_BOUND: u64 = ring(MAX_PEER_TX_ANNOUNCEMENTS, INVENTORY)
    + (MAX_PEER_TX_ANNOUNCEMENTS * HASH_SET_ENTRY + MAX_PEER_TX_IN_FLIGHT * HASH_MAP_ENTRY) as u64;
/// The connection's own record with its version message (user agent up to 256 bytes) and its
/// share of the sync manager (at most 16 blocks in flight).
pub const PEER_FIXED: u64 = 8192;

/// The most memory one peer can make the node hold at the end of any input: the sum of each
/// kind's bound. The node fuzz target checks every peer against it after every input.
pub const PEER_MEMORY_BUDGET: u64 =
    RECEIVE_BOUND + SEND_QUEUE_HARD_LIMIT + GETDATA_BOUND + KNOWN_BOUND + TX_BOUND + PEER_FIXED;

/// Default for the total held for all peers together
/// ([`NodeConfig::peer_memory_budget`](crate::node::NodeConfig::peer_memory_budget)): past it
/// the peer holding the most is dropped.
pub const DEFAULT_TOTAL_PEER_MEMORY: u64 = 256 * 1024 * 1024;

/// What one peer makes the node hold, in bytes, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerMemory {
    /// The receive buffer: a partially received message (its allocated capacity).
    pub receive: u64,
    /// Bytes handed to the driver and not yet reported written.
    pub send: u64,
    /// `getdata` items waiting for the send buffer to drain.
    pub getdata_backlog: u64,
    /// Inventory the peer is known to have (not announced to it again).
    pub known_inventory: u64,
    /// Transactions it announced, queued for request, and requested from it.
    pub tx_announcements: u64,
    /// The connection's own record.
    pub fixed: u64,
}

impl PeerMemory {
    /// Everything together.
    pub fn total(&self) -> u64 {
        self.receive
            + self.send
            + self.getdata_backlog
            + self.known_inventory
            + self.tx_announcements
            + self.fixed
    }
}
