//! `load_config`: defaults < config file < command line, then btcd's validation rules, giving
//! the resolved settings the daemon starts from. Every refusal is one line a user can act on.

pub(crate) mod duration;
pub(crate) mod ini;
pub(crate) mod node;
mod options;
pub(crate) mod refused;

pub(crate) use options::split_values_indexed;
pub use options::Options;

use crate::p2p::dialer::Dialer;
use crate::p2p::socks5::Proxy;
use crate::rpc::cookie::COOKIE_FILENAME;
use crate::rpc::tls::{TlsFiles, CERT_FILENAME, KEY_FILENAME};
pub use rbtcd_core::net::ipnet::IpNet;

use rbtcd_core::chain::assume_valid::AssumeValid;
use rbtcd_core::chain::coins::DEFAULT_CACHE_MIB;
use rbtcd_core::net::user_agent::{user_agent, UserAgentError};
use rbtcd_core::node::DEFAULT_TRICKLE_INTERVAL;
use rbtcd_core::params::{Checkpoint, Network, Params};
use rbtcd_core::script::sigcache::DEFAULT_SIG_CACHE_ENTRIES;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of the config file in the home directory.
pub const CONFIG_FILENAME: &str = "rbtcd.conf";
/// Most peers (inbound and outbound) by default, as btcd.
pub const DEFAULT_MAX_PEERS: usize = 125;
/// Ban score at which a peer is disconnected and banned, as btcd.
pub const DEFAULT_BAN_THRESHOLD: u32 = 100;
/// How long a ban lasts by default (24 h), as btcd.
pub const DEFAULT_BAN_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Default block weight limit for generated blocks, as btcd.
pub const DEFAULT_BLOCK_MAX_WEIGHT: u32 = 3_000_000;
/// btcd's bounds on `blockmaxweight`: at least 4000 and 4000 under the consensus limit.
pub const BLOCK_MAX_WEIGHT_RANGE: (u32, u32) = (4_000, 4_000_000 - 4_000);
/// Default minimum relay fee in satoshis per kB (0.00001 BTC/kB), as btcd.
pub const DEFAULT_MIN_RELAY_TX_FEE: i64 = 1_000;
/// Default orphan transaction limit, as btcd.
pub const DEFAULT_MAX_ORPHAN_TX: usize = 100;

/// What the command line asked for.
#[derive(Debug)]
pub enum Startup {
    /// Run the node with these settings.
    Run(Box<Config>),
    /// Print the version and exit (`--version`).
    ShowVersion,
    /// Print the logging subsystems and exit (`--debuglevel=show`).
    ShowSubsystems,
    /// Print this usage text and exit (`--help`).
    ShowHelp(String),
}

/// RPC server settings; absent when the RPC server is disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcConfig {
    /// Addresses to serve JSON-RPC on.
    pub listeners: Vec<SocketAddr>,
    /// Admin credentials (`rpcuser`/`rpcpass`).
    pub admin: Option<(String, String)>,
    /// Limited-user credentials (`rpclimituser`/`rpclimitpass`).
    pub limited: Option<(String, String)>,
    /// Where the admin cookie is written at start when no user is configured (Core's cookie
    /// authentication, [`crate::rpc::cookie`]); the daemon then fills in `admin` from it.
    pub cookie: Option<PathBuf>,
    /// Most concurrent HTTP clients (`rpcmaxclients`).
    pub max_clients: usize,
    /// Most WebSocket clients (`rpcmaxwebsockets`).
    pub max_websockets: usize,
    /// Most RPC replies rendered at once beside the node (`rpcmaxconcurrentreqs`).
    pub max_concurrent_reqs: usize,
    /// The certificate and key served over TLS; `None` with `notls` (plain HTTP, loopback
    /// listeners only).
    pub tls: Option<TlsFiles>,
}

