//! What [`Input::Tick`](super::Input::Tick) runs: the timers that are due, each handled by
//! what it names (peer deadlines and pings, the stall check, request and orphan expiry,
//! rebroadcasts, dials, the address book save, WebSocket authentication, parked RPC calls),
//! and the chain state's periodic flush.
//! Nothing runs, and nothing draws from a random stream, unless its timer is due.

use super::addresses::{ADDR_SAVE_INTERVAL, LOCAL_ADVERT_INTERVAL};
use super::peers::RECONNECT_DELAY;
use super::timers::Timer;
use super::{Node, Output};
use crate::chain::ChainStore;
use crate::net::connmgr::DIAL_TIMEOUT;
use crate::net::peer::{DisconnectReason, PeerId};
use crate::net::syncmgr::STALL_CHECK;
use crate::time::Time;
use std::net::SocketAddr;
use std::time::Duration;

/// How often expired orphan transactions are dropped (btcd's `orphanExpireScanInterval`).
const ORPHAN_SCAN_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// A permanent peer whose dial neither connected nor failed is dialed again after this long.
const REDIAL_SILENT: Duration = Duration::from_secs(30);

impl<S: ChainStore> Node<S> {
    /// Runs every timer due now.
    pub(super) fn on_tick(&mut self) {
        for timer in self.timers.take_due(self.now) {
            match timer {
                Timer::Peer(peer) => self.peer_deadline(peer),
                Timer::StallCheck => {
                    for peer in self.sync.stalled(self.now) {
                        self.disconnect(peer, DisconnectReason::Stalled);
                    }
                }
                Timer::TxRequests => self.expire_tx_requests(),
                Timer::Orphans => {
                    self.mempool.expire_orphans(self.now.unix_secs());
                    self.timers
                        .arm(Timer::Orphans, self.now + ORPHAN_SCAN_INTERVAL);
                }
                Timer::Rebroadcast => self.rebroadcast(),
                Timer::Reconnect(addr) => self.dial_permanent(addr),
                Timer::Dial(addr) => {
                    self.connmgr.dial_ended(&addr);
                    self.fill_outbound();
                }
                Timer::Outbound => self.fill_outbound(),
                Timer::AddrSave => {
                    self.timers
                        .arm(Timer::AddrSave, self.now + ADDR_SAVE_INTERVAL);
                    self.save_addr_book();
                }
                Timer::LocalAdvert => {
                    self.timers
                        .arm(Timer::LocalAdvert, self.now + LOCAL_ADVERT_INTERVAL);
                    self.advertise_to_all();
                }
                Timer::SeedRetry(index) => self.retry_seed(index),
                Timer::Trickle(peer) => self.trickle(peer),
                // The miner's work is renewed when the outputs are drained (`poll_output`).
                Timer::Mining => {}
                Timer::WsAuth(client) => self.ws_auth_expired(client),
                Timer::RpcJobs => self.step_jobs(),
            }
        }
        // The address book's save timer is always armed, so ticks come well within the
        // chain state's flush interval.
        if let Err(e) = self.chain.maybe_flush(self.now.unix_secs()) {
            self.fail(&e.to_string());
        }
    }

    /// Arms the timers that run for as long as the node does.
    pub(super) fn arm_periodic_timers(&mut self) {
        self.timers
            .arm(Timer::AddrSave, self.now + ADDR_SAVE_INTERVAL);
        self.timers
            .arm(Timer::Orphans, self.now + ORPHAN_SCAN_INTERVAL);
        self.timers
            .arm(Timer::LocalAdvert, self.now + LOCAL_ADVERT_INTERVAL);
    }

    /// A peer's deadline passed: drop it if one expired, ping it if a ping is due, and wait
    /// for its next deadline. Deadlines move later as the peer talks, so the timer may find
    /// nothing to do yet.
    fn peer_deadline(&mut self, peer: PeerId) {
        let now = self.now;
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        if let Some(reason) = p.expired(now) {
            return self.disconnect(peer, reason);
        }
        if p.ping.is_none() && p.next_ping.is_some_and(|t| t <= now) {
            self.ping(peer);
        }
        self.arm_peer(peer);
    }

    /// Arms `peer`'s timer for its earliest deadline.
    pub(super) fn arm_peer(&mut self, peer: PeerId) {
        if let Some(p) = self.peers.get(&peer) {
            self.timers.arm(Timer::Peer(peer), p.deadline());
        }
    }

    /// Dials a permanent peer, and again after a while should the attempt be neither
    /// connected nor refused; a connection cancels that.
    pub(super) fn dial_permanent(&mut self, addr: SocketAddr) {
        self.timers
            .arm(Timer::Reconnect(addr), self.now + REDIAL_SILENT);
        self.outputs.push_back(Output::Connect { addr });
    }

    /// Dials `addr` again after [`RECONNECT_DELAY`] (btcd's connmgr retry).
    pub(super) fn schedule_reconnect(&mut self, addr: SocketAddr) {
        self.timers
            .arm(Timer::Reconnect(addr), self.now + RECONNECT_DELAY);
    }

    /// Records dials just made, each given up on after [`DIAL_TIMEOUT`].
    pub(super) fn dialing(&mut self, addrs: &[SocketAddr]) {
        for addr in addrs {
            self.timers.arm(Timer::Dial(*addr), self.now + DIAL_TIMEOUT);
        }
    }

    /// A dial to `addr` ended (connected or failed).
    pub(super) fn dial_ended(&mut self, addr: &SocketAddr) {
        self.connmgr.dial_ended(addr);
        self.timers.cancel(Timer::Dial(*addr));
    }

    /// Arms the stall check while block download is under way, unless `nostalldetect` is set
    /// (then no peer is dropped for stalling).
    pub(super) fn arm_stall_check(&mut self) {
        if self.sync.busy() && !self.config.no_stall_detect {
            self.timers
                .arm_once(Timer::StallCheck, self.now + STALL_CHECK);
        }
    }

    /// Releases transaction requests that went unanswered (their peers get free slots and
    /// ask for what else they announced), then waits for the oldest left.
    fn expire_tx_requests(&mut self) {
        for peer in self.tx_fetch.expire(self.now) {
            self.request_txs(peer);
        }
        self.timers
            .set(Timer::TxRequests, self.tx_fetch.next_expiry());
    }

    /// Rebroadcasts local transactions when their time came, drawing the next interval.
    fn rebroadcast(&mut self) {
        let random = self.rebroadcast_rng.next_u64();
        let due = self.mempool.rebroadcast_due(self.now.unix_secs(), random);
        if !due.is_empty() {
            self.announce_txs(None, &due, true);
        }
        self.arm_rebroadcast();
    }

    /// Arms the rebroadcast for when the mempool's rebroadcast set next falls due.
    pub(super) fn arm_rebroadcast(&mut self) {
        let at = self
            .mempool
            .rebroadcast_deadline()
            .map(Time::from_unix_secs);
        self.timers.set(Timer::Rebroadcast, at);
    }
}
