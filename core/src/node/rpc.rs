//! JSON-RPC inside the node: request bodies from HTTP ([`super::Input::Rpc`]) and WebSocket
//! clients run through the one method table, the effects handlers ask for are carried out
//! here, and every body gets exactly one reply. Calls that take long (`generate`, `rescan`)
//! are parked as jobs the node works on a step per tick, between other inputs; the rest of
//! their batch waits for them (btcd answers a batch's requests one after another), and the
//! body is answered when its last request is. `savemempool` waits the same way for the
//! driver to report its write of the file ([`super::Input::MempoolSaved`]).

use super::timers::Timer;
use super::{Node, Output};
use crate::address::Address;
use crate::chain::{BlockVerdict, ChainError, ChainStore, Placement, VerdictError};
use crate::mempool::{Accepted, RejectReason};
use crate::mining::{new_block_template, search};
use crate::net::connmgr;
use crate::primitives::BlockHash;
use crate::rpc::error::{code, RpcError};
use crate::rpc::handlers::net::peer_command_error;
use crate::rpc::handlers::session::Session;
use crate::rpc::handlers::{Context, Effect, Handled, MinerView, NodeInfo};
use crate::rpc::jsonrpc::{self, Body, Request, Version};
use crate::rpc::methods;
use crate::rpc::render::Render;
use crate::rpc::render::{Part, ReplyJob};
use crate::rpc::ws::{ClientId, Rescan};
use crate::rpc::{RequestId, Rights, Transport};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

/// Blocks a `rescan` reads per step, so the node keeps working in between.
const RESCAN_STEP: u32 = 200;

/// Where a request body came from, and so where its reply goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// An HTTP request ([`Output::RpcReply`]).
    Http(RequestId),
    /// A WebSocket client ([`Output::Ws`]).
    Ws(ClientId),
}

/// The node's RPC side: its facts, bodies waiting for parked calls, and the parked calls.
pub(super) struct Rpc {
    info: NodeInfo,
    /// Bodies waiting for a parked call, by the node's own id for them.
    pending: BTreeMap<u64, Pending>,
    /// Parked calls, worked on in turn.
    jobs: VecDeque<Job>,
    next_body: u64,
    /// `savemempool` calls waiting for the driver's write, by the node's id for the write.
    saves: BTreeMap<u64, Waiting>,
    next_save: u64,
}

/// Where a call's answer goes once it comes: its body, and its place, dialect and id in the
/// body's reply (`None` for a JSON-RPC notification, which gets no reply).
struct Waiting {
    body: u64,
    reply: Option<(usize, Version, Value)>,
}

/// A request body being answered.
struct Pending {
    origin: Origin,
    rights: Rights,
    transport: Transport,
    batch: bool,
    /// One per request with an id, in order; `None` while its call is parked.
    replies: Vec<Option<Part>>,
    /// Requests not run yet.
    rest: VecDeque<Entry>,
    /// `stop` was among the calls: shut down once the reply is out.
    stop: bool,
}

/// One request of a body.
enum Entry {
    /// A request to run.
    Call(Request),
    /// The error reply to something that was not a request.
    Refused(Value),
}

/// A parked call.
struct Job {
    /// Where its answer goes.
    waiting: Waiting,
    work: Work,
}

/// Keeps a place in `pending`'s reply for a call whose answer comes later: where it goes,
/// with the dialect and id to answer in; `None` for a notification.
fn hold_reply(pending: &mut Pending, req: Request) -> Option<(usize, Version, Value)> {
    req.id.map(|id| {
        pending.replies.push(None);
        (pending.replies.len() - 1, req.version, id)
    })
}

/// What a parked call still has to do.
enum Work {
    /// Mine `left` more blocks on the tip, paying to `pay_to` (else a configured address),
    /// until `tries` nonces have failed, if limited.
    Generate {
        left: u32,
        hashes: Vec<BlockHash>,
        pay_to: Option<Address>,
        tries: Option<u64>,
    },
    /// Scan on for a WebSocket client.
    Rescan { client: ClientId, scan: Rescan },
}

/// What running one call gave.
enum Outcome {
    /// Its answer.
    Done(Result<Value, RpcError>),
    /// Its answer once rendered.
    Render(Render),
    /// Work to do between other inputs.
    Parked(Work),
    /// Its answer waits for the driver to write `mempool.dat` (write `save`).
    Saving(u64),
}

