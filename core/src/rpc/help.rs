//! The full help text of every method, as `help "command"` prints it: the usage line, what
//! the method does, its numbered arguments, its result and an example, laid out the way btcd
//! lays out its help (the wording is rbtcd's own).

use super::methods::Method;

/// One argument of a method.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    /// The argument's name, as the usage line shows it.
    pub name: &'static str,
    /// Its JSON type and whether it is required (or its default).
    pub kind: &'static str,
    /// What it means.
    pub text: &'static str,
}

/// A method's help beyond its usage line.
#[derive(Clone, Copy, Debug)]
pub struct Doc {
    /// The method it documents.
    pub name: &'static str,
    /// What the method does.
    pub summary: &'static str,
    /// Its arguments, in order.
    pub args: &'static [Arg],
    /// The result's shape, one line per field for objects.
    pub result: &'static str,
    /// Parameters of a typical call, as given to `rbtcctl` after the method name.
    pub example: &'static str,
}

const fn arg(name: &'static str, kind: &'static str, text: &'static str) -> Arg {
    Arg { name, kind, text }
}

const fn doc(
    name: &'static str,
    summary: &'static str,
    args: &'static [Arg],
    result: &'static str,
    example: &'static str,
) -> Doc {
    Doc {
        name,
        summary,
        args,
        result,
        example,
    }
}

/// A block hash argument.
const BLOCK_HASH: Arg = arg("blockhash", "string, required", "The hash of the block");
/// The null result of a call that only acts.
const NOTHING: &str = "Nothing";
/// The result of the WebSocket subscription calls.
const SUBSCRIBED: &str = "Nothing; notifications follow on this connection";
/// An example block hash (regtest's genesis).
const EXAMPLE_HASH: &str = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
/// An example regtest address.
const EXAMPLE_ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