/// The resolved settings the daemon runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The chosen network.
    pub network: Network,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Where the database lives (`<datadir>/<network>`).
    pub data_dir: PathBuf,
    /// Where the log file is written (`<logdir>/<network>`).
    pub log_dir: PathBuf,
    /// The `debuglevel` specification, checked by the logging setup.
    pub debug_level: String,
    /// P2P listen addresses; empty when listening is off.
    pub listeners: Vec<SocketAddr>,
    /// Peers to connect to exclusively (`connect`).
    pub connect: Vec<String>,
    /// Persistent peers (`addpeer`).
    pub add_peers: Vec<String>,
    /// Most peers in all.
    pub max_peers: usize,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// Ban score that triggers a ban.
    pub ban_threshold: u32,
    /// `nobanning`: misbehaviour is logged, never banned.
    pub no_banning: bool,
    /// Networks whose peers are never banned.
    pub whitelists: Vec<IpNet>,
    /// Whether to ask DNS seeds for peers.
    pub dns_seed: bool,
    /// Addresses we claim to listen on.
    pub external_ips: Vec<String>,
    /// The `proxy` option as given (reported by `getinfo`).
    pub proxy: Option<String>,
    /// How outbound connections are made (`proxy`, `onion`, `noonion` and their logins).
    pub dialer: Dialer,
    /// Our user agent with the `uacomment` comments (BIP 14), checked.
    pub user_agent: String,
    /// `upnp`: map the listen port on the gateway and advertise its external address.
    pub upnp: bool,
    /// `blocksonly`: take no transactions from peers.
    pub blocks_only: bool,
    /// `agentblacklist`: user agent substrings whose peers are dropped.
    pub agent_blacklist: Vec<String>,
    /// `agentwhitelist`: user agent substrings one of which peers must have, when not empty.
    pub agent_whitelist: Vec<String>,
    /// `nostalldetect`: never drop peers for stalling.
    pub no_stall_detect: bool,
    /// `trickleinterval`: least time between transaction announcements to a peer.
    pub trickle_interval: Duration,
    /// `addcheckpoint`: extra checkpoints, by height.
    pub add_checkpoints: Vec<Checkpoint>,
    /// `nocheckpoints`: drop the built-in checkpoints.
    pub no_checkpoints: bool,
    /// `signetchallenge`: the custom signet's block challenge script.
    pub signet_challenge: Option<Vec<u8>>,
    /// `signetseednode`: the custom signet's seeds.
    pub signet_seeds: Vec<String>,
    /// Accept non-standard transactions (the network's default, `relaynonstd`, `rejectnonstd`).
    pub accept_non_std: bool,
    /// RPC server settings; `None` when disabled.
    pub rpc: Option<RpcConfig>,
    /// Mine with the CPU (`generate`).
    pub generate: bool,
    /// Addresses generated blocks pay to (checked against the network by the miner).
    pub mining_addrs: Vec<String>,
    /// Weight limit for generated blocks.
    pub block_max_weight: u32,
    /// CPU miner threads (`genproclimit`); `None`: one per core.
    pub gen_proc_limit: Option<u32>,
    /// Minimum relay fee in satoshis per kB.
    pub min_relay_tx_fee: i64,
    /// Most orphan transactions kept.
    pub max_orphan_tx: usize,
    /// `utxocachemaxsize`: the UTXO cache's budget, MiB.
    pub utxo_cache_mib: usize,
    /// `sigcachemaxsize`: entries in the signature cache.
    pub sig_cache_entries: usize,
    /// `assumevalid`: whose ancestors' scripts are not checked.
    pub assume_valid: AssumeValid,
    /// `txindex`: keep the transaction index.
    pub tx_index: bool,
    /// `persistmempool`: keep the pool in `mempool.dat` across restarts (Core's default on;
    /// any non-zero value is on, as Core reads it).
    pub persist_mempool: bool,
    /// `droptxindex`: delete the transaction index and exit.
    pub drop_tx_index: bool,
}

