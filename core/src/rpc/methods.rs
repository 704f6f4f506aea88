//! The RPC method table: which commands exist, on which transport, who may call them, and
//! the handler that answers each. The node dispatches HTTP and WebSocket requests alike through
//! it ([`authorize`], then [`Method::call`]).
//!
//! Authorization lives here, in the core, so the simulator and fuzzers exercise it too.

use super::block_lookup::{BlockLookup, LiveChain};
use super::caller::{Rights, Transport};
use super::error::{code, RpcError};
use super::handlers::session::{self, Session, SessionFn};
use super::handlers::{
    block_stats, chain, info, mempool, message, mining, net, operator, raw_tx, submit, tx_json,
    utxo_set, Context, Effect, Handled,
};
use super::params::Params;
use super::render::Render;
use serde_json::{json, Value};

/// Where a method can be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// HTTP and WebSocket (btcd serves the HTTP command set over WebSocket too).
    Both,
    /// WebSocket only (notifications and sessions).
    WebSocketOnly,
}

/// A read handler: answers from the node's state alone, changing nothing (so it could be
/// answered from a consistent snapshot beside the node).
pub type ReadFn = fn(&Context<'_>, Params) -> Result<Value, RpcError>;
/// An acting handler: checks its parameters and asks the node to act ([`Handled::effect`]).
pub type ActFn = fn(&Context<'_>, Params) -> Result<Handled, RpcError>;
/// A lookup: answers from a [`BlockLookup`] alone (index, blocks, coins, pool), so the driver can
/// answer it from a published [`ReadView`](super::block_lookup::ReadView) beside the node.
pub type LookupFn = fn(&dyn BlockLookup, Params) -> Result<Value, RpcError>;
/// A lookup whose answer is expensive to format: it finds what to show and leaves the
/// formatting to a [`Render`], which can run beside the node.
pub type LookupRenderFn = fn(&dyn BlockLookup, Params) -> Result<Render, RpcError>;

/// How a method is answered.
#[derive(Clone, Copy)]
pub enum Handler {
    /// From the node's state, changing nothing.
    Read(ReadFn),
    /// By the node acting on what the handler checked.
    Act(ActFn),
    /// With the WebSocket client's session (subscriptions, scans).
    Session(SessionFn),
    /// From a [`BlockLookup`] alone, reading what the kind says.
    Lookup(LookupFn, LookupKind),
    /// From a [`BlockLookup`] alone, reading what the kind says, formatted by a [`Render`].
    LookupRender(LookupRenderFn, LookupKind),
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handler::Read(_) => "Read",
            Handler::Act(_) => "Act",
            Handler::Session(_) => "Session",
            Handler::Lookup(..) => "Lookup",
            Handler::LookupRender(..) => "LookupRender",
        })
    }
}

/// One RPC method.
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// The method name.
    pub name: &'static str,
    /// Whether the limited user may call it (btcd's `rpcLimited`).
    pub limited: bool,
    /// Where it can be called.
    pub reach: Reach,
    /// Usage line shown by `help`.
    pub usage: &'static str,
    /// What answers it.
    pub handler: Handler,
}

impl Method {
    /// Runs the method with `params` on `ctx`; `session` is the calling WebSocket client's
    /// (none over HTTP, where [`authorize`] refuses WebSocket-only methods).
    pub fn call(
        &self,
        ctx: &Context<'_>,
        session: Option<&mut Session<'_>>,
        params: &[Value],
    ) -> Result<Handled, RpcError> {
        let p = Params::new(self.name, params);
        match (self.handler, session) {
            (Handler::Read(f), _) => f(ctx, p).map(Handled::from),
            (Handler::Act(f), _) => f(ctx, p),
            (Handler::Session(f), Some(session)) => f(ctx, session, p),
            (Handler::Session(_), None) => Err(RpcError::method_not_found()),
            (Handler::Lookup(f, _), _) => f(&LiveChain::of(ctx), p).map(Handled::from),
            (Handler::LookupRender(f, _), _) => {
                f(&LiveChain::of(ctx), p).map(|r| Handled::effect(Effect::Render(r)))
            }
        }
    }

