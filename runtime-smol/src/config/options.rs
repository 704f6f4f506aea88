//! The raw options, named as btcd names them, as parsed from the command line or the config
//! file before defaults and validation are applied.

use super::refused;
use argh::FromArgs;

/// rbtcd: a Bitcoin full node modelled on btcd.
#[derive(FromArgs, Debug, Default, Clone, PartialEq)]
pub struct Options {
    /// display version information and exit
    #[argh(switch, short = 'V')]
    pub version: bool,
    /// path to configuration file
    #[argh(option, short = 'C')]
    pub configfile: Option<String>,
    /// directory to store data
    #[argh(option, short = 'b')]
    pub datadir: Option<String>,
    /// directory to log output
    #[argh(option)]
    pub logdir: Option<String>,
    /// logging level for all subsystems {trace, debug, info, warn, error, critical}, or
    /// <subsystem>=<level>,... per subsystem; `show` lists the subsystems
    #[argh(option, short = 'd')]
    pub debuglevel: Option<String>,

    /// use the test network (version 3)
    #[argh(switch)]
    pub testnet: bool,
    /// use the test network (version 4)
    #[argh(switch)]
    pub testnet4: bool,
    /// use the regression test network
    #[argh(switch)]
    pub regtest: bool,
    /// use the simulation test network
    #[argh(switch)]
    pub simnet: bool,
    /// use the signet test network
    #[argh(switch)]
    pub signet: bool,
    /// connect to a custom signet defined by this challenge (hex script) instead of the
    /// default signet
    #[argh(option)]
    pub signetchallenge: Option<String>,
    /// a seed for the signet network (host name looked up like a DNS seed) instead of the
    /// default signet's seeds
    #[argh(option)]
    pub signetseednode: Vec<String>,
    /// add a custom checkpoint, format '<height>:<hash>'
    #[argh(option)]
    pub addcheckpoint: Vec<String>,
    /// disable built-in checkpoints; don't do this unless you know what you're doing
    #[argh(switch)]
    pub nocheckpoints: bool,

    /// add an interface/port to listen for connections (default all interfaces, port 12008)
    #[argh(option)]
    pub listen: Vec<String>,
    /// disable listening for incoming connections
    #[argh(switch)]
    pub nolisten: bool,
    /// add a peer to connect with at startup
    #[argh(option, short = 'a')]
    pub addpeer: Vec<String>,
    /// connect only to the specified peers at startup
    #[argh(option)]
    pub connect: Vec<String>,
    /// max number of inbound and outbound peers (default 125)
    #[argh(option)]
    pub maxpeers: Option<i64>,
    /// how long to ban misbehaving peers, e.g. 24h, 30m, 90s (minimum 1s)
    #[argh(option)]
    pub banduration: Option<String>,
    /// maximum allowed ban score before disconnecting and banning misbehaving peers
    #[argh(option)]
    pub banthreshold: Option<u32>,
    /// disable banning of misbehaving peers
    #[argh(switch)]
    pub nobanning: bool,
    /// add an IP network or IP that will not be banned (eg. 192.168.1.0/24 or ::1)
    #[argh(option)]
    pub whitelist: Vec<String>,
    /// disable DNS seeding for peers
    #[argh(switch)]
    pub nodnsseed: bool,
    /// add an ip (with or without port) to the list of local addresses we claim to listen on
    /// to peers
    #[argh(option)]
    pub externalip: Vec<String>,
    /// use UPnP to map our listening port outside of NAT
    #[argh(switch)]
    pub upnp: bool,
    /// do not accept transactions from remote peers
    #[argh(switch)]
    pub blocksonly: bool,
    /// drop peers whose user agent contains this substring (comma separated list or repeated)
    #[argh(option)]
    pub agentblacklist: Vec<String>,
    /// require peers' user agents to contain one of these substrings (comma separated list or
    /// repeated); the blacklist is applied first, and an empty whitelist allows every agent
    #[argh(option)]
    pub agentwhitelist: Vec<String>,
    /// disable the stall handler: peers are never dropped for stalling block or header
    /// download, useful in simnet/regtest test frameworks
    #[argh(switch)]
    pub nostalldetect: bool,
    /// minimum time between transaction announcements to a peer, e.g. 10s, 500ms (default 10s)
    #[argh(option)]
    pub trickleinterval: Option<String>,
    /// connect via SOCKS5 proxy (eg. 127.0.0.1:9050)
    #[argh(option)]
    pub proxy: Option<String>,
    /// username for proxy server
    #[argh(option)]
    pub proxyuser: Option<String>,
    /// password for proxy server
    #[argh(option)]
    pub proxypass: Option<String>,
    /// connect to tor hidden services via SOCKS5 proxy (eg. 127.0.0.1:9050)
    #[argh(option)]
    pub onion: Option<String>,
    /// username for onion proxy server
    #[argh(option)]
    pub onionuser: Option<String>,
    /// password for onion proxy server
    #[argh(option)]
    pub onionpass: Option<String>,
    /// disable connecting to tor hidden services
    #[argh(switch)]
    pub noonion: bool,
    /// enable Tor stream isolation by randomizing proxy credentials for each connection
    #[argh(switch)]
    pub torisolation: bool,
    /// comment to add to the user agent (BIP 14)
    #[argh(option)]
    pub uacomment: Vec<String>,