/// The help of every served method, sorted by name as [`super::methods::METHODS`] is.
pub const DOCS: &[Doc] = &[
    doc(
        "addnode",
        "Adds a peer to connect to permanently, removes one, or tries one once.",
        &[
            arg("addr", "string, required", "The peer's IP address and port"),
            arg("subcmd", "string, required", "add, remove or onetry"),
        ],
        NOTHING,
        "127.0.0.1:18444 onetry",
    ),
    doc(
        "authenticate",
        "Authenticates a WebSocket client that connected without credentials; it must be the \
         client's first request.",
        &[
            arg("username", "string, required", "The RPC user name"),
            arg("passphrase", "string, required", "The RPC password"),
        ],
        NOTHING,
        "user secret",
    ),
    doc("clearbanned", "Lifts every ban.", &[], NOTHING, ""),
    doc(
        "createrawtransaction",
        "Builds an unsigned transaction spending the given outputs to the given addresses, \
         returned in hex. Nothing is stored or relayed.",
        &[
            arg(
                "inputs",
                "array of objects, required",
                "The outputs to spend: {\"txid\": \"hex\", \"vout\": n}",
            ),
            arg(
                "amounts",
                "object, required",
                "Addresses and the amounts in BTC they receive: {\"address\": amount}",
            ),
            arg(
                "locktime",
                "numeric, optional, default=0",
                "The transaction's lock time",
            ),
        ],
        "\"hex\" (string) The serialized transaction",
        "'[{\"txid\":\"...\",\"vout\":0}]' '{\"bcrt1q...\":0.5}'",
    ),
    doc(
        "debuglevel",
        "Sets the logging level of every subsystem or of named ones, or lists the subsystems.",
        &[arg(
            "levelspec",
            "string, required",
            "show, a level (trace, debug, info, warn, error, critical) for all, or \
             subsystem=level pairs separated by commas",
        )],
        "\"Done.\" (string) Once applied, or the subsystems for show",
        "CHAN=debug,PEER=info",
    ),
    doc(
        "decoderawtransaction",
        "Decodes a serialized transaction into JSON.",
        &[arg(
            "hextx",
            "string, required",
            "The serialized transaction in hex",
        )],
        "{ \"txid\", \"hash\", \"size\", \"vsize\", \"weight\", \"version\", \"locktime\", \
         \"vin\": [...], \"vout\": [...] } (object) The transaction's fields",
        "0200000001...",
    ),
    doc(
        "decodescript",
        "Decodes a script given in hex: its assembly, type, addresses and P2SH address.",
        &[arg("hexscript", "string, required", "The script in hex")],
        "{ \"asm\", \"type\", \"reqSigs\", \"addresses\", \"p2sh\" } (object) What the script is",
        "5121...52ae",
    ),
    doc(
        "disconnectnode",
        "Drops a connected peer, named by its address or by its id (give exactly one).",
        &[
            arg(
                "address",
                "string, optional",
                "The peer's IP address and port",
            ),
            arg(
                "nodeid",
                "numeric, optional",
                "The peer's id from getpeerinfo",
            ),
        ],
        NOTHING,
        "\"127.0.0.1:18444\"",
    ),
    doc(
        "estimatefee",
        "Estimates the fee per kilobyte a transaction needs to be mined within a number of \
         blocks, from the fees of recently mined transactions.",
        &[arg(
            "numblocks",
            "numeric, required",
            "The number of blocks",
        )],
        "n.nnn (numeric) The fee in BTC per kilobyte, or -1 without enough data",
        "6",
    ),
    doc(
        "estimatesmartfee",
        "Estimates the fee rate a transaction needs to start confirming within a number of \
         blocks, in Bitcoin Core's shape.",
        &[
            arg(
                "conf_target",
                "numeric, required",
                "Blocks to confirm within (1 to 1008)",
            ),
            arg(
                "estimate_mode",
                "string, optional, default=unset",
                "unset, economical or conservative",
            ),
        ],
        "{ \"feerate\" (BTC/kvB, when known), \"errors\" (when not), \"blocks\" } (object)",
        "6",
    ),
    doc(
        "generate",
        "Mines blocks on the tip with the CPU, paying a configured miningaddr (regtest and \
         simnet only).",
        &[arg(
            "numblocks",
            "numeric, required",
            "How many blocks to mine",
        )],
        "[\"blockhash\",...] (array of strings) The hashes of the blocks mined",
        "1",
    ),
    doc(
        "generatetoaddress",
        "Mines blocks on the tip with the CPU, paying an address, as Bitcoin Core (regtest \
         and simnet only).",
        &[
            arg("nblocks", "numeric, required", "How many blocks to mine"),
            arg("address", "string, required", "Where the coinbases pay"),
            arg(
                "maxtries",
                "numeric, optional, default=1000000",
                "Nonces to try in all before giving up",
            ),
        ],
        "[\"blockhash\",...] (array of strings) The hashes of the blocks mined",
        EXAMPLE_ADDRESS,
    ),
    doc(
        "getaddednodeinfo",
        "Shows the peers added with addnode and, with dns, whether each is connected.",
        &[
            arg(
                "dns",
                "boolean, required",
                "Show connection details instead of only the addresses",
            ),
            arg("node", "string, optional", "Only this added peer"),
        ],
        "[\"addr\",...] without dns, or [{ \"addednode\", \"connected\", \"addresses\": [{ \
         \"address\", \"connected\" }] }] (array)",
        "true",
    ),
    doc(
        "getbestblock",
        "Returns the hash and height of the tip.",
        &[],
        "{ \"hash\" (string), \"height\" (numeric) } (object) The tip",
        "",
    ),
    doc(
        "getbestblockhash",
        "Returns the hash of the tip.",
        &[],
        "\"hash\" (string) The tip's hash",
        "",
    ),
    doc(
        "getblock",
        "Returns a block: in hex, as JSON with its transactions' ids, or as JSON with its \
         transactions decoded.",
        &[
            arg("hash", "string, required", "The block's hash"),
            arg(
                "verbosity",
                "numeric, optional, default=1",
                "0 for hex, 1 for JSON with txids, 2 for JSON with decoded transactions",
            ),
        ],
        "\"hex\" (string) at 0; at 1 and 2 { \"hash\", \"confirmations\", \"size\", \
         \"strippedsize\", \"weight\", \"height\", \"version\", \"merkleroot\", \"tx\" or \
         \"rawtx\", \"time\", \"nonce\", \"bits\", \"difficulty\", \"previousblockhash\", \
         \"nextblockhash\" } (object)",
        EXAMPLE_HASH,
    ),
    doc(
        "getblockchaininfo",
        "Returns the state of the chain: network, heights, difficulty, work, pruning and the \
         soft forks.",
        &[],
        "{ \"chain\", \"blocks\", \"headers\", \"bestblockhash\", \"difficulty\", \
         \"mediantime\", \"verificationprogress\", \"chainwork\", \"pruned\", \"softforks\", \
         ... } (object)",
        "",
    ),
    doc(
        "getblockcount",
        "Returns the height of the tip.",
        &[],
        "n (numeric) The number of blocks after genesis in the best chain",
        "",
    ),
    doc(
        "getblockhash",
        "Returns the hash of the main-chain block at a height.",
        &[arg("index", "numeric, required", "The height")],
        "\"hash\" (string) The block's hash",
        "0",
    ),
    doc(
        "getblockheader",
        "Returns a block's header, in hex or as JSON.",
        &[
            arg("hash", "string, required", "The block's hash"),
            arg(
                "verbose",
                "boolean, optional, default=true",
                "JSON (true) or hex (false)",
            ),
        ],
        "\"hex\" (string) when not verbose, else { \"hash\", \"confirmations\", \"height\", \
         \"version\", \"merkleroot\", \"time\", \"nonce\", \"bits\", \"difficulty\", \
         \"previousblockhash\", \"nextblockhash\" } (object)",
        EXAMPLE_HASH,
    ),
    doc(
        "getblockstats",
        "Returns Bitcoin Core's per-block statistics (fees, sizes, counts, UTXO growth) of a \
         main-chain block.",
        &[
            arg("hash_or_height", "string or numeric, required", "The block"),
            arg(
                "stats",
                "array of strings, optional, default=all",
                "Only these statistics",
            ),
        ],
        "{ \"avgfee\", \"avgfeerate\", \"avgtxsize\", \"blockhash\", \"height\", \"ins\", \
         \"outs\", \"subsidy\", \"totalfee\", \"txs\", \"utxo_increase\", ... } (object)",
        "1",
    ),
    doc(
        "getblocktemplate",
        "Returns a block template to mine on (BIP22/BIP23), or checks a block proposal.",
        &[arg(
            "request",
            "object, optional",
            "{\"mode\": \"template\" or \"proposal\", \"capabilities\": [...], \"rules\": \
             [\"segwit\"], \"longpollid\", \"data\" (the proposal in hex)}",
        )],
        "{ \"version\", \"previousblockhash\", \"transactions\", \"coinbasevalue\", \
         \"target\", \"mintime\", \"curtime\", \"bits\", \"height\", ... } (object) for a \
         template; null or the reason for a proposal",
        "'{\"rules\":[\"segwit\"]}'",
    ),
    doc(
        "getcfilter",
        "Returns a block's committed filter (BIP158).",
        &[
            arg("hash", "string, required", "The block's hash"),
            arg(
                "filtertype",
                "numeric, required",
                "The filter type (0: basic)",
            ),
        ],
        "\"hex\" (string) The filter",
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206 0",
    ),
    doc(
        "getcfilterheader",
        "Returns the header of a block's committed filter (BIP157).",
        &[
            arg("hash", "string, required", "The block's hash"),
            arg(
                "filtertype",
                "numeric, required",
                "The filter type (0: basic)",
            ),
        ],
        "\"hex\" (string) The filter header",
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206 0",
    ),
    doc(
        "getchaintips",
        "Returns every known tip: the active one and the side branches.",
        &[],
        "[{ \"height\", \"hash\", \"branchlen\", \"status\" }] (array) status is active, \
         valid-fork, valid-headers, headers-only or invalid",
        "",
    ),
    doc(
        "getconnectioncount",
        "Returns the number of connected peers.",
        &[],
        "n (numeric) The peer count",
        "",
    ),
    doc(
        "getcurrentnet",
        "Returns the network's magic number.",
        &[],
        "n (numeric) The network magic",
        "",
    ),
    doc(
        "getdeploymentinfo",
        "Returns the state of each soft fork deployment at a block.",
        &[arg(
            "blockhash",
            "string, optional, default=the tip",
            "The block to report at",
        )],
        "{ \"hash\", \"height\", \"deployments\": { name: { \"type\", \"active\", \
         \"height\", ... } } } (object)",
        "",
    ),
    doc(
        "getdifficulty",
        "Returns the tip's difficulty as a multiple of the lowest.",
        &[],
        "n.nnn (numeric) The difficulty",
        "",
    ),
    doc(
        "getgenerate",
        "Returns whether the CPU miner is on.",
        &[],
        "true|false (boolean) Mining or not",
        "",
    ),
    doc(
        "gethashespersec",
        "Returns the CPU miner's recent hash rate.",
        &[],
        "n (numeric) Hashes per second",
        "",
    ),
    doc(
        "getheaders",
        "Returns the main-chain headers after the first locator block found, up to hashstop \
         or 2000 headers.",
        &[
            arg(
                "blocklocator",
                "array of strings, required",
                "Block hashes, newest first",
            ),
            arg(
                "hashstop",
                "string, required",
                "The last header wanted, or all zeros for as many as allowed",
            ),
        ],
        "[\"hex\",...] (array of strings) The serialized headers",
        "'[\"0f91...2206\"]' 0000000000000000000000000000000000000000000000000000000000000000",
    ),
    doc(
        "getindexinfo",
        "Returns the optional indexes kept and whether each is synced.",
        &[arg("index_name", "string, optional", "Only this index")],
        "{ name: { \"synced\", \"best_block_height\" } } (object)",
        "",
    ),
    doc(
        "getinfo",
        "Returns general facts about the node (btcd's shape).",
        &[],
        "{ \"version\", \"protocolversion\", \"blocks\", \"timeoffset\", \"connections\", \
         \"proxy\", \"difficulty\", \"testnet\", \"relayfee\", \"errors\" } (object)",
        "",
    ),
    doc(
        "getmempoolentry",
        "Returns a pooled transaction's fees, sizes, times and in-pool relatives, as Bitcoin \
         Core.",
        &[arg("txid", "string, required", "The transaction's id")],
        "{ \"vsize\", \"weight\", \"time\", \"height\", \"fees\", \"depends\", \"spentby\", \
         \"ancestorcount\", \"descendantcount\", \"wtxid\", ... } (object)",
        "2c3f...e1a0",
    ),
    doc(
        "getmempoolinfo",
        "Returns the pool's size.",
        &[],
        "{ \"size\" (transactions), \"bytes\" (serialized bytes) } (object)",
        "",
    ),
    doc(
        "getmininginfo",
        "Returns mining facts: height, last block's size, difficulty, hash rates, pool size.",
        &[],
        "{ \"blocks\", \"currentblocksize\", \"currentblockweight\", \"currentblocktx\", \
         \"difficulty\", \"errors\", \"generate\", \"genproclimit\", \"hashespersec\", \
         \"networkhashps\", \"pooledtx\", \"testnet\" } (object)",
        "",
    ),
    doc(
        "getnettotals",
        "Returns the bytes sent and received over all connections.",
        &[],
        "{ \"totalbytesrecv\", \"totalbytessent\", \"timemillis\" } (object)",
        "",
    ),
    doc(
        "getnetworkhashps",
        "Estimates the network's hash rate from the work of recent blocks.",
        &[
            arg(
                "blocks",
                "numeric, optional, default=120",
                "Blocks to average over (-1: since the last difficulty change)",
            ),
            arg(
                "height",
                "numeric, optional, default=-1",
                "The height to estimate at (-1: the tip)",
            ),
        ],
        "n (numeric) Hashes per second",
        "120",
    ),
    doc(
        "getnetworkinfo",
        "Returns the node's network state in Bitcoin Core's shape.",
        &[],
        "{ \"version\", \"subversion\", \"protocolversion\", \"localservices\", \
         \"connections\", \"networks\", \"relayfee\", \"localaddresses\", ... } (object)",
        "",
    ),
    doc(
        "getnodeaddresses",
        "Returns addresses of known nodes, drawn at random.",
        &[arg(
            "count",
            "numeric, optional, default=1",
            "How many (0: all)",
        )],
        "[{ \"time\", \"services\", \"address\", \"port\" }] (array)",
        "8",
    ),
    doc(
        "getpeerinfo",
        "Returns each connected peer's address, services, traffic and sync state.",
        &[],
        "[{ \"id\", \"addr\", \"services\", \"bytessent\", \"bytesrecv\", \"conntime\", \
         \"pingtime\", \"version\", \"subver\", \"inbound\", \"startingheight\", \
         \"syncnode\", ... }] (array)",
        "",
    ),
    doc(
        "getrawmempool",
        "Returns the pooled transactions' ids, or their details.",
        &[arg(
            "verbose",
            "boolean, optional, default=false",
            "Details per transaction instead of ids",
        )],
        "[\"txid\",...] (array), or { txid: { \"size\", \"fee\", \"time\", \"height\", \
         \"depends\", ... } } (object) when verbose",
        "true",
    ),
    doc(
        "getrawtransaction",
        "Returns a pooled transaction, or a confirmed one with --txindex, in hex or as JSON.",
        &[
            arg("txid", "string, required", "The transaction's id"),
            arg(
                "verbose",
                "numeric, optional, default=0",
                "0 for hex, 1 for JSON",
            ),
        ],
        "\"hex\" (string), or when verbose the decoded transaction with \"hex\", \
         \"blockhash\", \"confirmations\", \"time\" and \"blocktime\" (object)",
        "2c3f...e1a0 1",
    ),
    doc(
        "gettxout",
        "Returns an unspent output of the chain (or of the pool), or null when spent or \
         unknown.",
        &[
            arg("txid", "string, required", "The transaction's id"),
            arg("vout", "numeric, required", "The output's index"),
            arg(
                "includemempool",
                "boolean, optional, default=true",
                "Count the pool's spends and outputs too",
            ),
        ],
        "{ \"bestblock\", \"confirmations\", \"value\", \"scriptPubKey\", \"coinbase\" } \
         (object), or null",
        "2c3f...e1a0 0",
    ),
    doc(
        "gettxoutsetinfo",
        "Returns statistics of the UTXO set as of the tip, with Bitcoin Core's hash of it.",
        &[arg(
            "hash_type",
            "string, optional, default=hash_serialized_3",
            "hash_serialized_3 or none",
        )],
        "{ \"height\", \"bestblock\", \"txouts\", \"bogosize\", \"hash_serialized_3\", \
         \"total_amount\", ... } (object)",
        "",
    ),
    doc(
        "gettxspendingprevout",
        "Returns, for each output, the pooled transaction spending it, if any.",
        &[arg(
            "outputs",
            "array of objects, required",
            "The outputs: {\"txid\": \"hex\", \"vout\": n}",
        )],
        "[{ \"txid\", \"vout\", \"spendingtxid\" (when spent) }] (array)",
        "'[{\"txid\":\"2c3f...e1a0\",\"vout\":0}]'",
    ),
    doc(
        "help",
        "Lists every command's usage, or shows one command's full help.",
        &[arg("command", "string, optional", "The command to explain")],
        "\"text\" (string) The usage lines, or the command's help",
        "getblock",
    ),
    doc(
        "invalidateblock",
        "Treats a block and its descendants as invalid; the chain moves to the best valid \
         chain left.",
        &[BLOCK_HASH],
        NOTHING,
        EXAMPLE_HASH,
    ),
    doc(
        "listbanned",
        "Lists the banned networks.",
        &[],
        "[{ \"address\", \"ban_created\", \"banned_until\", \"ban_duration\", \
         \"time_remaining\" }] (array)",
        "",
    ),
    doc(
        "loadtxfilter",
        "Loads, adds to or (with reload) replaces the client's filter of addresses and \
         outputs whose transactions it is told of.",
        &[
            arg(
                "reload",
                "boolean, required",
                "Replace the filter instead of adding to it",
            ),
            arg(
                "addresses",
                "array of strings, required",
                "Addresses to watch",
            ),
            arg(
                "outpoints",
                "array of objects, required",
                "Outputs to watch: {\"hash\": \"txid\", \"index\": n}",
            ),
        ],
        NOTHING,
        "true '[\"bcrt1q...\"]' '[]'",
    ),
    doc(
        "node",
        "Connects to a peer, drops one, or removes a permanent one (btcd's).",
        &[
            arg(
                "subcmd",
                "string, required",
                "connect, remove or disconnect",
            ),
            arg(
                "target",
                "string, required",
                "The peer's address and port, or its id",
            ),
            arg(
                "connectsubcmd",
                "string, optional, default=temp",
                "perm or temp, for connect",
            ),
        ],
        NOTHING,
        "connect 127.0.0.1:18444 perm",
    ),
    doc(
        "notifyblocks",
        "Sends this client blockconnected and blockdisconnected notifications.",
        &[],
        SUBSCRIBED,
        "",
    ),
    doc(
        "notifynewtransactions",
        "Sends this client a notification for each transaction entering the pool.",
        &[arg(
            "verbose",
            "boolean, optional, default=false",
            "The decoded transaction instead of its id and amount",
        )],
        SUBSCRIBED,
        "true",
    ),
    doc(
        "notifyreceived",
        "Sends this client the transactions paying these addresses (superseded by \
         loadtxfilter).",
        &[arg(
            "addresses",
            "array of strings, required",
            "Addresses to watch",
        )],
        SUBSCRIBED,
        "'[\"bcrt1q...\"]'",
    ),
    doc(
        "notifyspent",
        "Sends this client the transactions spending these outputs (superseded by \
         loadtxfilter).",
        &[arg(
            "outpoints",
            "array of objects, required",
            "Outputs to watch: {\"hash\": \"txid\", \"index\": n}",
        )],
        SUBSCRIBED,
        "'[{\"hash\":\"2c3f...e1a0\",\"index\":0}]'",
    ),
    doc(
        "ping",
        "Sends a ping to every peer; the round trips show in getpeerinfo.",
        &[],
        NOTHING,
        "",
    ),
    doc(
        "preciousblock",
        "Treats a block as if it had arrived before every other block of its work, as Bitcoin \
         Core: when it ties with the tip, the chain moves to it. Kept until restart.",
        &[BLOCK_HASH],
        NOTHING,
        EXAMPLE_HASH,
    ),
    doc(
        "reconsiderblock",
        "Clears the invalid marks of a block and its descendants set by invalidateblock, \
         checks them again and moves to the best chain.",
        &[BLOCK_HASH],
        NOTHING,
        EXAMPLE_HASH,
    ),
    doc(
        "rescan",
        "Scans blocks from beginblock for transactions paying the addresses or spending the \
         outputs, notifying this client of each; without endblock, it keeps watching after.",
        &[
            arg(
                "beginblock",
                "string, required",
                "The hash of the first block",
            ),
            arg(
                "addresses",
                "array of strings, required",
                "Addresses to look for",
            ),
            arg(
                "outpoints",
                "array of objects, required",
                "Outputs to look for: {\"hash\": \"txid\", \"index\": n}",
            ),
            arg(
                "endblock",
                "string, optional, default=the tip",
                "The hash of the last block",
            ),
        ],
        "Nothing, once done; rescanprogress and rescanfinished notifications on the way",
        "0f91...2206 '[\"bcrt1q...\"]' '[]'",
    ),
    doc(
        "rescanblocks",
        "Checks the given blocks against this client's filter (loadtxfilter).",
        &[arg(
            "blockhashes",
            "array of strings, required",
            "The blocks, each after its parent",
        )],
        "[{ \"hash\", \"transactions\": [\"hex\",...] }] (array) The blocks with matches",
        "'[\"0f91...2206\"]'",
    ),
    doc(
        "savemempool",
        "Writes the pool to mempool.dat in the data directory, in Bitcoin Core's format; it is \
         loaded back at start unless --persistmempool=0.",
        &[],
        "{ \"filename\" (string) } (object) The file written",
        "",
    ),
    doc(
        "searchrawtransactions",
        "Returns transactions touching an address, from the address index.",
        &[
            arg("address", "string, required", "The address"),
            arg(
                "verbose",
                "numeric, optional, default=1",
                "0 for hex, 1 for JSON",
            ),
            arg("skip", "numeric, optional, default=0", "Matches to skip"),
            arg(
                "count",
                "numeric, optional, default=100",
                "Matches to return",
            ),
            arg(
                "vinextra",
                "numeric, optional, default=0",
                "1 to show the outputs each input spends",
            ),
            arg(
                "reverse",
                "boolean, optional, default=false",
                "Newest first",
            ),
        ],
        "[\"hex\",...] or [{ decoded transaction },...] (array)",
        EXAMPLE_ADDRESS,
    ),
    doc(
        "sendrawtransaction",
        "Offers a signed transaction to the pool and relays it to peers.",
        &[
            arg(
                "hextx",
                "string, required",
                "The serialized transaction in hex",
            ),
            arg(
                "allowhighfees",
                "boolean, optional, default=false",
                "Accepted for btcd compatibility; fees are not capped",
            ),
        ],
        "\"txid\" (string) The transaction's id",
        "0200000001...",
    ),
    doc(
        "session",
        "Returns this WebSocket connection's session id, which changes on reconnect.",
        &[],
        "{ \"sessionid\" (numeric) } (object)",
        "",
    ),
    doc(
        "setban",
        "Bans a network (dropping its peers) or lifts its ban, as Bitcoin Core.",
        &[
            arg(
                "subnet",
                "string, required",
                "An IP address or a network in CIDR form",
            ),
            arg("command", "string, required", "add or remove"),
            arg(
                "bantime",
                "numeric, optional, default=86400",
                "Seconds the ban lasts, or with absolute the unix time it ends",
            ),
            arg(
                "absolute",
                "boolean, optional, default=false",
                "bantime is a unix time",
            ),
        ],
        NOTHING,
        "192.168.0.6 add 3600",
    ),
    doc(
        "setgenerate",
        "Turns the CPU miner on or off.",
        &[
            arg("generate", "boolean, required", "On or off"),
            arg(
                "genproclimit",
                "numeric, optional, default=-1",
                "Threads to mine with (-1: the configured number)",
            ),
        ],
        NOTHING,
        "true 2",
    ),
    doc(
        "signmessagewithprivkey",
        "Signs a message with a private key, as Bitcoin Core's signmessage does.",
        &[
            arg("privkey", "string, required", "The key in WIF"),
            arg("message", "string, required", "The message"),
        ],
        "\"signature\" (string) The signature in base64",
        "cVt4o7BGAig1UXywgGSmARhxMdzP5qvQsxKkSsc1XEkw3tDTQFpy hello",
    ),
    doc(
        "stop",
        "Shuts the daemon down.",
        &[],
        "\"rbtcd stopping.\" (string)",
        "",
    ),
    doc(
        "stopnotifyblocks",
        "Stops the block notifications of notifyblocks.",
        &[],
        NOTHING,
        "",
    ),
    doc(
        "stopnotifynewtransactions",
        "Stops the transaction notifications of notifynewtransactions.",
        &[],
        NOTHING,
        "",
    ),
    doc(
        "stopnotifyreceived",
        "Stops watching addresses given to notifyreceived.",
        &[arg(
            "addresses",
            "array of strings, required",
            "The addresses",
        )],
        NOTHING,
        "'[\"bcrt1q...\"]'",
    ),
    doc(
        "stopnotifyspent",
        "Stops watching outputs given to notifyspent.",
        &[arg(
            "outpoints",
            "array of objects, required",
            "The outputs: {\"hash\": \"txid\", \"index\": n}",
        )],
        NOTHING,
        "'[{\"hash\":\"2c3f...e1a0\",\"index\":0}]'",
    ),
    doc(
        "submitblock",
        "Offers a solved block to the chain and relays it.",
        &[
            arg(
                "hexblock",
                "string, required",
                "The serialized block in hex",
            ),
            arg(
                "options",
                "object, optional",
                "{\"workid\": \"id\"} from getblocktemplate (ignored)",
            ),
        ],
        "null when accepted, or \"rejected: reason\" (string)",
        "00000020...",
    ),
    doc(
        "testmempoolaccept",
        "Checks whether transactions would enter the pool, without adding them.",
        &[
            arg(
                "rawtxs",
                "array of strings, required",
                "Serialized transactions in hex",
            ),
            arg(
                "maxfeerate",
                "numeric, optional, default=0.10",
                "Refuse fee rates above this, in BTC/kvB (0: no limit)",
            ),
        ],
        "[{ \"txid\", \"wtxid\", \"allowed\", \"vsize\", \"fees\", \"reject-reason\" }] \
         (array)",
        "'[\"0200000001...\"]'",
    ),
    doc(
        "uptime",
        "Returns the seconds since the daemon started.",
        &[],
        "n (numeric) Seconds running",
        "",
    ),
    doc(
        "validateaddress",
        "Checks an address and describes it.",
        &[arg("address", "string, required", "The address")],
        "{ \"isvalid\", \"address\", \"isscript\", \"iswitness\", \"witness_version\", \
         \"witness_program\" } (object)",
        EXAMPLE_ADDRESS,
    ),
    doc(
        "verifychain",
        "Checks the last blocks of the chain again.",
        &[
            arg(
                "checklevel",
                "numeric, optional, default=3",
                "How thorough (0 to 4)",
            ),
            arg(
                "checkdepth",
                "numeric, optional, default=288",
                "How many blocks back (0: all)",
            ),
        ],
        "true|false (boolean) Whether every check passed",
        "3 6",
    ),
    doc(
        "verifymessage",
        "Checks a message's signature against an address.",
        &[
            arg("address", "string, required", "The signer's address"),
            arg("signature", "string, required", "The signature in base64"),
            arg("message", "string, required", "The message"),
        ],
        "true|false (boolean) Whether the signature is the address's",
        "mkESjLZW66TmHhiFX8MCaBjrhZ543PPh9a H4Xf... hello",
    ),
    doc(
        "version",
        "Returns the versions of the RPC server's interface.",
        &[],
        "{ \"btcdjsonrpcapi\": { \"versionstring\", \"major\", \"minor\", \"patch\" } } \
         (object)",
        "",
    ),
];

