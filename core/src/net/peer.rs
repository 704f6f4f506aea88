//! One connection's protocol state: the version handshake, what was negotiated, keep-alive
//! pings, idle and handshake deadlines, the ban score, and the inventory the peer knows.
//!
//! The node drives it; this module holds the state and the btcd timing constants, and decides
//! nothing that needs the chain.

use super::addr_rate::AddrRateLimit;
use super::banscore::BanScore;
use crate::primitives::{BlockHash, Hash256};
use crate::time::Time;
use crate::wire::{Decoder, Inventory, ServiceFlags, VersionMessage};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The driver's token for one connection. Allocated by the driver, never reused while the
/// connection lives.
pub type PeerId = u64;

/// Oldest protocol version accepted. btcd accepts 209, but rbtcd's wire layer always decodes at
/// the current encodings (timestamped addresses, ping nonces, the relay flag), which only hold
/// from BIP37's 70001 on; older peers would be misparsed rather than served.
pub const MIN_PEER_PROTOCOL_VERSION: u32 = crate::wire::protocol::BIP0037_VERSION;
/// The version handshake must complete within this long (btcd's `negotiateTimeout`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// A ping is sent this long after the handshake and after each ping (btcd's `pingInterval`),
/// unless one is still unanswered.
pub const PING_INTERVAL: Duration = Duration::from_secs(120);
/// A ping unanswered for this long drops the peer (Core's 20 min; btcd has none). Silent peers
/// go sooner, by [`IDLE_TIMEOUT`]; this catches peers that talk but never answer pings.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// A peer silent for this long is disconnected (btcd's `idleTimeout`).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Inventory hashes remembered per peer so nothing is announced to a peer that has it
/// (btcd's `maxKnownInventory`).
pub const KNOWN_INVENTORY_CAP: usize = 1000;

/// Who opened the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The peer connected to us.
    Inbound,
    /// We connected to the peer.
    Outbound,
}

/// Where the version handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// Waiting for the peer's version.
    AwaitVersion,
    /// Versions exchanged and our verack sent; waiting for the peer's verack.
    AwaitVerack,
    /// Handshake complete.
    Ready,
}