/// Why the configuration was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// The command line did not parse.
    CommandLine(String),
    /// The config file could not be read or did not parse.
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The home directory or a default config file could not be created.
    Home(String),
    /// More than one of testnet, regtest, simnet, signet.
    TooManyNetworks,
    /// `maxpeers` must be positive.
    MaxPeers(i64),
    /// `banduration` did not parse or is under a second.
    BanDuration(String),
    /// A `whitelist` entry is neither an IP nor a CIDR network.
    Whitelist(String),
    /// `addpeer` and `connect` were both given.
    AddPeerWithConnect,
    /// `rpcuser` equals `rpclimituser`.
    SameRpcUser,
    /// `rpcpass` equals `rpclimitpass`.
    SameRpcPass,
    /// A count option is negative.
    Negative(&'static str, i64),
    /// `minrelaytxfee` is not a valid amount.
    MinRelayTxFee(f64),
    /// `blockmaxweight` is out of btcd's range.
    BlockMaxWeight(u32),
    /// A listen address did not resolve.
    ListenAddress(String),
    /// `generate` without any `miningaddr`.
    GenerateWithoutMiningAddr,
    /// A proxy address (`proxy` or `onion`, named first) is not `host:port`.
    ProxyAddress(&'static str, String, String),
    /// `onion` and `noonion` were both given.
    OnionWithNoOnion,
    /// `txindex` and `droptxindex` were both given.
    TxIndexWithDrop,
    /// `assumevalid` is neither 0 nor a block hash.
    AssumeValid(String),
    /// `uacomment` breaks BIP 14.
    UserAgent(UserAgentError),
    /// `rejectnonstd` and `relaynonstd` were both given.
    NonStdBoth,
    /// An `addcheckpoint` is not `<height>:<hash>`.
    Checkpoint(String),
    /// `signetchallenge` is not hex, or a signet option was given without `signet`.
    Signet(String),
    /// `trickleinterval` did not parse or is zero.
    TrickleInterval(String),
    /// `torisolation` without a proxy to isolate streams on.
    TorIsolationWithoutProxy,
    /// `upnp` where it has nothing to do (no listener, or `externalip` given).
    Upnp(&'static str),
    /// `notls` with an RPC listener that is not on localhost.
    NoTlsNotLoopback(SocketAddr),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::CommandLine(e) => write!(f, "{e} (use rbtcd --help to show usage)"),
            ConfigError::File { path, reason } => {
                write!(f, "error parsing config file {}: {reason}", path.display())
            }
            ConfigError::Home(e) => write!(f, "{e}"),
            ConfigError::TooManyNetworks => write!(
                f,
                "the testnet, testnet4, regtest, signet and simnet params can't be used together -- \
             choose one"
            ),
            ConfigError::MaxPeers(n) => write!(f, "maxpeers must be greater than zero -- parsed [{n}]"),
            ConfigError::BanDuration(e) => write!(f, "invalid banduration: {e}"),
            ConfigError::Whitelist(w) => write!(f, "the whitelist value of '{w}' is invalid"),
            ConfigError::AddPeerWithConnect => {
                write!(f, "the --addpeer and --connect options can not be mixed")
            }
            ConfigError::SameRpcUser => write!(
                f,
                "--rpcuser and --rpclimituser must not specify the same username"
            ),
            ConfigError::SameRpcPass => write!(
                f,
                "--rpcpass and --rpclimitpass must not specify the same password"
            ),
            ConfigError::Negative(name, n) => {
                write!(f, "the {name} option may not be less than 0 -- parsed [{n}]")
            }
            ConfigError::MinRelayTxFee(v) => write!(f, "invalid minrelaytxfee: {v} BTC/kB"),
            ConfigError::BlockMaxWeight(w) => write!(
                f,
                "the blockmaxweight option must be in between {} and {} -- parsed [{w}]",
                BLOCK_MAX_WEIGHT_RANGE.0, BLOCK_MAX_WEIGHT_RANGE.1
            ),
            ConfigError::ListenAddress(e) => write!(f, "invalid listen address: {e}"),
            ConfigError::GenerateWithoutMiningAddr => write!(
                f,
                "the generate flag is set, but there are no mining addresses specified"
            ),
            ConfigError::ProxyAddress(option, value, reason) => {
                let kind = if *option == "onion" { "onion proxy" } else { "proxy" };
                write!(f, "{kind} address '{value}' is invalid: {reason}")
            }
            ConfigError::OnionWithNoOnion => write!(
                f,
                "the --noonion and --onion options may not be activated at the same time"
            ),
            ConfigError::TxIndexWithDrop => write!(
                f,
                "the --txindex and --droptxindex options may not be activated at the same time"
            ),
            ConfigError::AssumeValid(v) => write!(
                f,
                "invalid assumevalid '{v}': give a block hash (64 hex digits) or 0 to check \
                 every script"
            ),
            ConfigError::UserAgent(e) => write!(f, "invalid uacomment: {e}"),
            ConfigError::NonStdBoth => write!(
                f,
                "rejectnonstd and relaynonstd cannot be used together -- choose only one"
            ),
            ConfigError::Checkpoint(e) => write!(f, "invalid addcheckpoint: {e}"),
            ConfigError::Signet(e) => write!(f, "{e}"),
            ConfigError::Upnp(why) => write!(f, "--upnp {why}"),
            ConfigError::TorIsolationWithoutProxy => write!(
                f,
                "Tor stream isolation requires either proxy or onionproxy to be set"
            ),
            ConfigError::TrickleInterval(e) => write!(f, "invalid trickleinterval: {e}"),
            ConfigError::NoTlsNotLoopback(a) => write!(
                f,
                "RPC listen interface '{a}' is not a loopback interface -- --notls is only \
                 allowed when the RPC server is bound to localhost"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The default home directory: `$HOME/.rbtcd` (the current directory when `HOME` is unset).
pub fn default_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".rbtcd")
}

/// Where the daemon keeps its RPC certificate by default, as btcd: in the home directory, for
/// every network.
pub(crate) fn default_rpc_cert(home: &Path) -> PathBuf {
    home.join(CERT_FILENAME)
}

/// The default data directory under `home`; each network's is a directory in it.
pub(crate) fn default_data_dir(home: &Path) -> PathBuf {
    home.join("data")
}

/// The options a config file sets, or `None` when it does not exist (btcd carries on without
/// one). The daemon and `rbtcctl` both read config files through this.
pub(crate) fn read_config_file(path: &Path) -> Result<Option<Options>, ConfigError> {
    let file_err = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_err(e.to_string())),
    };
    let args = ini::to_args(&text).map_err(file_err)?;
    Options::parse(&args).map(Some).map_err(file_err)
}