    /// Whether [`Method::lookup`] answers it, and what that reads (a driver reads stored
    /// data off its network threads).
    pub fn lookup_kind(&self) -> Option<LookupKind> {
        match self.handler {
            Handler::Lookup(_, kind) | Handler::LookupRender(_, kind) => Some(kind),
            _ => None,
        }
    }

    /// Runs a lookup with `params` on `chain`, its answer formatted in full; `None` for
    /// every other method, which only the node can answer.
    pub fn lookup(
        &self,
        chain: &dyn BlockLookup,
        params: &[Value],
    ) -> Option<Result<Value, RpcError>> {
        let p = Params::new(self.name, params);
        match self.handler {
            Handler::Lookup(f, _) => Some(f(chain, p)),
            Handler::LookupRender(f, _) => Some(f(chain, p).and_then(Render::finish)),
            _ => None,
        }
    }
}

/// What a lookup reads, cheapest first (a body of several reads what its dearest reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LookupKind {
    /// The block index only: cheap.
    Index,
    /// Stored blocks too: file reads, and formatting that may be long.
    Blocks,
    /// The store's coins or transaction index too, as of the flush the view starts from
    /// ([`ReadView::matches`](super::block_lookup::ReadView::matches)).
    Store,
}

const fn read(name: &'static str, limited: bool, usage: &'static str, f: ReadFn) -> Method {
    Method {
        name,
        limited,
        reach: Reach::Both,
        usage,
        handler: Handler::Read(f),
    }
}

const fn act(name: &'static str, limited: bool, usage: &'static str, f: ActFn) -> Method {
    Method {
        name,
        limited,
        reach: Reach::Both,
        usage,
        handler: Handler::Act(f),
    }
}

const fn lookup(
    name: &'static str,
    limited: bool,
    usage: &'static str,
    kind: LookupKind,
    f: LookupFn,
) -> Method {
    Method {
        name,
        limited,
        reach: Reach::Both,
        usage,
        handler: Handler::Lookup(f, kind),
    }
}

const fn lookup_render(
    name: &'static str,
    limited: bool,
    usage: &'static str,
    kind: LookupKind,
    f: LookupRenderFn,
) -> Method {
    Method {
        name,
        limited,
        reach: Reach::Both,
        usage,
        handler: Handler::LookupRender(f, kind),
    }
}

const fn ws(name: &'static str, limited: bool, usage: &'static str, f: SessionFn) -> Method {
    Method {
        name,
        limited,
        reach: Reach::WebSocketOnly,
        usage,
        handler: Handler::Session(f),
    }
}