/// Why the node drops a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The handshake did not complete within [`HANDSHAKE_TIMEOUT`].
    HandshakeTimeout,
    /// The peer's version carried a nonce we sent: we connected to ourselves.
    SelfConnection,
    /// The peer's protocol version is below [`MIN_PEER_PROTOCOL_VERSION`].
    ObsoleteVersion(i32),
    /// An outbound peer lacks services we need.
    MissingServices(ServiceFlags),
    /// The first message was not a version.
    VersionNotFirst(String),
    /// A second version message.
    DuplicateVersion,
    /// A second verack message.
    DuplicateVerack,
    /// Something other than verack, sendaddrv2 or wtxidrelay between version and verack.
    UnexpectedBeforeVerack(String),
    /// sendaddrv2 or wtxidrelay after the handshake.
    NegotiationAfterHandshake(String),
    /// A ping went unanswered for [`PONG_TIMEOUT`].
    PingTimeout,
    /// Nothing received for [`IDLE_TIMEOUT`].
    Idle,
    /// The ban score reached the threshold.
    Banned {
        /// The score reached.
        score: u32,
        /// The last misbehaviour.
        reason: String,
    },
    /// The address is banned (checked before any handshake work).
    AddressBanned,
    /// `maxpeers` connections already.
    TooManyPeers,
    /// Frames carry another network's magic.
    WrongNetwork,
    /// More than the send queue limit was waiting to be written to the peer.
    SendQueueFull(u64),
    /// Asked for over RPC (`node disconnect`, `node remove`, `addnode remove`).
    Requested,
    /// The connection's first bytes are not our network's magic: another protocol, such as a
    /// BIP324 v2 handshake whose sender retries with v1 once we close.
    UnrecognisedHandshake,
    /// The peer held back block download or did not answer a request in time.
    Stalled,
    /// Its headers do not connect or break consensus.
    BadHeaders(String),
    /// A frame over a hard protocol limit (payload length, entries in a list): btcd and Core
    /// disconnect at once.
    ProtocolLimit(String),
    /// It asked for more than [`MAX_GETDATA_BACKLOG`](super::budget::MAX_GETDATA_BACKLOG)
    /// items while earlier ones were still waiting for it to read.
    GetDataBacklog(usize),
    /// Every inbound slot was taken and this peer was chosen to make room
    /// ([`crate::net::eviction`]).
    Evicted,
    /// The node's memory budget for all peers was exceeded and this peer held the most (bytes).
    MemoryBudget(u64),
    /// Its user agent is blacklisted or missing from the whitelist (`agentblacklist`,
    /// `agentwhitelist`).
    UndesiredUserAgent(String),
    /// It announces transactions although we asked for none (`blocksonly`).
    TxRelayInBlocksOnly,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::HandshakeTimeout => f.write_str("protocol negotiation timeout"),
            DisconnectReason::SelfConnection => f.write_str("connected to self"),
            DisconnectReason::ObsoleteVersion(v) => write!(
                f,
                "protocol version {v}: must be {MIN_PEER_PROTOCOL_VERSION} or greater"
            ),
            DisconnectReason::MissingServices(s) => write!(f, "required services {s} not offered"),
            DisconnectReason::VersionNotFirst(c) => {
                write!(f, "a version message must precede all others (got {c})")
            }
            DisconnectReason::DuplicateVersion => f.write_str("duplicate version message"),
            DisconnectReason::DuplicateVerack => f.write_str("duplicate verack message"),
            DisconnectReason::UnexpectedBeforeVerack(c) => {
                write!(f, "{c} before verack: invalid handshake")
            }
            DisconnectReason::NegotiationAfterHandshake(c) => {
                write!(f, "{c} after the handshake")
            }
            DisconnectReason::PingTimeout => f.write_str("ping unanswered"),
            DisconnectReason::Idle => write!(f, "no answer for {} s", IDLE_TIMEOUT.as_secs()),
            DisconnectReason::Banned { score, reason } => {
                write!(f, "banned: ban score {score} after {reason}")
            }
            DisconnectReason::AddressBanned => f.write_str("address is banned"),
            DisconnectReason::TooManyPeers => f.write_str("max peers reached"),
            DisconnectReason::WrongNetwork => f.write_str("message from another network"),
            DisconnectReason::SendQueueFull(n) => {
                write!(f, "{n} bytes queued and not sent: the peer does not read")
            }
            DisconnectReason::Requested => f.write_str("disconnect requested"),
            DisconnectReason::UnrecognisedHandshake => {
                f.write_str("opening bytes are not a version message of this network")
            }
            DisconnectReason::Stalled => f.write_str("stalled"),
            DisconnectReason::BadHeaders(r) => write!(f, "bad headers: {r}"),
            DisconnectReason::ProtocolLimit(e) => write!(f, "{e}"),
            DisconnectReason::GetDataBacklog(n) => {
                write!(
                    f,
                    "{n} getdata items asked for while not reading the answers"
                )
            }
            DisconnectReason::Evicted => f.write_str("evicted to make room for an inbound peer"),
            DisconnectReason::MemoryBudget(n) => write!(
                f,
                "holding {n} bytes, the most of any peer, with the peer memory budget exceeded"
            ),
            DisconnectReason::UndesiredUserAgent(a) => write!(f, "undesired user agent {a}"),
            DisconnectReason::TxRelayInBlocksOnly => {
                f.write_str("announcing transactions to a blocks-only node")
            }
        }
    }
}

/// A bounded set of hashes, forgetting the oldest first. Each hash is kept as a 32-bit key: the
/// high half of the product of its first 8 bytes and the node's secret odd multiplier
/// (multiply-shift hashing), so two of a peer's last thousand hashes share a key with a chance of about one in
/// two million, like a bloom filter's false positive, and nobody who does not know the
/// multiplier can make a transaction whose key hides another's. The keys are held once, in
/// arrival order, and looked up by a scan: 4 bytes a key, where 8-byte keys sorted beside the
/// ring cost 16 and a `BTreeSet` of hashes about 27 (every peer has a set; a thousand simulated
/// nodes held more in them than in anything else). A scan of a thousand keys costs about what
/// the sorted copy's insertion and eviction cost in moved bytes.
#[derive(Debug)]
struct KnownInventory {
    /// The odd multiplier.
    multiplier: u64,
    order: VecDeque<u32>,
}

impl KnownInventory {
    fn new(multiplier: u64) -> KnownInventory {
        KnownInventory {
            multiplier: multiplier | 1,
            order: VecDeque::new(),
        }
    }

    fn key(&self, hash: &Hash256) -> u32 {
        let prefix = u64::from_le_bytes(hash.0[..8].try_into().expect("8 bytes"));
        (prefix.wrapping_mul(self.multiplier) >> 32) as u32
    }

    fn memory(&self) -> u64 {
        (self.order.capacity() * 4) as u64
    }