/// Loads the configuration from `args` (without the program name) with `home` as the default
/// home directory. Like btcd, the default config file is created with random RPC credentials
/// when missing, except on the private networks (regtest, simnet, signet).
pub fn load(args: &[String], home: &Path) -> Result<Startup, ConfigError> {
    if let Some(usage) = Options::help(args) {
        return Ok(Startup::ShowHelp(usage));
    }
    let cli = Options::parse(args).map_err(ConfigError::CommandLine)?;
    if cli.version {
        return Ok(Startup::ShowVersion);
    }
    let private_net = cli.regtest || cli.simnet || cli.signet;
    let file_path = cli
        .configfile
        .as_ref()
        .map(|p| expand(p, home))
        .unwrap_or_else(|| home.join(CONFIG_FILENAME));
    let read_file = cli.configfile.is_some() || !private_net;
    let mut file_opts = Options::default();
    let mut config_file = None;
    if read_file {
        if !file_path.exists() && cli.configfile.is_none() {
            write_default_config(&file_path)?;
        }
        if let Some(opts) = read_config_file(&file_path)? {
            file_opts = opts;
            config_file = Some(file_path.clone());
        }
    }
    let mut opts = cli.over(file_opts);
    // btcd ignores addpeer from the config file on regtest (it is meant for the real networks).
    if opts.regtest
        && args
            .iter()
            .all(|a| !a.starts_with("--addpeer") && a != "-a")
    {
        opts.addpeer.clear();
    }
    if opts.debuglevel.as_deref() == Some("show") {
        return Ok(Startup::ShowSubsystems);
    }
    resolve(opts, home, config_file).map(|c| Startup::Run(Box::new(c)))
}