    /// username for RPC connections
    #[argh(option, short = 'u')]
    pub rpcuser: Option<String>,
    /// password for RPC connections
    #[argh(option, short = 'P')]
    pub rpcpass: Option<String>,
    /// username for limited RPC connections
    #[argh(option)]
    pub rpclimituser: Option<String>,
    /// password for limited RPC connections
    #[argh(option)]
    pub rpclimitpass: Option<String>,
    /// add an interface/port to listen for RPC connections (default localhost, port 12009)
    #[argh(option)]
    pub rpclisten: Vec<String>,
    /// max number of RPC clients for standard connections (default 10)
    #[argh(option)]
    pub rpcmaxclients: Option<i64>,
    /// max number of RPC websocket connections (default 25)
    #[argh(option)]
    pub rpcmaxwebsockets: Option<i64>,
    /// max number of concurrent RPC requests per websocket client, at least 1 (default 20;
    /// rbtcd answers a client's requests one at a time, so every limit of 1 or more holds)
    #[argh(option)]
    pub rpcmaxconcurrentreqs: Option<i64>,
    /// disable built-in RPC server
    #[argh(switch)]
    pub norpc: bool,
    /// disable TLS for the RPC server; only allowed when the RPC server is bound to localhost
    #[argh(switch)]
    pub notls: bool,
    /// file containing the certificate file (default ~/.rbtcd/rpc.cert, generated with its key
    /// when neither exists)
    #[argh(option)]
    pub rpccert: Option<String>,
    /// file containing the certificate key (default ~/.rbtcd/rpc.key)
    #[argh(option)]
    pub rpckey: Option<String>,

    /// generate (mine) bitcoins using the CPU
    #[argh(switch)]
    pub generate: bool,
    /// add a payment address to the list of addresses to use for generated blocks
    #[argh(option)]
    pub miningaddr: Vec<String>,
    /// CPU miner threads, also when setgenerate turns mining on without a count (default: one
    /// per core; btcd has only setgenerate's genproclimit)
    #[argh(option)]
    pub genproclimit: Option<u32>,
    /// maximum block weight to be used when creating a block (default 3000000)
    #[argh(option)]
    pub blockmaxweight: Option<u32>,
    /// the minimum transaction fee in BTC/kB to be considered a non-zero fee (default 0.00001)
    #[argh(option)]
    pub minrelaytxfee: Option<f64>,
    /// max number of orphan transactions to keep in memory (default 100)
    #[argh(option)]
    pub maxorphantx: Option<i64>,
    /// the maximum size in MiB of the UTXO cache (default 250)
    #[argh(option)]
    pub utxocachemaxsize: Option<i64>,
    /// the maximum number of entries in the signature verification cache (default 100000)
    #[argh(option)]
    pub sigcachemaxsize: Option<i64>,
    /// skip script checks of this block's ancestors when a best header chain with enough
    /// work holds it, as Bitcoin Core (0: check every script; default: the network's block)
    #[argh(option)]
    pub assumevalid: Option<String>,
    /// reject non-standard transactions regardless of the network's default
    #[argh(switch)]
    pub rejectnonstd: bool,
    /// relay non-standard transactions regardless of the network's default
    #[argh(switch)]
    pub relaynonstd: bool,
    /// reject transactions that replace mempool transactions (RBF); rbtcd never accepts a
    /// replacement, so this is always in force
    #[argh(switch)]
    pub rejectreplacement: bool,

