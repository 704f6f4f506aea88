//! The RPC method table: which commands exist, on which transport, and who may call them.
//!
//! Authorization lives here, in the core, so the simulator and fuzzers exercise it too.

use super::error::RpcError;

/// Which users may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rights {
    /// `rpcuser`: every method.
    Admin,
    /// `rpclimituser`: btcd's `rpcLimited` set only.
    Limited,
}

/// Where a request arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// HTTP POST `/`.
    Http,
    /// WebSocket `/ws`.
    WebSocket,
}

/// Where a method can be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// HTTP and WebSocket (btcd serves the HTTP command set over WebSocket too).
    Both,
    /// WebSocket only (notifications and sessions).
    WebSocketOnly,
}

/// One RPC method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    /// The method name.
    pub name: &'static str,
    /// Whether the limited user may call it (btcd's `rpcLimited`).
    pub limited: bool,
    /// Where it can be called.
    pub reach: Reach,
    /// Usage line shown by `help`.
    pub usage: &'static str,
}

const fn m(name: &'static str, limited: bool, usage: &'static str) -> Method {
    Method {
        name,
        limited,
        reach: Reach::Both,
        usage,
    }
}

const fn ws(name: &'static str, limited: bool, usage: &'static str) -> Method {
    Method {
        name,
        limited,
        reach: Reach::WebSocketOnly,
        usage,
    }
}

/// Every method rbtcd serves, sorted by name. The `limited` flags are btcd's `rpcLimited`,
/// which leaves out the `stopnotify*` commands.
pub const METHODS: &[Method] = &[
    m("addnode", false, "addnode \"addr\" \"add|remove|onetry\""),
    ws("authenticate", true, "authenticate \"username\" \"passphrase\""),
    m("createrawtransaction", true, "createrawtransaction [{\"txid\":\"id\",\"vout\":n},...] {\"address\":amount,...} (locktime)"),
    m("debuglevel", false, "debuglevel \"levelspec\""),
    m("decoderawtransaction", true, "decoderawtransaction \"hextx\""),
    m("decodescript", true, "decodescript \"hexscript\""),
    m("estimatefee", true, "estimatefee numblocks"),
    m("generate", false, "generate numblocks"),
    m("getaddednodeinfo", false, "getaddednodeinfo dns (\"node\")"),
    m("getbestblock", true, "getbestblock"),
    m("getbestblockhash", true, "getbestblockhash"),
    m("getblock", true, "getblock \"hash\" (verbosity=1)"),
    m("getblockchaininfo", false, "getblockchaininfo"),
    m("getblockcount", true, "getblockcount"),
    m("getblockhash", true, "getblockhash index"),
    m("getblockheader", true, "getblockheader \"hash\" (verbose=true)"),
    m("getblocktemplate", false, "getblocktemplate ({\"mode\":\"template|proposal\",...})"),
    m("getcfilter", true, "getcfilter \"hash\" filtertype"),
    m("getcfilterheader", true, "getcfilterheader \"hash\" filtertype"),
    m("getchaintips", true, "getchaintips"),
    m("getconnectioncount", false, "getconnectioncount"),
    m("getcurrentnet", true, "getcurrentnet"),
    m("getdifficulty", true, "getdifficulty"),
    m("getgenerate", false, "getgenerate"),
    m("gethashespersec", false, "gethashespersec"),
    m("getheaders", true, "getheaders [\"blocklocator\",...] \"hashstop\""),
    m("getinfo", true, "getinfo"),
    m("getmempoolinfo", false, "getmempoolinfo"),
    m("getmininginfo", false, "getmininginfo"),
    m("getnettotals", true, "getnettotals"),
    m("getnetworkhashps", true, "getnetworkhashps (blocks=120 height=-1)"),
    m("getnodeaddresses", false, "getnodeaddresses (count=1)"),
    m("getpeerinfo", false, "getpeerinfo"),
    m("getrawmempool", true, "getrawmempool (verbose=false)"),
    m("getrawtransaction", true, "getrawtransaction \"txid\" (verbose=0)"),
    m("gettxout", true, "gettxout \"txid\" vout (includemempool=true)"),
    m("gettxoutsetinfo", false, "gettxoutsetinfo (\"hash_type\"=\"hash_serialized_3\")"),
    m("gettxspendingprevout", false, "gettxspendingprevout [{\"txid\":\"id\",\"vout\":n},...]"),
    m("help", true, "help (\"command\")"),
    m("invalidateblock", true, "invalidateblock \"blockhash\""),
    ws("loadtxfilter", true, "loadtxfilter reload [\"address\",...] [{\"hash\":\"id\",\"index\":n},...]"),
    m("node", false, "node \"connect|remove|disconnect\" \"target\" (\"perm|temp\")"),
    ws("notifyblocks", true, "notifyblocks"),
    ws("notifynewtransactions", true, "notifynewtransactions (verbose=false)"),
    ws("notifyreceived", true, "notifyreceived [\"address\",...]"),
    ws("notifyspent", true, "notifyspent [{\"hash\":\"id\",\"index\":n},...]"),
    m("ping", false, "ping"),
    m("reconsiderblock", true, "reconsiderblock \"blockhash\""),
    ws("rescan", true, "rescan \"beginblock\" [\"address\",...] [{\"hash\":\"id\",\"index\":n},...] (\"endblock\")"),
    ws("rescanblocks", true, "rescanblocks [\"blockhash\",...]"),
    m("searchrawtransactions", true, "searchrawtransactions \"address\" (verbose=1 skip=0 count=100 vinextra=0 reverse=false)"),
    m("sendrawtransaction", true, "sendrawtransaction \"hextx\" (allowhighfees=false)"),
    ws("session", true, "session"),
    m("setgenerate", false, "setgenerate generate (genproclimit=-1)"),
    m("signmessagewithprivkey", false, "signmessagewithprivkey \"privkey\" \"message\""),
    m("stop", false, "stop"),
    ws("stopnotifyblocks", false, "stopnotifyblocks"),
    ws("stopnotifynewtransactions", false, "stopnotifynewtransactions"),
    ws("stopnotifyreceived", false, "stopnotifyreceived [\"address\",...]"),
    ws("stopnotifyspent", false, "stopnotifyspent [{\"hash\":\"id\",\"index\":n},...]"),
    m("submitblock", true, "submitblock \"hexblock\" ({\"workid\":\"id\"})"),
    m("testmempoolaccept", false, "testmempoolaccept [\"rawtx\",...] (maxfeerate)"),
    m("uptime", true, "uptime"),
    m("validateaddress", true, "validateaddress \"address\""),
    m("verifychain", false, "verifychain (checklevel=3 checkdepth=288)"),
    m("verifymessage", true, "verifymessage \"address\" \"signature\" \"message\""),
    m("version", true, "version"),
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
pub const UNIMPLEMENTED_METHODS: &[&str] = &[
    "estimatepriority",
    "getmempoolentry",
    "getnetworkinfo",
    "getwork",
    "preciousblock",
];

/// Looks a method up by name.
pub fn find(name: &str) -> Option<&'static Method> {
    METHODS
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &METHODS[i])
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
    fn table_is_sorted_and_complete() {
        assert!(
            METHODS.windows(2).all(|w| w[0].name < w[1].name),
            "binary search needs order"
        );
        let http = METHODS.iter().filter(|m| m.reach == Reach::Both).count();
        // btcd's rpcHandlers map has 53 HTTP commands; gettxoutsetinfo (Core's, a wallet
        // command in btcd) makes 54.
        assert_eq!(http, 54);
        assert_eq!(WALLET_METHODS.len(), 41);
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