/// The network the switches `[testnet, testnet4, regtest, simnet, signet]` choose: mainnet
/// when none is set, an error when more than one is.
pub(crate) fn chosen_network(switches: [bool; 5]) -> Result<Network, ConfigError> {
    let networks = [
        Network::Testnet3,
        Network::Testnet4,
        Network::Regtest,
        Network::Simnet,
        Network::Signet,
    ];
    let mut chosen = switches.iter().zip(networks).filter(|(on, _)| **on);
    let network = chosen.next().map_or(Network::Mainnet, |(_, n)| n);
    match chosen.next() {
        Some(_) => Err(ConfigError::TooManyNetworks),
        None => Ok(network),
    }
}

fn resolve(o: Options, home: &Path, config_file: Option<PathBuf>) -> Result<Config, ConfigError> {
    let network = chosen_network([o.testnet, o.testnet4, o.regtest, o.simnet, o.signet])?;
    let params = Params::new(network);

    let max_peers = match o.maxpeers {
        None => DEFAULT_MAX_PEERS,
        Some(n) if n > 0 => n as usize,
        Some(n) => return Err(ConfigError::MaxPeers(n)),
    };
    let ban_duration = match &o.banduration {
        None => DEFAULT_BAN_DURATION,
        Some(text) => {
            let d = duration::parse(text).map_err(ConfigError::BanDuration)?;
            if d < Duration::from_secs(1) {
                return Err(ConfigError::BanDuration(format!(
                    "{text} is less than the minimum of 1s"
                )));
            }
            d
        }
    };
    let whitelists = o
        .whitelist
        .iter()
        .map(|w| {
            w.parse::<IpNet>()
                .map_err(|_| ConfigError::Whitelist(w.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !o.addpeer.is_empty() && !o.connect.is_empty() {
        return Err(ConfigError::AddPeerWithConnect);
    }
    let nolisten =
        o.nolisten || ((o.proxy.is_some() || !o.connect.is_empty()) && o.listen.is_empty());
    let listeners = if nolisten {
        Vec::new()
    } else if o.listen.is_empty() {
        vec![SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            params.default_port,
        )]
    } else {
        resolve_addrs(&o.listen, params.default_port)?
    };
    let dns_seed = !(o.nodnsseed || network == Network::Simnet || !o.connect.is_empty());

    let data_dir = o
        .datadir
        .clone()
        .map(|d| expand(&d, home))
        .unwrap_or_else(|| default_data_dir(home))
        .join(network.name());
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (user, pass) = (non_empty(&o.rpcuser), non_empty(&o.rpcpass));
    let (luser, lpass) = (non_empty(&o.rpclimituser), non_empty(&o.rpclimitpass));
    if user.is_some() && user == luser {
        return Err(ConfigError::SameRpcUser);
    }
    if pass.is_some() && pass == lpass {
        return Err(ConfigError::SameRpcPass);
    }
    let count = |name: &'static str, v: Option<i64>, default: usize| match v {
        None => Ok(default),
        Some(n) if n >= 0 => Ok(n as usize),
        Some(n) => Err(ConfigError::Negative(name, n)),
    };
    let max_clients = count("rpcmaxclients", o.rpcmaxclients, 10)?;
    let max_websockets = count("rpcmaxwebsockets", o.rpcmaxwebsockets, 25)?;
    let max_concurrent_reqs = count("rpcmaxconcurrentreqs", o.rpcmaxconcurrentreqs, 20)?;
    let max_orphan_tx = count("maxorphantx", o.maxorphantx, DEFAULT_MAX_ORPHAN_TX)?;
    let utxo_cache_mib = count("utxocachemaxsize", o.utxocachemaxsize, DEFAULT_CACHE_MIB)?;
    let assume_valid = match o.assumevalid.as_deref() {
        None => AssumeValid::NetworkDefault,
        Some("0") => AssumeValid::Off,
        Some(hex) => hex
            .parse()
            .map(AssumeValid::Block)
            .map_err(|_| ConfigError::AssumeValid(hex.to_string()))?,
    };
    let sig_cache_entries = count(
        "sigcachemaxsize",
        o.sigcachemaxsize,
        DEFAULT_SIG_CACHE_ENTRIES,
    )?;
    let admin = user.zip(pass);
    let limited = luser.zip(lpass);
    // btcd disables RPC without credentials; Core authenticates with a cookie instead.
    let cookie = (admin.is_none() && limited.is_none()).then(|| data_dir.join(COOKIE_FILENAME));
    let rpc = if o.norpc {
        None
    } else {
        let listeners = if o.rpclisten.is_empty() {
            vec![SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                params.rpc_port,
            )]
        } else {
            resolve_addrs(&o.rpclisten, params.rpc_port)?
        };
        let tls = (!o.notls).then(|| TlsFiles {
            cert: o
                .rpccert
                .as_ref()
                .map_or_else(|| default_rpc_cert(home), |p| expand(p, home)),
            key: o
                .rpckey
                .as_ref()
                .map_or_else(|| home.join(KEY_FILENAME), |p| expand(p, home)),
        });
        Some(RpcConfig {
            listeners,
            admin,
            limited,
            cookie,
            max_clients,
            max_websockets,
            max_concurrent_reqs,
            tls,
        })
    };

    let min_relay_tx_fee = match o.minrelaytxfee {
        None => DEFAULT_MIN_RELAY_TX_FEE,
        Some(btc) if btc.is_finite() && (0.0..=21e6).contains(&btc) => (btc * 1e8).round() as i64,
        Some(btc) => return Err(ConfigError::MinRelayTxFee(btc)),
    };
    let block_max_weight = o.blockmaxweight.unwrap_or(DEFAULT_BLOCK_MAX_WEIGHT);
    if !(BLOCK_MAX_WEIGHT_RANGE.0..=BLOCK_MAX_WEIGHT_RANGE.1).contains(&block_max_weight) {
        return Err(ConfigError::BlockMaxWeight(block_max_weight));
    }
    if o.generate && o.miningaddr.is_empty() {
        return Err(ConfigError::GenerateWithoutMiningAddr);
    }
    if o.txindex && o.droptxindex {
        return Err(ConfigError::TxIndexWithDrop);
    }
    if o.noonion && o.onion.is_some() {
        return Err(ConfigError::OnionWithNoOnion);
    }
    let dialer = Dialer {
        proxy: proxy("proxy", &o.proxy, &o.proxyuser, &o.proxypass)?,
        onion: proxy("onion", &o.onion, &o.onionuser, &o.onionpass)?,
        no_onion: o.noonion,
        tor_isolation: o.torisolation,
    };
    if dialer.tor_isolation && dialer.proxy.is_none() && dialer.onion.is_none() {
        return Err(ConfigError::TorIsolationWithoutProxy);
    }

    let user_agent = user_agent(&o.uacomment).map_err(ConfigError::UserAgent)?;
    if o.rejectnonstd && o.relaynonstd {
        return Err(ConfigError::NonStdBoth);
    }
    // btcd's per-network default (RelayNonStdTxs): only mainnet and signet refuse them.
    let network_relays_non_std = !matches!(network, Network::Mainnet | Network::Signet);
    let accept_non_std = o.relaynonstd || (network_relays_non_std && !o.rejectnonstd);
    let add_checkpoints = o
        .addcheckpoint
        .iter()
        .map(|c| parse_checkpoint(c).map_err(ConfigError::Checkpoint))
        .collect::<Result<Vec<_>, _>>()?;
    let has_signet_options = o.signetchallenge.is_some() || !o.signetseednode.is_empty();
    if has_signet_options && network != Network::Signet {
        return Err(ConfigError::Signet(
            "--signetchallenge and --signetseednode need --signet".into(),
        ));
    }
    let signet_challenge = match &o.signetchallenge {
        None => None,
        Some(hex) => Some(
            rbtcd_core::primitives::hash::hex_decode(hex)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    ConfigError::Signet(format!("signetchallenge '{hex}' is not a hex script"))
                })?,
        ),
    };
    let trickle_interval = match &o.trickleinterval {
        None => DEFAULT_TRICKLE_INTERVAL,
        Some(text) => match duration::parse(text).map_err(ConfigError::TrickleInterval)? {
            d if d.is_zero() => {
                return Err(ConfigError::TrickleInterval(format!(
                    "{text} must be greater than 0"
                )))
            }
            d => d,
        },
    };
    if o.notls {
        let rpc_listeners = rpc.iter().flat_map(|r| &r.listeners);
        if let Some(a) = rpc_listeners.into_iter().find(|a| !a.ip().is_loopback()) {
            return Err(ConfigError::NoTlsNotLoopback(*a));
        }
    }
    // btcd skips UPnP in both cases; refusing says so instead of ignoring the option.
    if o.upnp && listeners.is_empty() {
        return Err(ConfigError::Upnp(
            "maps the P2P listen port, but listening is off (nolisten, or connect/proxy \
             without listen)",
        ));
    }
    if o.upnp && !o.externalip.is_empty() {
        return Err(ConfigError::Upnp(
            "learns the external address, which --externalip already gives: use one of them",
        ));
    }
    if max_concurrent_reqs == 0 {
        return Err(ConfigError::Negative("rpcmaxconcurrentreqs", 0));
    }

    let net_dir = network.name();
    let log_dir = o
        .logdir
        .map(|d| expand(&d, home))
        .unwrap_or_else(|| home.join("logs"))
        .join(net_dir);
    Ok(Config {
        network,
        config_file,
        data_dir,
        log_dir,
        debug_level: o.debuglevel.unwrap_or_else(|| "info".to_string()),
        listeners,
        connect: o.connect,
        add_peers: o.addpeer,
        max_peers,
        ban_duration,
        ban_threshold: o.banthreshold.unwrap_or(DEFAULT_BAN_THRESHOLD),
        no_banning: o.nobanning,
        whitelists,
        dns_seed,
        external_ips: o.externalip,
        proxy: o.proxy,
        dialer,
        user_agent,
        upnp: o.upnp,
        blocks_only: o.blocksonly,
        agent_blacklist: split_lists(&o.agentblacklist),
        agent_whitelist: split_lists(&o.agentwhitelist),
        no_stall_detect: o.nostalldetect,
        trickle_interval,
        add_checkpoints,
        no_checkpoints: o.nocheckpoints,
        signet_challenge,
        signet_seeds: o.signetseednode,
        accept_non_std,
        rpc,
        generate: o.generate,
        mining_addrs: o.miningaddr,
        block_max_weight,
        gen_proc_limit: o.genproclimit,
        min_relay_tx_fee,
        max_orphan_tx,
        utxo_cache_mib,
        sig_cache_entries,
        assume_valid,
        tx_index: o.txindex,
        persist_mempool: o.persistmempool.is_none_or(|v| v != 0),
        drop_tx_index: o.droptxindex,
    })
}

