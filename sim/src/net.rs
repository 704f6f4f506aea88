//! The simulated network: TCP-like connections between nodes, each direction a reliable,
//! ordered byte stream through a link with its own latency and bandwidth (see
//! [`crate::links`]). A frame leaves the sender when the link has serialised everything
//! before it, arrives one latency later (a lost packet costs a retransmission timeout and
//! holds up what follows, as in TCP), and is reported written to the sender (`Input::Sent`)
//! when it has left. A partition holds a direction's bytes until it heals; dials across it,
//! or to a node that is down, fail after a TCP-like timeout. A node that goes down closes its
//! connections: the other ends see the close after everything sent before it.
//!
//! madsim's simulated network has one latency range for a whole run and no bandwidth, and it
//! scheduled several tasks per frame; this model is the simulator's own and runs in the event
//! loop of [`crate::run`].

use crate::calendar::Calendar;
use crate::links::{Link, LinkMix, SLOW_READER_BYTES_PER_SEC};
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::rng::Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A connection's index.
pub type ConnId = usize;

/// Failed dials are reported between 1 s and this much more later (SYN retries, the dial
/// timeout).
const FAILED_DIAL_SPREAD_MS: u64 = 20_000;

/// What the network schedules for itself.
#[derive(Clone, Debug)]
pub enum NetEvent {
    /// Side `side` of connection `conn` learns it is up.
    Open { conn: ConnId, side: usize },
    /// Bytes of a direction may have arrived (`flow` is the sending side).
    Wake { conn: ConnId, flow: usize },
    /// A dial by `node` (in its start `epoch`) failed.
    DialFailed {
        node: usize,
        epoch: u64,
        addr: std::net::SocketAddr,
    },
}

/// What a node is told when a network event is due.
#[derive(Debug)]
pub enum Arrival {
    /// A connection is up at `node`; the caller allocates its peer id ([`Network::bind`]).
    Opened {
        conn: ConnId,
        side: usize,
        node: usize,
        remote: usize,
        direction: Direction,
    },
    /// Bytes for `node`'s `peer`.
    Bytes {
        node: usize,
        peer: PeerId,
        bytes: Vec<u8>,
    },
    /// `node`'s `peer` closed the connection.
    Closed { node: usize, peer: PeerId },
    /// A dial by `node` failed.
    DialFailed {
        node: usize,
        addr: std::net::SocketAddr,
    },
}

enum Item {
    Frame(Vec<u8>),
    Fin,
}

/// One direction of a connection: what the sending side wrote, on its way.
#[derive(Default)]
struct Flow {
    /// When the link has serialised everything written so far, µs.
    ready_us: u64,
    /// Arrival of the last item: later items never overtake it.
    last_arrival: u64,
    /// Items in flight with their arrival times.
    queue: VecDeque<(u64, Item)>,
    /// The pending wake-up, if any.
    wake_at: Option<u64>,
    /// Held by a partition.
    stalled: bool,
}

struct End {
    node: usize,
    epoch: u64,
    peer: Option<PeerId>,
    closed: bool,
}

struct Conn {
    ends: [End; 2],
    link: Link,
    /// `flows[k]` carries what `ends[k]` writes.
    flows: [Flow; 2],
}

/// Every connection of a run, the partitions in force and the link distributions.
pub struct Network {
    seed: u64,
    mix: LinkMix,
    loss: f64,
    rng: Rng,
    conns: Vec<Option<Box<Conn>>>,
    by_node: Vec<BTreeSet<ConnId>>,
    /// Each running node's start count (`None` while down).
    live: Vec<Option<u64>>,
    cuts: BTreeMap<(usize, usize), u32>,
    slow_readers: BTreeSet<usize>,
    /// Per node, its frames not yet reported written: when they leave (ms), the connection,
    /// its side and the size.
    unsent: Vec<Vec<(u64, ConnId, usize, usize)>>,
    /// Per node, the earliest time in `unsent`.
    next_written: Vec<Option<u64>>,
}