    /// maintain a full hash-based transaction index which makes all transactions available
    /// via the getrawtransaction RPC
    #[argh(switch)]
    pub txindex: bool,
    /// deletes the hash-based transaction index from the database on start up and then exits
    #[argh(switch)]
    pub droptxindex: bool,
    /// whether to save the mempool to mempool.dat at shutdown and load it at start, as
    /// Bitcoin Core (0 to turn off; default 1)
    #[argh(option)]
    pub persistmempool: Option<i64>,
}

/// `--name=value` as `--name value`, as argh reads options.
fn split_values(args: &[String]) -> Vec<String> {
    split_values_indexed(args)
        .into_iter()
        .map(|(_, arg)| arg)
        .collect()
}

/// `--name=value` as `--name value`, as argh reads options, each argument made with the index
/// of the one in `args` it came from.
pub(crate) fn split_values_indexed(args: &[String]) -> Vec<(usize, String)> {
    let mut split = Vec::with_capacity(args.len());
    for (index, arg) in args.iter().enumerate() {
        match arg.strip_prefix("--").and_then(|rest| rest.split_once('=')) {
            Some((name, value)) => {
                split.push((index, format!("--{name}")));
                split.push((index, value.to_string()));
            }
            None => split.push((index, arg.clone())),
        }
    }
    split
}

/// Names of the options that are switches: in a config file they take a boolean value.
pub const SWITCHES: &[&str] = &[
    "version",
    "testnet",
    "testnet4",
    "regtest",
    "simnet",
    "signet",
    "nocheckpoints",
    "nolisten",
    "upnp",
    "blocksonly",
    "nostalldetect",
    "rejectnonstd",
    "relaynonstd",
    "rejectreplacement",
    "nobanning",
    "nodnsseed",
    "noonion",
    "torisolation",
    "norpc",
    "notls",
    "generate",
    "txindex",
    "droptxindex",
];