/// Every method rbtcd serves, sorted by name: btcd's, and Bitcoin Core's manual bans
/// (`setban`, `listbanned`, `clearbanned`). The `limited` flags are btcd's `rpcLimited`, which
/// leaves out the `stopnotify*` commands.
pub const METHODS: &[Method] = &[
    act("addnode", false, "addnode \"addr\" \"add|remove|onetry\"", net::add_node),
    ws("authenticate", true, "authenticate \"username\" \"passphrase\"", session::authenticate),
    act("clearbanned", false, "clearbanned", net::clear_banned),
    read("createrawtransaction", true, "createrawtransaction [{\"txid\":\"id\",\"vout\":n},...] {\"address\":amount,...} (locktime)", raw_tx::create_raw_transaction),
    act("debuglevel", false, "debuglevel \"levelspec\"", operator::debug_level),
    read("decoderawtransaction", true, "decoderawtransaction \"hextx\"", tx_json::decode_raw_transaction),
    read("decodescript", true, "decodescript \"hexscript\"", tx_json::decode_script),
    act("disconnectnode", false, "disconnectnode (\"address\") (nodeid)", net::disconnect_node),
    read("estimatefee", true, "estimatefee numblocks", mining::estimate_fee),
    read("estimatesmartfee", true, "estimatesmartfee conf_target (\"estimate_mode\"=\"unset\")", mining::estimate_smart_fee),
    act("generate", false, "generate numblocks", submit::generate),
    act("generatetoaddress", false, "generatetoaddress nblocks \"address\" (maxtries=1000000)", submit::generate_to_address),
    read("getaddednodeinfo", false, "getaddednodeinfo dns (\"node\")", net::get_added_node_info),
    lookup("getbestblock", true, "getbestblock", LookupKind::Index, chain::get_best_block),
    lookup("getbestblockhash", true, "getbestblockhash", LookupKind::Index, chain::get_best_block_hash),
    lookup_render("getblock", true, "getblock \"hash\" (verbosity=1)", LookupKind::Blocks, chain::get_block),
    read("getblockchaininfo", false, "getblockchaininfo", chain::get_blockchain_info),
    lookup("getblockcount", true, "getblockcount", LookupKind::Index, chain::get_block_count),
    lookup("getblockhash", true, "getblockhash index", LookupKind::Index, chain::get_block_hash),
    lookup("getblockheader", true, "getblockheader \"hash\" (verbose=true)", LookupKind::Index, chain::get_block_header),
    read("getblockstats", true, "getblockstats hash_or_height ([\"stat\",...])", block_stats::get_block_stats),
    act("getblocktemplate", false, "getblocktemplate ({\"mode\":\"template|proposal\",...})", mining::get_block_template),
    read("getcfilter", true, "getcfilter \"hash\" filtertype", raw_tx::cfilter),
    read("getcfilterheader", true, "getcfilterheader \"hash\" filtertype", raw_tx::cfilter),
    read("getchaintips", true, "getchaintips", chain::get_chain_tips),
    read("getconnectioncount", false, "getconnectioncount", net::get_connection_count),
    read("getcurrentnet", true, "getcurrentnet", info::get_current_net),
    read("getdeploymentinfo", true, "getdeploymentinfo (\"blockhash\")", chain::get_deployment_info),
    read("getdifficulty", true, "getdifficulty", chain::get_difficulty),
    read("getgenerate", false, "getgenerate", mining::get_generate),
    read("gethashespersec", false, "gethashespersec", mining::get_hashes_per_sec),
    lookup("getheaders", true, "getheaders [\"blocklocator\",...] \"hashstop\"", LookupKind::Index, chain::get_headers),
    read("getindexinfo", true, "getindexinfo (\"index_name\")", chain::get_index_info),
    read("getinfo", true, "getinfo", info::get_info),
    read("getmempoolentry", true, "getmempoolentry \"txid\"", mempool::get_mempool_entry),
    lookup("getmempoolinfo", false, "getmempoolinfo", LookupKind::Index, mempool::get_mempool_info),
    read("getmininginfo", false, "getmininginfo", mining::get_mining_info),
    read("getnettotals", true, "getnettotals", net::get_net_totals),
    read("getnetworkhashps", true, "getnetworkhashps (blocks=120 height=-1)", mining::get_network_hash_ps),
    read("getnetworkinfo", false, "getnetworkinfo", net::get_network_info),
    act("getnodeaddresses", false, "getnodeaddresses (count=1)", net::get_node_addresses),
    read("getpeerinfo", false, "getpeerinfo", net::get_peer_info),
    read("getrawmempool", true, "getrawmempool (verbose=false)", mempool::get_raw_mempool),
    lookup_render("getrawtransaction", true, "getrawtransaction \"txid\" (verbose=0)", LookupKind::Store, raw_tx::get_raw_transaction),
    lookup("gettxout", true, "gettxout \"txid\" vout (includemempool=true)", LookupKind::Store, chain::get_tx_out),
    read("gettxoutsetinfo", false, "gettxoutsetinfo (\"hash_type\"=\"hash_serialized_3\")", utxo_set::get_tx_out_set_info),
    read("gettxspendingprevout", false, "gettxspendingprevout [{\"txid\":\"id\",\"vout\":n},...]", mempool::get_tx_spending_prev_out),
    read("help", true, "help (\"command\")", help),
    act("invalidateblock", true, "invalidateblock \"blockhash\"", operator::invalidate_block),
    read("listbanned", false, "listbanned", net::list_banned),
    ws("loadtxfilter", true, "loadtxfilter reload [\"address\",...] [{\"hash\":\"id\",\"index\":n},...]", session::load_tx_filter),
    act("node", false, "node \"connect|remove|disconnect\" \"target\" (\"perm|temp\")", net::node),
    ws("notifyblocks", true, "notifyblocks", session::notify_blocks),
    ws("notifynewtransactions", true, "notifynewtransactions (verbose=false)", session::notify_new_transactions),
    ws("notifyreceived", true, "notifyreceived [\"address\",...]", session::notify_received),
    ws("notifyspent", true, "notifyspent [{\"hash\":\"id\",\"index\":n},...]", session::notify_spent),
    act("ping", false, "ping", net::ping),
    act("preciousblock", false, "preciousblock \"blockhash\"", operator::precious_block),
    act("reconsiderblock", true, "reconsiderblock \"blockhash\"", operator::reconsider_block),
    ws("rescan", true, "rescan \"beginblock\" [\"address\",...] [{\"hash\":\"id\",\"index\":n},...] (\"endblock\")", session::rescan),
    ws("rescanblocks", true, "rescanblocks [\"blockhash\",...]", session::rescan_blocks_rpc),
    act("savemempool", false, "savemempool", mempool::save_mempool),
    read("searchrawtransactions", true, "searchrawtransactions \"address\" (verbose=1 skip=0 count=100 vinextra=0 reverse=false)", raw_tx::search_raw_transactions),
    act("sendrawtransaction", true, "sendrawtransaction \"hextx\" (allowhighfees=false)", submit::send_raw_transaction),
    ws("session", true, "session", session::session),
    act("setban", false, "setban \"subnet\" \"add|remove\" (bantime=86400 absolute=false)", net::set_ban),
    act("setgenerate", false, "setgenerate generate (genproclimit=-1)", mining::set_generate),
    read("signmessagewithprivkey", false, "signmessagewithprivkey \"privkey\" \"message\"", message::sign_message_with_priv_key),
    act("stop", false, "stop", operator::stop),
    ws("stopnotifyblocks", false, "stopnotifyblocks", session::stop_notify_blocks),
    ws("stopnotifynewtransactions", false, "stopnotifynewtransactions", session::stop_notify_new_transactions),
    ws("stopnotifyreceived", false, "stopnotifyreceived [\"address\",...]", session::stop_notify_received),
    ws("stopnotifyspent", false, "stopnotifyspent [{\"hash\":\"id\",\"index\":n},...]", session::stop_notify_spent),
    act("submitblock", true, "submitblock \"hexblock\" ({\"workid\":\"id\"})", submit::submit_block),
    read("testmempoolaccept", false, "testmempoolaccept [\"rawtx\",...] (maxfeerate)", mempool::test_mempool_accept),
    read("uptime", true, "uptime", info::uptime),
    read("validateaddress", true, "validateaddress \"address\"", info::validate_address),
    read("verifychain", false, "verifychain (checklevel=3 checkdepth=288)", operator::verify_chain_rpc),
    read("verifymessage", true, "verifymessage \"address\" \"signature\" \"message\"", message::verify_message),
    read("version", true, "version", info::version),
];