impl Network {
    /// A network of `nodes` nodes, all down, whose links follow `mix` and lose packets with
    /// probability `loss`; `slow_readers` read everything sent to them slowly.
    pub fn new(
        seed: u64,
        nodes: usize,
        mix: LinkMix,
        loss: f64,
        slow_readers: BTreeSet<usize>,
    ) -> Network {
        Network {
            seed,
            mix,
            loss,
            rng: Rng::new(seed ^ 0x4e7_1055),
            conns: Vec::new(),
            by_node: vec![BTreeSet::new(); nodes],
            live: vec![None; nodes],
            cuts: BTreeMap::new(),
            slow_readers,
            unsent: vec![Vec::new(); nodes],
            next_written: vec![None; nodes],
        }
    }

    /// Connections open or opening now.
    pub fn open_connections(&self) -> usize {
        self.conns.iter().flatten().count()
    }

    /// Node `node` started (its `epoch`th start).
    pub fn node_up(&mut self, node: usize, epoch: u64) {
        self.live[node] = Some(epoch);
    }

    /// Node `node` went down: every connection it had closes from its side.
    pub fn node_down<E: From<NetEvent>>(&mut self, cal: &mut Calendar<E>, now: u64, node: usize) {
        self.live[node] = None;
        self.unsent[node].clear();
        self.next_written[node] = None;
        for conn in std::mem::take(&mut self.by_node[node]) {
            for side in 0..2 {
                if self.end(conn, side).is_some_and(|e| e.node == node) {
                    self.close(cal, now, conn, side);
                }
            }
        }
    }

    fn end(&self, conn: ConnId, side: usize) -> Option<&End> {
        self.conns.get(conn)?.as_ref().map(|c| &c.ends[side])
    }

    fn is_cut(&self, a: usize, b: usize) -> bool {
        self.cuts.get(&(a.min(b), a.max(b))).is_some_and(|n| *n > 0)
    }

    /// Node `from` dials `to` (`None`: an address no simulated node has).
    pub fn dial<E: From<NetEvent>>(
        &mut self,
        cal: &mut Calendar<E>,
        now: u64,
        from: usize,
        to: Option<usize>,
        addr: std::net::SocketAddr,
    ) {
        let Some(epoch) = self.live[from] else {
            return;
        };
        let target = to.and_then(|t| Some((t, self.live[t]?)));
        let Some((to, to_epoch)) = target.filter(|(t, _)| !self.is_cut(from, *t)) else {
            let later = 1_000 + self.rng.below(FAILED_DIAL_SPREAD_MS);
            cal.push(
                now + later,
                NetEvent::DialFailed {
                    node: from,
                    epoch,
                    addr,
                }
                .into(),
            );
            return;
        };
        let link = self.mix.link(self.seed, from, to);
        let end = |node, epoch| End {
            node,
            epoch,
            peer: None,
            closed: false,
        };
        let conn = self.conns.len();
        self.conns.push(Some(Box::new(Conn {
            ends: [end(from, epoch), end(to, to_epoch)],
            link,
            flows: [Flow::default(), Flow::default()],
        })));
        self.by_node[from].insert(conn);
        self.by_node[to].insert(conn);
        // The SYN reaches the listener after one latency; its answer the dialer after two.
        cal.push(
            now + link.latency_ms,
            NetEvent::Open { conn, side: 1 }.into(),
        );
        cal.push(
            now + 2 * link.latency_ms,
            NetEvent::Open { conn, side: 0 }.into(),
        );
    }