impl Options {
    /// Parses command-line style arguments (without the program name). Accepts btcd's
    /// `--name=value` spelling as well as `--name value`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        if let Some(line) = args.iter().find_map(|a| refused::check(a)) {
            return Err(line);
        }
        let split = split_values(args);
        let refs: Vec<&str> = split.iter().map(String::as_str).collect();
        Options::from_args(&["rbtcd"], &refs).map_err(|exit| exit.output.trim().to_string())
    }

    /// The usage text, when `args` ask for it (`--help`, `help`).
    pub fn help(args: &[String]) -> Option<String> {
        let split = split_values(args);
        let refs: Vec<&str> = split.iter().map(String::as_str).collect();
        match Options::from_args(&["rbtcd"], &refs) {
            Err(exit) if exit.status.is_ok() => Some(exit.output),
            _ => None,
        }
    }

    /// Lays `self` (the command line) over `file` (the config file): scalars from the command
    /// line win, switches set in either are set, lists from the command line replace the file's.
    pub fn over(self, file: Options) -> Options {
        fn list(cli: Vec<String>, file: Vec<String>) -> Vec<String> {
            if cli.is_empty() {
                file
            } else {
                cli
            }
        }
        Options {
            version: self.version || file.version,
            configfile: self.configfile.or(file.configfile),
            datadir: self.datadir.or(file.datadir),
            logdir: self.logdir.or(file.logdir),
            debuglevel: self.debuglevel.or(file.debuglevel),
            testnet: self.testnet || file.testnet,
            testnet4: self.testnet4 || file.testnet4,
            regtest: self.regtest || file.regtest,
            simnet: self.simnet || file.simnet,
            signet: self.signet || file.signet,
            signetchallenge: self.signetchallenge.or(file.signetchallenge),
            signetseednode: list(self.signetseednode, file.signetseednode),
            addcheckpoint: list(self.addcheckpoint, file.addcheckpoint),
            nocheckpoints: self.nocheckpoints || file.nocheckpoints,
            listen: list(self.listen, file.listen),
            nolisten: self.nolisten || file.nolisten,
            addpeer: list(self.addpeer, file.addpeer),
            connect: list(self.connect, file.connect),
            maxpeers: self.maxpeers.or(file.maxpeers),
            banduration: self.banduration.or(file.banduration),
            banthreshold: self.banthreshold.or(file.banthreshold),
            nobanning: self.nobanning || file.nobanning,
            whitelist: list(self.whitelist, file.whitelist),
            nodnsseed: self.nodnsseed || file.nodnsseed,
            externalip: list(self.externalip, file.externalip),
            upnp: self.upnp || file.upnp,
            blocksonly: self.blocksonly || file.blocksonly,
            agentblacklist: list(self.agentblacklist, file.agentblacklist),
            agentwhitelist: list(self.agentwhitelist, file.agentwhitelist),
            nostalldetect: self.nostalldetect || file.nostalldetect,
            trickleinterval: self.trickleinterval.or(file.trickleinterval),
            proxy: self.proxy.or(file.proxy),
            proxyuser: self.proxyuser.or(file.proxyuser),
            proxypass: self.proxypass.or(file.proxypass),
            onion: self.onion.or(file.onion),
            onionuser: self.onionuser.or(file.onionuser),
            onionpass: self.onionpass.or(file.onionpass),
            noonion: self.noonion || file.noonion,
            torisolation: self.torisolation || file.torisolation,
            uacomment: list(self.uacomment, file.uacomment),
            rpcuser: self.rpcuser.or(file.rpcuser),
            rpcpass: self.rpcpass.or(file.rpcpass),
            rpclimituser: self.rpclimituser.or(file.rpclimituser),
            rpclimitpass: self.rpclimitpass.or(file.rpclimitpass),
            rpclisten: list(self.rpclisten, file.rpclisten),
            rpcmaxclients: self.rpcmaxclients.or(file.rpcmaxclients),
            rpcmaxwebsockets: self.rpcmaxwebsockets.or(file.rpcmaxwebsockets),
            rpcmaxconcurrentreqs: self.rpcmaxconcurrentreqs.or(file.rpcmaxconcurrentreqs),
            norpc: self.norpc || file.norpc,
            notls: self.notls || file.notls,
            rpccert: self.rpccert.or(file.rpccert),
            rpckey: self.rpckey.or(file.rpckey),
            generate: self.generate || file.generate,
            miningaddr: list(self.miningaddr, file.miningaddr),
            genproclimit: self.genproclimit.or(file.genproclimit),
            blockmaxweight: self.blockmaxweight.or(file.blockmaxweight),
            minrelaytxfee: self.minrelaytxfee.or(file.minrelaytxfee),
            maxorphantx: self.maxorphantx.or(file.maxorphantx),
            utxocachemaxsize: self.utxocachemaxsize.or(file.utxocachemaxsize),
            sigcachemaxsize: self.sigcachemaxsize.or(file.sigcachemaxsize),
            assumevalid: self.assumevalid.or(file.assumevalid),
            rejectnonstd: self.rejectnonstd || file.rejectnonstd,
            relaynonstd: self.relaynonstd || file.relaynonstd,
            rejectreplacement: self.rejectreplacement || file.rejectreplacement,
            txindex: self.txindex || file.txindex,
            persistmempool: self.persistmempool.or(file.persistmempool),
            droptxindex: self.droptxindex || file.droptxindex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepts_btcd_spellings() {
        let o = Options::parse(&args(&[
            "--regtest",
            "--debuglevel=info,PEER=debug",
            "-a",
            "127.0.0.1:1",
            "--addpeer=127.0.0.1:2",
            "--maxpeers",
            "7",
        ]))
        .unwrap();
        assert!(o.regtest);
        assert_eq!(o.debuglevel.as_deref(), Some("info,PEER=debug"));
        assert_eq!(o.addpeer, ["127.0.0.1:1", "127.0.0.1:2"]);
        assert_eq!(o.maxpeers, Some(7));
    }

    #[test]
    fn rejects_unknown_options_and_bad_numbers() {
        assert!(Options::parse(&args(&["--nosuchthing"])).is_err());
        assert!(Options::parse(&args(&["--maxpeers=many"])).is_err());
    }

    #[test]
    fn every_listed_switch_is_a_switch() {
        for name in SWITCHES {
            let o = Options::parse(&[format!("--{name}")]);
            assert!(o.is_ok(), "--{name} should parse as a switch: {o:?}");
        }
    }

    #[test]
    fn command_line_wins_over_file() {
        let file = Options::parse(&args(&["--maxpeers=5", "--connect=a", "--generate"])).unwrap();
        let cli = Options::parse(&args(&["--maxpeers=9"])).unwrap();
        let merged = cli.over(file);
        assert_eq!(merged.maxpeers, Some(9));
        assert_eq!(merged.connect, ["a"]);
        assert!(merged.generate);
    }
}