/// The help of `name`, if it has one.
pub fn find(name: &str) -> Option<&'static Doc> {
    DOCS.binary_search_by(|d| d.name.cmp(name))
        .ok()
        .map(|i| &DOCS[i])
}

/// The full help of `method`: usage, summary, numbered arguments, result and an example.
pub fn full_text(method: &Method, doc: &Doc) -> String {
    let mut out = format!("{}\n\n{}\n\nArguments:\n", method.usage, doc.summary);
    if doc.args.is_empty() {
        out.push_str("None\n");
    }
    for (i, a) in doc.args.iter().enumerate() {
        out.push_str(&format!("{}. {} ({}) {}\n", i + 1, a.name, a.kind, a.text));
    }
    out.push_str(&format!("\nResult:\n{}\n\nExample:\n", doc.result));
    match doc.example {
        "" => out.push_str(&format!("rbtcctl {}", method.name)),
        params => out.push_str(&format!("rbtcctl {} {params}", method.name)),
    }
    out
}

/// The parameters a usage line names: its words after the method's name, a bracketed JSON
/// value counting as one and each word of an optional group as one.
pub fn usage_params(usage: &str) -> usize {
    let mut depth = 0i32;
    let mut count = 0;
    let mut in_word = false;
    for c in usage.chars() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            _ => {}
        }
        let space = c.is_whitespace() && depth == 0;
        if !space && !in_word {
            count += 1;
        }
        in_word = !space;
    }
    count - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::methods::METHODS;

    #[test]
    fn every_method_has_full_help_whose_arguments_match_its_usage() {
        assert!(
            DOCS.windows(2).all(|w| w[0].name < w[1].name),
            "binary search needs the names sorted and unique"
        );
        assert_eq!(DOCS.len(), METHODS.len(), "one help entry per method");
        for m in METHODS {
            let doc = find(m.name).unwrap_or_else(|| panic!("{} has no help", m.name));
            assert_eq!(
                doc.args.len(),
                usage_params(m.usage),
                "{}: arguments documented vs named in {:?}",
                m.name,
                m.usage
            );
            let text = full_text(m, doc);
            for section in [
                "\n\nArguments:\n",
                "\n\nResult:\n",
                "\n\nExample:\nrbtcctl ",
            ] {
                assert!(text.contains(section), "{}: no {section:?}", m.name);
            }
            assert!(
                !doc.summary.is_empty() && !doc.result.is_empty(),
                "{}",
                m.name
            );
            for (i, a) in doc.args.iter().enumerate() {
                assert!(
                    text.contains(&format!("\n{}. {} (", i + 1, a.name)),
                    "{}: argument {}",
                    m.name,
                    a.name
                );
                let required = a.kind.contains("required");
                assert!(
                    required != a.kind.contains("optional"),
                    "{}: {} is neither required nor optional",
                    m.name,
                    a.name
                );
            }
        }
    }

    #[test]
    fn usage_lines_count_json_values_and_optional_words_as_parameters() {
        assert_eq!(usage_params("getblockcount"), 0);
        assert_eq!(usage_params("getblock \"hash\" (verbosity=1)"), 2);
        assert_eq!(
            usage_params("createrawtransaction [{\"txid\":\"id\",\"vout\":n},...] {\"address\":amount,...} (locktime)"),
            3
        );
        assert_eq!(usage_params("getnetworkhashps (blocks=120 height=-1)"), 2);
    }
}