/// Wallet commands btcd recognises and answers with "no wallet" (-1) instead of -32601.
pub const WALLET_METHODS: &[&str] = &[
    "addmultisigaddress",
    "backupwallet",
    "createencryptedwallet",
    "createmultisig",
    "dumpprivkey",
    "dumpwallet",
    "encryptwallet",
    "getaccount",
    "getaccountaddress",
    "getaddressesbyaccount",
    "getbalance",
    "getnewaddress",
    "getrawchangeaddress",
    "getreceivedbyaccount",
    "getreceivedbyaddress",
    "gettransaction",
    "getunconfirmedbalance",
    "getwalletinfo",
    "importprivkey",
    "importwallet",
    "keypoolrefill",
    "listaccounts",
    "listaddressgroupings",
    "listlockunspent",
    "listreceivedbyaccount",
    "listreceivedbyaddress",
    "listsinceblock",
    "listtransactions",
    "listunspent",
    "lockunspent",
    "move",
    "sendfrom",
    "sendmany",
    "sendtoaddress",
    "setaccount",
    "settxfee",
    "signmessage",
    "signrawtransaction",
    "walletlock",
    "walletpassphrase",
    "walletpassphrasechange",
];

/// Commands btcd recognises but does not implement (answered -1 "Command unimplemented").
pub const UNIMPLEMENTED_METHODS: &[&str] = &["estimatepriority", "getwork"];

/// Looks a method up by name.
pub fn find(name: &str) -> Option<&'static Method> {
    METHODS
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &METHODS[i])
}