impl Rpc {
    /// No requests yet; `info` is what `getinfo` and the like report.
    pub(super) fn new(info: NodeInfo) -> Rpc {
        Rpc {
            info,
            pending: BTreeMap::new(),
            jobs: VecDeque::new(),
            next_body: 0,
            saves: BTreeMap::new(),
            next_save: 0,
        }
    }

    /// Whether parked calls wait for the next tick.
    pub(super) fn has_jobs(&self) -> bool {
        !self.jobs.is_empty()
    }
}

impl<S: ChainStore> Node<S> {
    /// Runs a request body from `origin` with `rights`, replying now or once its parked calls
    /// are done. A body that is not JSON-RPC gets btcd's error reply.
    pub(super) fn run_body(
        &mut self,
        origin: Origin,
        rights: Rights,
        transport: Transport,
        body: &[u8],
    ) {
        let id = self.rpc.next_body;
        self.rpc.next_body += 1;
        let (batch, rest) = match jsonrpc::parse_body(body) {
            Body::Single(Ok(req)) => (false, VecDeque::from([Entry::Call(req)])),
            Body::Single(Err(e)) => {
                let reply = jsonrpc::response(Version::V1, None, Err(e));
                (false, VecDeque::from([Entry::Refused(reply)]))
            }
            Body::Batch(entries) => (
                true,
                entries
                    .into_iter()
                    .map(|entry| match entry {
                        Ok(req) => Entry::Call(req),
                        Err((id, e)) => Entry::Refused(jsonrpc::response(Version::V2, id, Err(e))),
                    })
                    .collect(),
            ),
        };
        let pending = Pending {
            origin,
            rights,
            transport,
            batch,
            replies: Vec::new(),
            rest,
            stop: false,
        };
        self.resume(id, pending);
    }

    /// Runs body `body`'s remaining requests in order until one is parked (the body then
    /// waits for it) or none is left (the body is answered).
    fn resume(&mut self, body: u64, mut pending: Pending) {
        while let Some(entry) = pending.rest.pop_front() {
            let req = match entry {
                Entry::Call(req) => req,
                Entry::Refused(reply) => {
                    pending.replies.push(Some(Part::Ready(reply)));
                    continue;
                }
            };
            let outcome = match methods::authorize(&req.method, pending.transport, pending.rights) {
                Ok(method) => self.call(method, &mut pending, &req.params),
                Err(e) => Outcome::Done(Err(e)),
            };
            match outcome {
                Outcome::Done(result) => {
                    if let Err(e) = &result {
                        log::debug!("RPC {} failed: {e}", req.method);
                    }
                    if let Some(id) = req.id {
                        let reply = jsonrpc::response(req.version, Some(id), result);
                        pending.replies.push(Some(Part::Ready(reply)));
                    }
                }
                Outcome::Render(render) => {
                    // A notification's answer is never sent, so it is never rendered.
                    if let Some(id) = req.id {
                        pending.replies.push(Some(Part::Render {
                            version: req.version,
                            id,
                            render,
                        }));
                    }
                }
                Outcome::Parked(work) => {
                    let reply = hold_reply(&mut pending, req);
                    self.rpc.jobs.push_back(Job {
                        waiting: Waiting { body, reply },
                        work,
                    });
                    self.timers.arm(Timer::RpcJobs, self.now);
                    self.rpc.pending.insert(body, pending);
                    return;
                }
                Outcome::Saving(save) => {
                    let reply = hold_reply(&mut pending, req);
                    self.rpc.saves.insert(save, Waiting { body, reply });
                    self.rpc.pending.insert(body, pending);
                    return;
                }
            }
        }
        self.reply(pending);
    }

    /// Runs an authorized method and carries out what it asks for.
    fn call(
        &mut self,
        method: &methods::Method,
        pending: &mut Pending,
        params: &[Value],
    ) -> Outcome {
        let client = match pending.origin {
            Origin::Ws(client) => Some(client),
            Origin::Http(_) => None,
        };
        let mut subs = client.and_then(|c| self.ws.take_subscriptions(c));
        let mut notes = Vec::new();
        let handled = {
            let ctx = self.rpc_context(pending.transport);
            let mut session = match (client, subs.as_mut()) {
                (Some(c), Some(subs)) => Some(Session {
                    id: self.ws.session_id(c),
                    subs,
                    notes: Vec::new(),
                }),
                _ => None,
            };
            let handled = method.call(&ctx, session.as_mut(), params);
            if let Some(s) = session {
                notes = s.notes;
            }
            handled
        };
        if let (Some(c), Some(subs)) = (client, subs) {
            self.ws.restore_subscriptions(c, subs);
            for note in notes {
                self.ws_send(c, &note);
            }
        }
        match handled {
            Ok(handled) => self.apply(handled, pending, client),
            Err(e) => Outcome::Done(Err(e)),
        }
    }