/// btcd's `<height>:<hash>` checkpoint.
fn parse_checkpoint(text: &str) -> Result<Checkpoint, String> {
    let bad = || format!("'{text}' is not <height>:<hash>");
    let (height, hash) = text.split_once(':').ok_or_else(bad)?;
    Ok(Checkpoint {
        height: height.parse().map_err(|_| bad())?,
        hash: hash.parse().map_err(|_| bad())?,
    })
}

/// Agent lists as given, each value also split at commas (btcd's help calls them comma
/// separated lists); empty pieces are dropped, as they would match every agent.
fn split_lists(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

impl Config {
    /// The network's parameters as configured: a custom signet, extra or no checkpoints.
    pub fn params(&self) -> Params {
        let mut params = match (&self.signet_challenge, self.network) {
            (Some(challenge), Network::Signet) => {
                Params::custom_signet(challenge.clone(), self.signet_seeds.clone())
            }
            _ => Params::new(self.network),
        };
        if self.network == Network::Signet && !self.signet_seeds.is_empty() {
            params.dns_seeds = self.signet_seeds.clone();
        }
        if self.no_checkpoints {
            params.checkpoints.clear();
        }
        // An added checkpoint replaces a built-in one at its height.
        let added = &self.add_checkpoints;
        params
            .checkpoints
            .retain(|c| added.iter().all(|a| a.height != c.height));
        params.checkpoints.extend(added.iter().copied());
        params.checkpoints.sort_by_key(|c| c.height);
        params
    }
}

/// A SOCKS5 proxy option (`host:port`, as btcd requires) with its login, if given.
pub(crate) fn proxy(
    option: &'static str,
    value: &Option<String>,
    user: &Option<String>,
    pass: &Option<String>,
) -> Result<Option<Proxy>, ConfigError> {
    let Some(value) = value.as_ref().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let invalid = |reason: String| ConfigError::ProxyAddress(option, value.clone(), reason);
    let addr = value
        .to_socket_addrs()
        .map_err(|e| invalid(e.to_string()))?
        .next()
        .ok_or_else(|| invalid("it resolves to no address".into()))?;
    let credentials = match (user, pass) {
        (None, None) => None,
        (u, p) => Some((u.clone().unwrap_or_default(), p.clone().unwrap_or_default())),
    };
    Ok(Some(Proxy { addr, credentials }))
}

/// `~` and a leading `$HOME` expand as btcd's cleanAndExpandPath does.
pub(crate) fn expand(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix('~') {
        Some(rest) => {
            let user_home = home.parent().unwrap_or(home);
            user_home.join(rest.trim_start_matches('/'))
        }
        None => PathBuf::from(path),
    }
}

/// Resolves `host:port`, `:port`, `host` or `ip` specifications (listen addresses, `connect`
/// and `addpeer` peers), adding `default_port` where none is given.
pub fn resolve_addrs(specs: &[String], default_port: u16) -> Result<Vec<SocketAddr>, ConfigError> {
    let mut out = Vec::new();
    for spec in specs {
        if let Some(addr) = onion_addr(spec, default_port) {
            out.push(addr);
            continue;
        }
        let with_port = if let Ok(ip) = spec.trim_matches(['[', ']']).parse::<IpAddr>() {
            SocketAddr::new(ip, default_port).to_string()
        } else if let Some(port) = spec.strip_prefix(':') {
            format!("0.0.0.0:{port}")
        } else if spec
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            spec.clone()
        } else {
            format!("{spec}:{default_port}")
        };
        let addrs = with_port
            .to_socket_addrs()
            .map_err(|e| ConfigError::ListenAddress(format!("{spec}: {e}")))?;
        out.extend(addrs);
    }
    Ok(out)
}