    /// Carries out a due network event.
    pub fn on_event<E: From<NetEvent>>(
        &mut self,
        cal: &mut Calendar<E>,
        at: u64,
        event: NetEvent,
    ) -> Vec<Arrival> {
        match event {
            NetEvent::Open { conn, side } => {
                self.on_open(cal, at, conn, side).into_iter().collect()
            }
            NetEvent::Wake { conn, flow } => self.on_wake(cal, at, conn, flow),
            NetEvent::DialFailed { node, epoch, addr } => {
                if self.live[node] == Some(epoch) {
                    vec![Arrival::DialFailed { node, addr }]
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn on_open<E: From<NetEvent>>(
        &mut self,
        cal: &mut Calendar<E>,
        now: u64,
        conn: ConnId,
        side: usize,
    ) -> Option<Arrival> {
        let c = self.conns.get(conn)?.as_ref()?;
        let end = &c.ends[side];
        if end.closed {
            return None;
        }
        if self.live[end.node] != Some(end.epoch) {
            // The node restarted or went down since: nobody is there to take the connection.
            self.close(cal, now, conn, side);
            return None;
        }
        Some(Arrival::Opened {
            conn,
            side,
            node: end.node,
            remote: c.ends[1 - side].node,
            direction: if side == 0 {
                Direction::Outbound
            } else {
                Direction::Inbound
            },
        })
    }

    /// Side `side` of `conn` is the node's `peer` from now on.
    pub fn bind(&mut self, conn: ConnId, side: usize, peer: PeerId) {
        if let Some(c) = self.conns.get_mut(conn).and_then(Option::as_mut) {
            c.ends[side].peer = Some(peer);
        }
    }

    /// Side `side` writes `bytes` to `conn` at `now`.
    pub fn send<E: From<NetEvent>>(
        &mut self,
        cal: &mut Calendar<E>,
        now: u64,
        conn: ConnId,
        side: usize,
        bytes: Vec<u8>,
    ) {
        let Some(c) = self.conns.get_mut(conn).and_then(Option::as_mut) else {
            return;
        };
        if c.ends[side].closed {
            return;
        }
        let reader = c.ends[1 - side].node;
        let rate = if self.slow_readers.contains(&reader) {
            SLOW_READER_BYTES_PER_SEC
        } else {
            c.link.bytes_per_sec
        };
        let len = bytes.len();
        let flow = &mut c.flows[side];
        let start = flow.ready_us.max(now * 1000);
        flow.ready_us = start + (len as u64 * 1_000_000).div_ceil(rate);
        let written = flow.ready_us.div_ceil(1000);
        let writer = c.ends[side].node;
        self.unsent[writer].push((written, conn, side, len));
        let next = &mut self.next_written[writer];
        *next = Some(next.map_or(written, |t| t.min(written)));
        let mut arrival = written + c.link.latency_ms;
        if self.loss > 0.0 && self.rng.unit() < self.loss {
            // A retransmission timeout.
            arrival += 200 + self.rng.below(1_000);
        }
        Self::enqueue(cal, conn, side, flow, arrival, Item::Frame(bytes));
    }

    fn enqueue<E: From<NetEvent>>(
        cal: &mut Calendar<E>,
        conn: ConnId,
        side: usize,
        flow: &mut Flow,
        arrival: u64,
        item: Item,
    ) {
        let arrival = arrival.max(flow.last_arrival);
        flow.last_arrival = arrival;
        flow.queue.push_back((arrival, item));
        if flow.wake_at.is_none() && !flow.stalled {
            flow.wake_at = Some(arrival);
            cal.push(arrival, NetEvent::Wake { conn, flow: side }.into());
        }
    }

    /// Side `side` closes `conn` at `now`: the other side sees it after what was sent before.
    pub fn close<E: From<NetEvent>>(
        &mut self,
        cal: &mut Calendar<E>,
        now: u64,
        conn: ConnId,
        side: usize,
    ) {
        let Some(c) = self.conns.get_mut(conn).and_then(Option::as_mut) else {
            return;
        };
        if c.ends[side].closed {
            return;
        }
        c.ends[side].closed = true;
        if c.ends[1 - side].closed {
            self.free(conn);
            return;
        }
        let arrival = now.max(c.flows[side].ready_us.div_ceil(1000)) + c.link.latency_ms;
        Self::enqueue(cal, conn, side, &mut c.flows[side], arrival, Item::Fin);
    }

    fn free(&mut self, conn: ConnId) {
        if let Some(c) = self.conns[conn].take() {
            for end in &c.ends {
                self.by_node[end.node].remove(&conn);
            }
        }
    }

    fn on_wake<E: From<NetEvent>>(
        &mut self,
        cal: &mut Calendar<E>,
        now: u64,
        conn: ConnId,
        side: usize,
    ) -> Vec<Arrival> {
        let mut out = Vec::new();
        let Some(c) = self.conns.get(conn).and_then(Option::as_ref) else {
            return out;
        };
        if c.flows[side].wake_at != Some(now) {
            return out;
        }
        let cut = self.is_cut(c.ends[0].node, c.ends[1].node);
        let c = self.conns[conn].as_mut().expect("checked above");
        let flow = &mut c.flows[side];
        flow.wake_at = None;
        if cut {
            flow.stalled = true;
            return out;
        }
        let mut fin = false;
        while flow.queue.front().is_some_and(|(t, _)| *t <= now) {
            let (_, item) = flow.queue.pop_front().expect("checked");
            let to = &mut c.ends[1 - side];
            let Some(peer) = to.peer.filter(|_| !to.closed) else {
                continue;
            };
            match item {
                Item::Frame(bytes) => out.push(Arrival::Bytes {
                    node: to.node,
                    peer,
                    bytes,
                }),
                Item::Fin => {
                    to.closed = true;
                    fin = true;
                    out.push(Arrival::Closed {
                        node: to.node,
                        peer,
                    });
                }
            }
        }
        if fin || c.ends.iter().all(|e| e.closed) {
            self.free(conn);
        } else if let Some((t, _)) = flow.queue.front() {
            flow.wake_at = Some(*t);
            cal.push(*t, NetEvent::Wake { conn, flow: side }.into());
        }
        out
    }

    /// Bytes `node` wrote to each of its peers since it was last asked, up to `now`.
    pub fn written(&mut self, node: usize, now: u64) -> Vec<(PeerId, usize)> {
        let mut out: Vec<(PeerId, usize)> = Vec::new();
        if self.next_written[node].is_none_or(|t| t > now) {
            return out;
        }
        let mut next: Option<u64> = None;
        let conns = &self.conns;
        self.unsent[node].retain(|&(t, conn, side, len)| {
            if t > now {
                next = Some(next.map_or(t, |n| n.min(t)));
                return true;
            }
            let end = conns[conn].as_ref().map(|c| &c.ends[side]);
            if let Some(peer) = end.filter(|e| !e.closed).and_then(|e| e.peer) {
                match out.iter_mut().find(|(p, _)| *p == peer) {
                    Some((_, bytes)) => *bytes += len,
                    None => out.push((peer, len)),
                }
            }
            false
        });
        self.next_written[node] = next;
        out
    }

    /// Cuts the link between `a` and `b` (counted: overlapping partitions nest).
    pub fn cut(&mut self, a: usize, b: usize) {
        *self.cuts.entry((a.min(b), a.max(b))).or_default() += 1;
    }

    /// Undoes one [`Network::cut`] of `a`-`b`; when none is left, held bytes move on.
    pub fn heal<E: From<NetEvent>>(&mut self, cal: &mut Calendar<E>, now: u64, a: usize, b: usize) {
        let key = (a.min(b), a.max(b));
        let Some(count) = self.cuts.get_mut(&key) else {
            return;
        };
        *count = count.saturating_sub(1);
        if *count > 0 {
            return;
        }
        self.cuts.remove(&key);
        let conns: Vec<ConnId> = self.by_node[a]
            .intersection(&self.by_node[b])
            .copied()
            .collect();
        for conn in conns {
            let Some(c) = self.conns[conn].as_mut() else {
                continue;
            };
            let latency = c.link.latency_ms;
            for (side, flow) in c.flows.iter_mut().enumerate() {
                if !std::mem::take(&mut flow.stalled) {
                    continue;
                }
                // Retransmitted once the path is back.
                let mut floor = now + latency;
                for (t, _) in flow.queue.iter_mut() {
                    *t = (*t).max(floor);
                    floor = *t;
                }
                flow.last_arrival = flow.last_arrival.max(floor);
                if let Some((t, _)) = flow.queue.front() {
                    flow.wake_at = Some(*t);
                    cal.push(*t, NetEvent::Wake { conn, flow: side }.into());
                }
            }
        }
    }

    /// Ends every partition.
    pub fn heal_all<E: From<NetEvent>>(&mut self, cal: &mut Calendar<E>, now: u64) {
        let cut: Vec<(usize, usize)> = self.cuts.keys().copied().collect();
        for (a, b) in cut {
            self.cuts.insert((a, b), 1);
            self.heal(cal, now, a, b);
        }
    }
}