    fn insert(&mut self, hash: Hash256) {
        let key = self.key(&hash);
        if self.has(key) {
            return;
        }
        if self.order.len() >= KNOWN_INVENTORY_CAP {
            self.order.pop_front();
        } else if self.order.len() == self.order.capacity() {
            // Doubling would end at 1,024 slots for 1,000 keys; grow to the cap at most.
            let more = self
                .order
                .len()
                .max(4)
                .min(KNOWN_INVENTORY_CAP - self.order.len());
            self.order.reserve_exact(more);
        }
        self.order.push_back(key);
    }

    fn has(&self, key: u32) -> bool {
        let (a, b) = self.order.as_slices();
        a.contains(&key) || b.contains(&key)
    }

    fn contains(&self, hash: &Hash256) -> bool {
        self.has(self.key(hash))
    }
}

/// The connected peers by id. Each [`Peer`] is boxed: a B-tree node holds eleven values, so
/// unboxed a node with a dozen peers kept two to three leaves of eleven whole records (~24 KiB,
/// heaptrack of a thousand simulated nodes) and moved records on every split.
pub type Peers = BTreeMap<PeerId, Box<Peer>>;

/// One connection.
pub struct Peer {
    /// The remote address.
    pub addr: SocketAddr,
    /// Who opened it.
    pub direction: Direction,
    /// Frames the inbound byte stream.
    pub decoder: Decoder,
    /// Handshake progress.
    pub handshake: Handshake,
    /// The peer's version message.
    pub remote: Option<VersionMessage>,
    /// The nonce of the version we sent (self-connection detection).
    pub our_nonce: Option<u64>,
    /// Negotiated protocol version (the lower of both sides').
    pub version: u32,
    /// The peer asked for header announcements (BIP130).
    pub send_headers: bool,
    /// The peer asked for addrv2 (BIP155).
    pub send_addrv2: bool,
    /// The peer sent wtxidrelay (BIP339).
    pub wtxid_relay: bool,
    /// When the connection was made.
    pub connected_at: Time,
    /// When the last message arrived.
    pub last_recv: Time,
    /// When the next ping is due (set at handshake completion).
    pub next_ping: Option<Time>,
    /// Nonce and send time of the ping awaiting its pong.
    pub ping: Option<(u64, Time)>,
    /// Misbehaviour score.
    pub ban_score: BanScore,
    /// Best height the peer is known to have (claimed in its version or seen since).
    pub best_height: u32,
    /// The most-work block in our index the peer is known to have (announced or sent): it
    /// can serve that block's ancestors.
    pub best_known: Option<BlockHash>,
    /// Cached (our best header, `best_known`, height up to which the two chains agree), so the
    /// walk that finds it runs only when either end moves.
    pub serve_height: Option<(BlockHash, BlockHash, u32)>,
    /// A getaddr was answered (btcd answers one per connection).
    pub sent_addrs: bool,
    /// Headers messages in a row whose first header's parent was unknown.
    pub unconnecting_headers: u32,
    /// Bytes received from the peer.
    pub bytes_recv: u64,
    /// Bytes handed to the driver for the peer.
    pub bytes_sent: u64,
    /// Bytes handed to the driver and not yet reported written ([`crate::node::Input::Sent`]).
    pub send_queue: u64,
    /// When bytes were last handed to the driver for the peer ([`Time::EPOCH`]: never).
    pub last_send: Time,
    /// Round trip of the last answered ping.
    pub ping_rtt: Option<Duration>,
    /// The peer's BIP133 fee filter, satoshis per 1000 vbytes: transactions paying less are
    /// not announced to it.
    pub fee_filter: i64,
    /// The addr/addrv2 relay allowance.
    pub addr_rate: AddrRateLimit,
    /// `getdata` items not served yet because the peer's send buffer is full.
    pub getdata_backlog: VecDeque<Inventory>,
    /// Lowest ping round trip seen (inbound eviction protects fast peers).
    pub min_ping: Option<Duration>,
    /// When the peer last sent a block new to us ([`Time::EPOCH`]: never).
    pub last_block_at: Time,
    /// When the peer last sent a transaction the mempool took ([`Time::EPOCH`]: never).
    pub last_tx_at: Time,
    /// Transaction announcements waiting for the trickle (`trickleinterval`).
    pub tx_inv_queue: Vec<Inventory>,
    /// When transactions were last announced to the peer.
    pub last_tx_inv: Option<Time>,
    known: KnownInventory,
}