/// A `name.onion` or `name.onion:port` peer as its OnionCat address (DNS cannot resolve it).
fn onion_addr(spec: &str, default_port: u16) -> Option<SocketAddr> {
    let (host, port) = match spec.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (spec, default_port),
    };
    crate::p2p::onion::to_ip(host).map(|ip| SocketAddr::new(ip, port))
}

/// Writes btcd's default config file: a short sample with random RPC credentials.
fn write_default_config(path: &Path) -> Result<(), ConfigError> {
    let home_err = |e: std::io::Error| {
        ConfigError::Home(format!(
            "error creating a default config file {}: {e}",
            path.display()
        ))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(home_err)?;
    }
    let text = format!(
        "[Application Options]\n\n\
         ; rbtcd uses btcd's option names; see `rbtcd --help` for all of them.\n\n\
         ; Use testnet, regtest, signet or simnet instead of mainnet.\n\
         ; testnet=1\n\n\
         ; Peers to connect to only, or to keep connected to.\n\
         ; connect=10.0.0.1:12008\n\
         ; addpeer=10.0.0.2:12008\n\n\
         ; RPC credentials, generated at first start. Without both the daemon writes a cookie (norpc=1 disables RPC).\n\
         rpcuser={}\nrpcpass={}\n",
        random_credential().map_err(home_err)?,
        random_credential().map_err(home_err)?
    );
    std::fs::write(path, text).map_err(home_err)
}

/// 20 random bytes from the OS, base64-encoded, as btcd generates RPC credentials.
fn random_credential() -> std::io::Result<String> {
    Ok(rbtcd_core::base64::encode(
        &crate::entropy::os_random::<20>()?,
    ))
}

#[cfg(test)]
mod tests;