/// `help (command)`: one usage line per command the transport serves (WebSocket clients also
/// get the WebSocket-only ones), or the full help of one command ([`super::help`]).
pub fn help(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 1)?;
    match p.opt_str(0, "command")? {
        None => {
            let lines: Vec<&str> = METHODS
                .iter()
                .filter(|m| ctx.transport == Transport::WebSocket || m.reach == Reach::Both)
                .map(|m| m.usage)
                .collect();
            Ok(json!(lines.join("\n")))
        }
        Some(name) => find(name)
            .map(|m| {
                // Every method has an entry (a test holds the tables together); the usage line
                // stands in should one ever lack it.
                json!(super::help::find(name).map_or_else(
                    || m.usage.to_string(),
                    |doc| { super::help::full_text(m, doc) }
                ))
            })
            .ok_or_else(|| {
                RpcError::new(code::INVALID_PARAMETER, format!("Unknown command: {name}"))
            }),
    }
}

/// Decides whether `rights` may call `name` over `transport`, in btcd's order: the limited-user
/// check comes first (so a limited user learns nothing about which admin methods exist), then
/// wallet and unimplemented commands, then existence.
pub fn authorize(
    name: &str,
    transport: Transport,
    rights: Rights,
) -> Result<&'static Method, RpcError> {
    let method = find(name);
    if rights == Rights::Limited && !method.is_some_and(|m| m.limited) {
        return Err(RpcError::limited_user(transport == Transport::WebSocket));
    }
    if WALLET_METHODS.contains(&name) {
        return Err(RpcError::no_wallet());
    }
    if UNIMPLEMENTED_METHODS.contains(&name) {
        return Err(RpcError::unimplemented());
    }
    match method {
        Some(m) if transport == Transport::WebSocket || m.reach == Reach::Both => Ok(m),
        _ => Err(RpcError::method_not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::error::code;

    #[test]
    fn every_name_is_served_once_with_its_usage() {
        assert!(
            METHODS.windows(2).all(|w| w[0].name < w[1].name),
            "binary search needs the names sorted and unique"
        );
        for m in METHODS {
            assert!(
                m.usage == m.name || m.usage.starts_with(&format!("{} ", m.name)),
                "{}'s help text is {:?}",
                m.name,
                m.usage
            );
            assert!(
                !WALLET_METHODS.contains(&m.name) && !UNIMPLEMENTED_METHODS.contains(&m.name),
                "{} is both served and refused",
                m.name
            );
        }
        let refused: Vec<&str> = WALLET_METHODS
            .iter()
            .chain(UNIMPLEMENTED_METHODS)
            .copied()
            .collect();
        for (i, name) in refused.iter().enumerate() {
            assert!(!refused[..i].contains(name), "{name} listed twice");
        }
    }

    #[test]
    fn limited_user_gets_only_btcds_limited_set() {
        for admin_only in [
            "stop",
            "generate",
            "addnode",
            "getpeerinfo",
            "getblockchaininfo",
        ] {
            let e = authorize(admin_only, Transport::Http, Rights::Limited).unwrap_err();
            assert_eq!(e.code, code::INTERNAL, "{admin_only}");
        }
        for ok in [
            "getblockcount",
            "invalidateblock",
            "reconsiderblock",
            "help",
            "uptime",
        ] {
            assert!(
                authorize(ok, Transport::Http, Rights::Limited).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn wallet_unimplemented_and_unknown_methods_are_distinguished() {
        let c = |n| authorize(n, Transport::Http, Rights::Admin).unwrap_err();
        assert_eq!(c("getbalance"), RpcError::no_wallet());
        assert_eq!(c("getwork"), RpcError::unimplemented());
        assert_eq!(c("nosuchthing").code, code::METHOD_NOT_FOUND);
        assert_eq!(
            c("notifyblocks").code,
            code::METHOD_NOT_FOUND,
            "WebSocket-only over HTTP"
        );
        assert!(authorize("notifyblocks", Transport::WebSocket, Rights::Limited).is_ok());
        let e = authorize("stopnotifyblocks", Transport::WebSocket, Rights::Limited).unwrap_err();
        assert_eq!(
            e.code,
            code::INVALID_PARAMS,
            "btcd's WebSocket code for limited users"
        );
    }
}