    /// What handlers read: the node's state now.
    fn rpc_context(&self, transport: Transport) -> Context<'_> {
        Context {
            chain: &self.chain,
            mempool: &self.mempool,
            info: &self.rpc.info,
            net: self.net_view(),
            miner: MinerView {
                generating: self.is_generating(),
                threads: self.generate_threads(),
                default_threads: self.config.gen_proc_limit,
                hashes_per_sec: self.hashes_per_sec(),
                can_pay: !self.config.mining_addrs.is_empty(),
                fees: &self.fees,
            },
            now: self.now.unix_secs(),
            transport,
        }
    }

    /// Carries out a handler's effect; its outcome replaces the handler's result.
    fn apply(
        &mut self,
        handled: Handled,
        pending: &mut Pending,
        client: Option<ClientId>,
    ) -> Outcome {
        let Some(effect) = handled.effect else {
            return Outcome::Done(Ok(handled.result));
        };
        let done = Outcome::Done;
        match effect {
            Effect::Stop => {
                pending.stop = true;
                done(Ok(handled.result))
            }
            Effect::DebugLevel(spec) => {
                self.outputs.push_back(Output::LogLevels(spec));
                done(Ok(handled.result))
            }
            Effect::SubmitTx(tx) => done(self.rpc_submit_tx(tx)),
            // btcd answers null for an accepted block and "rejected: <reason>" otherwise.
            Effect::SubmitBlock(block) => done(match self.on_block(None, block) {
                Ok(Placement::AlreadyHave) => Ok(json!("rejected: duplicate")),
                Ok(_) => Ok(Value::Null),
                Err(ChainError::Rule(rule)) => Ok(json!(format!("rejected: {rule}"))),
                Err(e) => Err(RpcError::new(code::DATABASE, e.to_string())),
            }),
            Effect::Generate(request) => match self.check_generate() {
                // Core answers a request for no blocks with none.
                Ok(()) if request.blocks == 0 => done(Ok(json!([]))),
                Ok(()) => Outcome::Parked(Work::Generate {
                    left: request.blocks,
                    // Not `with_capacity(n)`: `n` comes from the caller and may be billions.
                    hashes: Vec::new(),
                    pay_to: request.pay_to,
                    tries: request.max_tries,
                }),
                Err(e) => done(Err(e)),
            },
            Effect::BlockVerdict(hash, verdict) => done(
                self.block_verdict(&hash, verdict)
                    .map(|()| Value::Null)
                    .map_err(|e| {
                        // Core's code for `preciousblock`'s unknown block; btcd's for the others.
                        let code = match e {
                            VerdictError::NotFound {
                                verdict: BlockVerdict::Precious,
                                ..
                            } => code::INVALID_ADDRESS_OR_KEY,
                            _ => code::INTERNAL,
                        };
                        RpcError::new(code, e.to_string())
                    }),
            ),
            Effect::Peer(cmd) => done(
                self.peer_command(cmd)
                    .map(|()| Value::Null)
                    .map_err(peer_command_error),
            ),
            Effect::NodeAddresses(count) => done(Ok(self.node_addresses_json(count))),
            Effect::Ban(net, Some(until)) => {
                self.ban(net, until);
                done(Ok(Value::Null))
            }
            Effect::Ban(net, None) => {
                self.unban(&net);
                done(Ok(Value::Null))
            }
            Effect::SaveMempool => {
                let bytes = self.save_mempool();
                let save = self.rpc.next_save;
                self.rpc.next_save += 1;
                self.outputs.push_back(Output::SaveMempool { save, bytes });
                Outcome::Saving(save)
            }
            Effect::ClearBans => {
                self.clear_bans();
                done(Ok(Value::Null))
            }
            Effect::SetGenerate(threads) => {
                match threads {
                    Some(n) => self.set_generate(true, n),
                    None => self.set_generate(false, self.generate_threads()),
                }
                done(Ok(Value::Null))
            }
            Effect::BlockTemplate(request) => done(self.block_template_rpc(&request)),
            Effect::Render(render) => Outcome::Render(render),
            Effect::Rescan(scan) => match client {
                Some(client) => Outcome::Parked(Work::Rescan { client, scan }),
                None => done(Err(RpcError::method_not_found())),
            },
        }
    }

    /// `sendrawtransaction`'s answer: the txid, or btcd's refusal.
    fn rpc_submit_tx(&mut self, tx: crate::primitives::Transaction) -> Result<Value, RpcError> {
        let txid = tx.txid();
        match self.submit_tx(tx) {
            Ok(Accepted::Added(_)) => Ok(Value::String(txid.to_string())),
            Ok(Accepted::Orphan(_)) => Err(RpcError::new(
                code::VERIFY,
                "TX rejected: orphan transaction",
            )),
            Err(reason @ RejectReason::AlreadyHave(_)) => Err(RpcError::new(
                code::VERIFY_ALREADY_IN_CHAIN,
                format!("TX rejected: {reason}"),
            )),
            Err(reason) => Err(RpcError::new(
                code::VERIFY_REJECTED,
                format!("TX rejected: {reason}"),
            )),
        }
    }

    /// `getnodeaddresses`' answer: IP addresses only, in btcd's shape.
    fn node_addresses_json(&mut self, count: usize) -> Value {
        let entries = self.node_addresses(count);
        let found = entries.iter().filter_map(|e| {
            let socket = connmgr::to_legacy(e)?.addr.socket_addr();
            Some(json!({
                "time": e.time,
                "services": e.services.0,
                "address": socket.ip().to_string(),
                "port": e.port,
            }))
        });
        Value::Array(found.collect())
    }

    /// btcd's refusals of `generate`: on networks where the CPU cannot mine, and while the CPU
    /// miner runs.
    fn check_generate(&self) -> Result<(), RpcError> {
        let params = self.chain.params();
        if !params.generate_supported {
            let network = params.network;
            return Err(RpcError::new(
                code::DIFFICULTY,
                format!(
                    "No support for `generate` on the current network, {network}, as it's unlikely to be useful"
                ),
            ));
        }
        if self.is_generating() {
            return Err(RpcError::new(
                code::INTERNAL,
                "Server is already CPU mining. Please call `setgenerate 0` before calling \
                 discrete `generate` commands.",
            ));
        }
        Ok(())
    }

    /// Works one step on every parked call (a block for `generate`, [`RESCAN_STEP`] blocks
    /// for `rescan`), answering those that are done.
    pub(super) fn step_jobs(&mut self) {
        for _ in 0..self.rpc.jobs.len() {
            let Some(mut job) = self.rpc.jobs.pop_front() else {
                return;
            };
            let finished = match &mut job.work {
                Work::Generate {
                    left,
                    hashes,
                    pay_to,
                    tries,
                } => self.generate_step(left, hashes, pay_to.clone(), tries),
                Work::Rescan { client, scan } => self.rescan_step(*client, scan),
            };
            match finished {
                Some(result) => self.answer_held(job.waiting, result),
                None => self.rpc.jobs.push_back(job),
            }
        }
        if self.rpc.has_jobs() {
            self.timers.arm(Timer::RpcJobs, self.now);
        }
    }

    /// Mines one block of a `generate` call on the tip, paying to `pay_to` or else to one of
    /// the configured addresses, as btcd's RPC does; the hashes once all are mined, or once
    /// `tries` nonces have failed (Core's `maxtries`: then the blocks mined so far).
    fn generate_step(
        &mut self,
        left: &mut u32,
        hashes: &mut Vec<BlockHash>,
        pay_to: Option<Address>,
        tries: &mut Option<u64>,
    ) -> Option<Result<Value, RpcError>> {
        let Some(pay_to) = pay_to.or_else(|| self.mining_address()) else {
            return Some(Err(crate::rpc::handlers::mining::no_mining_addresses()));
        };
        let mined = |hashes: &[BlockHash]| {
            Ok(Value::Array(
                hashes.iter().map(|h| h.to_string().into()).collect(),
            ))
        };
        let template = new_block_template(
            &self.chain,
            self.mempool.entries(),
            &pay_to,
            self.config.block_max_weight,
            self.now.unix_secs(),
        );
        let mut job = match template.job(hashes.len() as u64) {
            Ok(job) => job,
            Err(e) => return Some(Err(RpcError::new(code::INTERNAL, e.to_string()))),
        };
        // Each pass over the nonce space rolls the time by a second.
        let nonce = loop {
            let last = match *tries {
                Some(0) => return Some(mined(hashes)),
                Some(t) => u32::try_from(t - 1).unwrap_or(u32::MAX),
                None => u32::MAX,
            };
            let found = search(&job, 0..=last);
            // Core counts the nonces that failed.
            let failed = found.map_or(u64::from(last) + 1, u64::from);
            if let Some(t) = tries.as_mut() {
                *t -= failed;
            }
            match found {
                Some(nonce) => break nonce,
                None if last == u32::MAX => job = job.with_time(job.header().time + 1),
                None => {}
            }
        };
        let block = template.solved_block(job.solved_header(nonce));
        let hash = block.block_hash();
        match self.on_block(None, block) {
            Ok(_) if self.chain.tip().hash == hash => hashes.push(hash),
            Ok(_) => {
                return Some(Err(RpcError::new(
                    code::INTERNAL,
                    "generated block not on the tip",
                )))
            }
            Err(e) => return Some(Err(RpcError::new(code::INTERNAL, e.to_string()))),
        }
        *left -= 1;
        (*left == 0).then(|| mined(hashes))
    }

    /// One step of a `rescan`: its notifications go to the client at once; null once the
    /// scan is done. A scan to the tip leaves its keys watched from right after the last
    /// block it saw, neither missing nor repeating a block. A client that left ends it.
    fn rescan_step(
        &mut self,
        client: ClientId,
        scan: &mut Rescan,
    ) -> Option<Result<Value, RpcError>> {
        if !self.ws.is_connected(client) {
            return Some(Ok(Value::Null));
        }
        let outcome = match scan.is_empty() {
            true => scan.finished(&self.chain).map(|note| (vec![note], true)),
            false => scan.step(&self.chain, RESCAN_STEP).and_then(|step| {
                let mut notes = step.notifications;
                if step.done {
                    notes.push(scan.finished(&self.chain)?);
                }
                Ok((notes, step.done))
            }),
        };
        let (notes, done) = match outcome {
            Ok(found) => found,
            Err(e) => return Some(Err(e)),
        };
        if done && scan.to_tip() && !scan.is_empty() {
            let (outpoints, addresses) = scan.watches();
            self.ws.watch(client, outpoints, addresses);
        }
        for note in &notes {
            self.ws_send(client, note);
        }
        done.then_some(Ok(Value::Null))
    }

    /// The driver wrote `mempool.dat` for `savemempool` write `save` (`saved`), or failed to:
    /// the call answers the file's name, or Core's error for a failed dump.
    pub(super) fn mempool_saved(&mut self, save: u64, saved: bool) {
        let Some(waiting) = self.rpc.saves.remove(&save) else {
            return;
        };
        let result = match saved {
            true => Ok(json!({ "filename": self.config.rpc.mempool_file })),
            false => Err(RpcError::new(code::MISC, "Unable to dump mempool to disk")),
        };
        self.answer_held(waiting, result);
    }

    /// Puts the answer of a call that waited into its body's reply and goes on with the rest
    /// of the body.
    fn answer_held(&mut self, waiting: Waiting, result: Result<Value, RpcError>) {
        let Some(mut pending) = self.rpc.pending.remove(&waiting.body) else {
            return;
        };
        if let Some((slot, version, id)) = waiting.reply {
            let reply = jsonrpc::response(version, Some(id), result);
            pending.replies[slot] = Some(Part::Ready(reply));
        }
        self.resume(waiting.body, pending);
    }

    /// Sends a finished body's reply where it came from; then shuts down if it held `stop`.
    /// An HTTP reply with parts still to render goes to the driver to render beside the node
    /// when it does so ([`Output::RpcRender`]); a reply that comes before a shutdown is
    /// rendered here, so it is out before the daemon stops.
    fn reply(&mut self, pending: Pending) {
        let job = ReplyJob {
            batch: pending.batch,
            parts: pending.replies.into_iter().flatten().collect(),
        };
        match pending.origin {
            Origin::Http(id)
                if self.config.rpc.render_by_driver && !pending.stop && job.is_deferred() =>
            {
                self.outputs.push_back(Output::RpcRender { id, job })
            }
            Origin::Http(id) => self.outputs.push_back(Output::RpcReply {
                id,
                body: job.finish(),
            }),
            Origin::Ws(client) => {
                if let Some(body) = job.finish_value() {
                    self.ws_send(client, &body);
                }
            }
        }
        if pending.stop {
            self.outputs.push_back(Output::Shutdown);
        }
    }
}