impl Peer {
    /// A fresh connection at `now`; `inventory_key` keys its set of known inventory: a secret
    /// of the node's, so that nobody can make two transactions look the same in it.
    pub fn new(
        addr: SocketAddr,
        direction: Direction,
        magic: [u8; 4],
        now: Time,
        inventory_key: u64,
    ) -> Peer {
        Peer {
            addr,
            direction,
            decoder: Decoder::new(magic),
            handshake: Handshake::AwaitVersion,
            remote: None,
            our_nonce: None,
            version: 0,
            send_headers: false,
            send_addrv2: false,
            wtxid_relay: false,
            connected_at: now,
            last_recv: now,
            next_ping: None,
            ping: None,
            ban_score: BanScore::default(),
            best_height: 0,
            best_known: None,
            serve_height: None,
            sent_addrs: false,
            unconnecting_headers: 0,
            bytes_recv: 0,
            bytes_sent: 0,
            send_queue: 0,
            last_send: Time::EPOCH,
            ping_rtt: None,
            fee_filter: 0,
            addr_rate: AddrRateLimit::new(now),
            getdata_backlog: VecDeque::new(),
            min_ping: None,
            last_block_at: Time::EPOCH,
            last_tx_at: Time::EPOCH,
            tx_inv_queue: Vec::new(),
            last_tx_inv: None,
            known: KnownInventory::new(inventory_key),
        }
    }

    /// True once the handshake completed.
    pub fn is_ready(&self) -> bool {
        self.handshake == Handshake::Ready
    }

    /// Whether the peer asked to receive transactions (the version's relay flag).
    pub fn relays_txs(&self) -> bool {
        self.remote.as_ref().is_some_and(|v| v.relay)
    }

    /// Records that the peer has `hash`.
    pub fn learn(&mut self, hash: Hash256) {
        self.known.insert(hash);
    }

    /// True when the peer is known to have `hash`.
    pub fn knows(&self, hash: &Hash256) -> bool {
        self.known.contains(hash)
    }

    /// Bytes held for the inventory the peer is known to have.
    pub fn known_memory(&self) -> u64 {
        self.known.memory()
    }

    /// The earliest time a deadline of this peer falls due.
    pub fn deadline(&self) -> Time {
        let idle = self.last_recv + IDLE_TIMEOUT;
        let pong = self.ping.map(|(_, at)| at + PONG_TIMEOUT);
        let ping = self.next_ping.filter(|_| self.ping.is_none());
        let handshake = (!self.is_ready()).then_some(self.connected_at + HANDSHAKE_TIMEOUT);
        [Some(idle), pong, ping, handshake]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(idle)
    }

    /// Why the peer must go at `now`, if a deadline passed (pings aside).
    pub fn expired(&self, now: Time) -> Option<DisconnectReason> {
        if !self.is_ready() && now >= self.connected_at + HANDSHAKE_TIMEOUT {
            return Some(DisconnectReason::HandshakeTimeout);
        }
        if now >= self.last_recv + IDLE_TIMEOUT {
            return Some(DisconnectReason::Idle);
        }
        if self.ping.is_some_and(|(_, at)| now >= at + PONG_TIMEOUT) {
            return Some(DisconnectReason::PingTimeout);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u32) -> Hash256 {
        let mut h = [0u8; 32];
        // Spread over the key's bytes so that arrival order is not sorted order.
        h[..4].copy_from_slice(&n.wrapping_mul(0x9e37_79b9).to_le_bytes());
        h[4..8].copy_from_slice(&n.to_le_bytes());
        Hash256(h)
    }

    #[test]
    fn known_inventory_forgets_the_oldest_past_its_cap_and_counts_repeats_once() {
        let mut known = KnownInventory::new(0x9e37_79b9_7f4a_7c15);
        for n in 0..KNOWN_INVENTORY_CAP as u32 {
            known.insert(hash(n));
            known.insert(hash(n));
        }
        assert!((0..KNOWN_INVENTORY_CAP as u32).all(|n| known.contains(&hash(n))));
        assert!(!known.contains(&hash(KNOWN_INVENTORY_CAP as u32)));
        for n in 0..10 {
            known.insert(hash(KNOWN_INVENTORY_CAP as u32 + n));
        }
        assert!((0..10).all(|n| !known.contains(&hash(n))), "the oldest go");
        assert!((10..KNOWN_INVENTORY_CAP as u32 + 10).all(|n| known.contains(&hash(n))));
        assert_eq!(known.order.len(), KNOWN_INVENTORY_CAP);
        assert_eq!(
            known.memory(),
            KNOWN_INVENTORY_CAP as u64 * 4,
            "no slot beyond the cap"
        );
    }
}
