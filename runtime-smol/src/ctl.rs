//! `rbtcctl`: btcctl's command-line RPC client. Flags, and its own config file `rbtcctl.conf`
//! (btcctl's `btcctl.conf`: the same names in btcd's format), pick the server and credentials
//! (else the daemon's cookie) and how to reach it (TLS trusting the daemon's `rpc.cert` unless
//! `--notls`); the rest is the method and its
//! parameters, each sent as JSON when it parses as JSON and as a string otherwise (`-` reads
//! the parameter from a line of standard input). The result goes to standard output, an error
//! to standard error on one line with status 1; a closed standard output ends it quietly.
//!
//! Every flag is declared in [`Flags`] and read in [`parse_args`]; the config file is read
//! once, by the daemon's reader, into the same flags, which the command line overrides; the
//! call is made by the shared client ([`crate::rpc::client`]). As btcctl, a missing default
//! config file is first written with the daemon's `rpcuser`, `rpcpass` and `notls`.

use crate::config::ini::to_args_for;
use crate::config::{
    chosen_network, default_data_dir, default_home, default_rpc_cert, duration, expand, proxy,
    read_config_file, split_values_indexed, CONFIG_FILENAME,
};
use crate::rpc::client::Connector;
use crate::rpc::cookie::{self, COOKIE_FILENAME};
use crate::rpc::tls::{self, Trust};
use argh::FromArgs;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rpc::methods::{Reach, METHODS};
use serde_json::Value;
use std::io::{self, BufRead, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a call may take to answer unless `--timeout` says (`generate` of many blocks is
/// slow).
const CALL_TIMEOUT: Duration = Duration::from_secs(300);
/// rbtcctl's config file, in its home directory (btcctl's `btcctl.conf`).
pub const CTL_CONFIG_FILENAME: &str = "rbtcctl.conf";
/// [`Flags`] that take no value: in the config file, `name=1` sets one and `name=0` does not.
const SWITCHES: &[&str] = &[
    "version",
    "listcommands",
    "notls",
    "skipverify",
    "wallet",
    "testnet",
    "testnet4",
    "regtest",
    "simnet",
    "signet",
];

/// rbtcctl's flags, with btcctl's names. `help` is the RPC method (btcctl's), not a request
/// for this usage text.
#[derive(FromArgs, Debug)]
#[argh(help_triggers("-h", "--help"))]
/// Calls a method of rbtcd's JSON-RPC server: rbtcctl [flags] <method> [params...]. Each
/// parameter is sent as JSON when it parses as JSON, else as a string.
struct Flags {
    /// display version information and exit
    #[argh(switch, short = 'V')]
    version: bool,
    /// list all of the supported commands and exit
    #[argh(switch, short = 'l')]
    listcommands: bool,
    /// RPC user name (default: the daemon's cookie)
    #[argh(option, short = 'u')]
    rpcuser: Option<String>,
    /// RPC password (default: the daemon's cookie)
    #[argh(option, short = 'P')]
    rpcpass: Option<String>,
    /// RPC server to connect to, host:port (default: 127.0.0.1 on the network's RPC port)
    #[argh(option, short = 's')]
    rpcserver: Option<String>,
    /// path to the configuration file (default: ~/.rbtcctl/rbtcctl.conf)
    #[argh(option, short = 'C')]
    configfile: Option<String>,
    /// RPC server certificate chain for validation (default: ~/.rbtcd/rpc.cert)
    #[argh(option, short = 'c')]
    rpccert: Option<String>,
    /// disable TLS
    #[argh(switch)]
    notls: bool,
    /// do not verify the server's certificate (the connection is encrypted, the server
    /// unproven)
    #[argh(switch)]
    skipverify: bool,
    /// connect to a wallet (btcwallet's port in btcctl; rbtcd has no wallet)
    #[argh(switch)]
    wallet: bool,
    /// connect through a SOCKS5 proxy, host:port
    #[argh(option)]
    proxy: Option<String>,
    /// username for the proxy server
    #[argh(option)]
    proxyuser: Option<String>,
    /// password for the proxy server
    #[argh(option)]
    proxypass: Option<String>,
    /// connect to the test network (testnet3)
    #[argh(switch)]
    testnet: bool,
    /// connect to testnet4
    #[argh(switch)]
    testnet4: bool,
    /// connect to the regression test network
    #[argh(switch)]
    regtest: bool,
    /// connect to the simulation test network
    #[argh(switch)]
    simnet: bool,
    /// connect to the signet test network
    #[argh(switch)]
    signet: bool,
    /// how long to wait for the answer, e.g. 30s or 5m (default 5m)
    #[argh(option)]
    timeout: Option<String>,
    /// the method, then its parameters
    #[argh(positional, greedy)]
    call: Vec<String>,
}

impl Flags {
    /// These flags, with what they leave unset taken from `file`'s (the config file's), as
    /// btcctl reads its file first and the command line over it.
    fn over(self, file: Flags) -> Flags {
        Flags {
            version: self.version || file.version,
            listcommands: self.listcommands || file.listcommands,
            rpcuser: self.rpcuser.or(file.rpcuser),
            rpcpass: self.rpcpass.or(file.rpcpass),
            rpcserver: self.rpcserver.or(file.rpcserver),
            configfile: self.configfile,
            rpccert: self.rpccert.or(file.rpccert),
            notls: self.notls || file.notls,
            skipverify: self.skipverify || file.skipverify,
            wallet: self.wallet || file.wallet,
            proxy: self.proxy.or(file.proxy),
            proxyuser: self.proxyuser.or(file.proxyuser),
            proxypass: self.proxypass.or(file.proxypass),
            testnet: self.testnet || file.testnet,
            testnet4: self.testnet4 || file.testnet4,
            regtest: self.regtest || file.regtest,
            simnet: self.simnet || file.simnet,
            signet: self.signet || file.signet,
            timeout: self.timeout.or(file.timeout),
            call: self.call,
        }
    }
}

/// What the command line and the config file asked for.
#[derive(Debug, PartialEq)]
pub struct Invocation {
    /// `--rpcuser`.
    pub user: Option<String>,
    /// `--rpcpass`.
    pub pass: Option<String>,
    /// `host:port` of the server.
    pub server: Option<String>,
    /// The network, which picks the default port.
    pub network: Network,
    /// `--rpccert`.
    pub cert: Option<PathBuf>,
    /// `--notls`.
    pub no_tls: bool,
    /// `--skipverify`.
    pub skip_verify: bool,
    /// `--proxy`, `--proxyuser`, `--proxypass`.
    pub proxy: Option<(String, Option<String>, Option<String>)>,
    /// `--timeout`: how long the call may take.
    pub timeout: Duration,
    /// The RPC method.
    pub method: String,
    /// Its parameters as given (`-` for a line of standard input).
    pub args: Vec<String>,
}

/// What rbtcctl does instead of a call.
#[derive(Debug, PartialEq)]
pub enum Exit {
    /// `--help`, `--version`, `--listcommands`: the text, printed with status 0.
    Print(String),
    /// A bad command line, or one asking for what rbtcd has not: why, printed with status 1.
    Usage(String),
}

/// Parses `args` (without the program name) over the config file's arguments `file`
/// ([`config_file_args`]). btcd's `--name=value` spelling is accepted for the flags;
/// everything from the method on is taken as written.
pub fn parse_args(args: &[String], file: &[String]) -> Result<Invocation, Exit> {
    let split = split_values_indexed(args);
    let strs: Vec<&str> = split.iter().map(|(_, a)| a.as_str()).collect();
    let file: Vec<&str> = file.iter().map(String::as_str).collect();
    let from_file = parse_flags(&file).map_err(|e| match e {
        Exit::Usage(e) => Exit::Usage(format!("config file: {e}")),
        print => print,
    })?;
    let flags = parse_flags(&strs)?.over(from_file);
    if flags.version {
        return Err(Exit::Print(format!(
            "rbtcctl version {}",
            env!("CARGO_PKG_VERSION")
        )));
    }
    if flags.listcommands {
        return Err(Exit::Print(list_commands()));
    }
    if flags.wallet {
        return Err(Exit::Usage(
            "--wallet: rbtcd has no wallet (btcctl's --wallet reaches btcwallet); call the \
             node without it"
                .into(),
        ));
    }
    let usage =
        || Exit::Usage("rbtcctl needs a method: rbtcctl [flags] <method> [params...]".into());
    // The greedy tail is the method and its parameters; they are taken from `args` unsplit.
    let first = split
        .len()
        .checked_sub(flags.call.len())
        .ok_or_else(usage)?;
    let (origin, _) = split.get(first).ok_or_else(usage)?;
    if first > 0 && split[first - 1].0 == *origin {
        // The method would be the value half of a switch given one (`--regtest=1`).
        return Err(Exit::Usage(format!(
            "{} takes no value\nrun rbtcctl --help for usage",
            args[*origin]
        )));
    }
    let network = chosen_network([
        flags.testnet,
        flags.testnet4,
        flags.regtest,
        flags.simnet,
        flags.signet,
    ])
    .map_err(|e| Exit::Usage(e.to_string()))?;
    let timeout = match flags.timeout.as_deref() {
        None => CALL_TIMEOUT,
        Some(text) => match duration::parse(text) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => return Err(Exit::Usage("--timeout must be longer than zero".into())),
            Err(e) => return Err(Exit::Usage(format!("--timeout: {e}"))),
        },
    };
    let mut call = args[*origin..].iter();
    let method = call.next().ok_or_else(usage)?.clone();
    Ok(Invocation {
        user: flags.rpcuser,
        pass: flags.rpcpass,
        server: flags.rpcserver,
        network,
        cert: flags.rpccert.map(|p| expand(&p, &default_home())),
        no_tls: flags.notls,
        skip_verify: flags.skipverify,
        proxy: flags.proxy.map(|p| (p, flags.proxyuser, flags.proxypass)),
        timeout,
        method,
        args: call.cloned().collect(),
    })
}

/// `args` parsed as rbtcctl's flags; `--help` and the like as [`Exit::Print`].
fn parse_flags(args: &[&str]) -> Result<Flags, Exit> {
    Flags::from_args(&["rbtcctl"], args).map_err(|exit| match exit.status {
        Ok(()) => Exit::Print(exit.output),
        Err(()) => Exit::Usage(format!(
            "{}\nrun rbtcctl --help for usage",
            exit.output.trim()
        )),
    })
}

/// rbtcctl's home directory: `$HOME/.rbtcctl` (btcctl's is its own app directory too).
fn ctl_home() -> PathBuf {
    default_home().with_file_name(".rbtcctl")
}

/// The arguments rbtcctl's config file stands for: the file `-C` names on the command line
/// `args`, else `rbtcctl.conf` in rbtcctl's home, written first from the daemon's config file
/// when missing (btcctl's habit); none when there is no file.
pub fn config_file_args(args: &[String]) -> Result<Vec<String>, String> {
    let split = split_values_indexed(args);
    let strs: Vec<&str> = split.iter().map(|(_, a)| a.as_str()).collect();
    // A command line that does not parse is reported by `parse_args`.
    let named = Flags::from_args(&["rbtcctl"], &strs)
        .ok()
        .and_then(|f| f.configfile);
    let path = match named {
        Some(path) => expand(&path, &default_home()),
        None => {
            let path = ctl_home().join(CTL_CONFIG_FILENAME);
            if !path.exists() {
                if let Err(e) = write_default_config(&path, &default_home().join(CONFIG_FILENAME)) {
                    eprintln!("Error creating a default config file: {e}");
                }
            }
            path
        }
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let check = |line: &[String]| {
        let line: Vec<&str> = line.iter().map(String::as_str).collect();
        match Flags::from_args(&["rbtcctl"], &line) {
            Ok(f) if f.call.is_empty() => Ok(()),
            Ok(_) => Err(format!("{} takes no value", line[0])),
            Err(exit) => Err(exit.output.trim().to_string()),
        }
    };
    to_args_for(&text, SWITCHES, check).map_err(|e| format!("{}: {e}", path.display()))
}

/// btcctl's first run: `path` written with the daemon's `rpcuser`, `rpcpass` and `notls`
/// from its config file `daemon_conf`, when that sets both credentials (else nothing is
/// written).
fn write_default_config(path: &Path, daemon_conf: &Path) -> Result<(), String> {
    let daemon = match read_config_file(daemon_conf) {
        Ok(Some(options)) => options,
        Ok(None) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let (Some(user), Some(pass)) = (daemon.rpcuser, daemon.rpcpass) else {
        return Ok(());
    };
    let mut text = format!("rpcuser={user}\nrpcpass={pass}\n");
    if daemon.notls {
        text += "notls=1\n";
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let written = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
        })
        .and_then(|mut f| f.write_all(text.as_bytes()));
    written.map_err(|e| format!("{}: {e}", path.display()))
}

/// btcctl's `--listcommands`: every command's usage, those of the HTTP server and then the
/// WebSocket-only ones, under btcctl's headings.
fn list_commands() -> String {
    let group = |title: &str, reach: Reach| {
        let usages = METHODS.iter().filter(|m| m.reach == reach).map(|m| m.usage);
        std::iter::once(title.to_string())
            .chain(usages.map(str::to_string))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "{}\n\n{}",
        group("Chain Server Commands:", Reach::Both),
        group("Websocket Commands:", Reach::WebSocketOnly)
    )
}

/// The parameters `args` stand for, typed as btcctl does: JSON when it parses, else the text
/// as a string; each `-` is the next line of `stdin`, without its line end.
fn params(args: &[String], stdin: &mut impl BufRead) -> Result<Vec<Value>, String> {
    args.iter()
        .map(|arg| {
            let text = if arg == "-" {
                let mut line = String::new();
                match stdin.read_line(&mut line) {
                    Ok(0) => return Err("not enough lines provided on stdin".to_string()),
                    Ok(_) => line.trim_end_matches(['\r', '\n']).to_string(),
                    Err(e) => return Err(format!("failed to read data from stdin: {e}")),
                }
            } else {
                arg.clone()
            };
            Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
        })
        .collect()
}

/// `text` on one line: its lines joined by spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes `text` and a line end to standard output. A closed pipe (`rbtcctl ... | head -1`)
/// is not an error: the reader has what it wanted.
fn print(text: &str) -> i32 {
    let mut out = io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("cannot write the result: {e}");
            1
        }
    }
}

/// How to reach the server: plain with `--notls`, else TLS trusting the certificate file, or
/// any with `--skipverify`; through `--proxy` if given.
fn connector(inv: &Invocation) -> Result<Connector, String> {
    let direct = direct_connector(inv)?;
    match &inv.proxy {
        None => Ok(direct),
        Some((addr, user, pass)) => match proxy("proxy", &Some(addr.clone()), user, pass) {
            Ok(Some(p)) => Ok(direct.through(p)),
            Ok(None) => Ok(direct),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// [`connector`] without the proxy.
fn direct_connector(inv: &Invocation) -> Result<Connector, String> {
    if inv.no_tls {
        return Ok(Connector::plain());
    }
    let cert = inv
        .cert
        .clone()
        .unwrap_or_else(|| default_rpc_cert(&default_home()));
    let trust = if inv.skip_verify {
        Trust::Anyone
    } else {
        Trust::Cert(&cert)
    };
    tls::client_config(trust)
        .map(Connector::tls)
        .map_err(|e| e.to_string())
}

/// How btcctl prints a result: strings raw, null as nothing, everything else pretty JSON.
pub fn render(result: &Value) -> Option<String> {
    match result {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => serde_json::to_string_pretty(other).ok(),
    }
}

/// Where the daemon writes its cookie on `network` with the default data directory.
fn default_cookie(network: Network) -> PathBuf {
    default_data_dir(&default_home())
        .join(network.name())
        .join(COOKIE_FILENAME)
}

/// Runs rbtcctl with `args` and returns the exit status.
pub fn run(args: &[String]) -> i32 {
    let file = match config_file_args(args) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let inv = match parse_args(args, &file) {
        Ok(inv) => inv,
        Err(Exit::Print(text)) => return print(text.trim_end()),
        Err(Exit::Usage(e)) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let params = match params(&inv.args, &mut io::stdin().lock()) {
        Ok(params) => params,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let connector = match connector(&inv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let (user, pass) = match (inv.user, inv.pass) {
        // Nothing configured: the daemon authenticates with its cookie (Core's way).
        (None, None) => cookie::read(&default_cookie(inv.network)).unwrap_or_default(),
        (user, pass) => (user.unwrap_or_default(), pass.unwrap_or_default()),
    };
    let server = inv
        .server
        .unwrap_or_else(|| format!("127.0.0.1:{}", Params::new(inv.network).rpc_port));
    match connector.call(&server, (&user, &pass), &inv.method, &params, inv.timeout) {
        Ok(result) => render(&result).map_or(0, |text| print(&text)),
        Err(e) => {
            eprintln!("{}", one_line(&e.to_string()));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_then_method_and_typed_params() {
        let inv = parse_args(
            &args(&[
                "--regtest",
                "-u",
                "me",
                "--rpcpass=pw",
                "getblock",
                "00ab",
                "2",
                "true",
                "[1]",
                "--rpcuser=x",
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(inv.network, Network::Regtest);
        assert_eq!(
            (inv.user.as_deref(), inv.pass.as_deref()),
            (Some("me"), Some("pw"))
        );
        assert_eq!(inv.method, "getblock");
        assert_eq!(
            params(&inv.args, &mut io::empty()).unwrap(),
            vec![
                json!("00ab"),
                json!(2),
                json!(true),
                json!([1]),
                json!("--rpcuser=x")
            ],
            "everything after the method is a parameter, as written"
        );
        let no_method = parse_args(&args(&["--regtest"]), &[]);
        assert!(matches!(no_method, Err(Exit::Usage(_))), "{no_method:?}");
        assert!(matches!(
            parse_args(&args(&["--bogus", "x"]), &[]),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--regtest=1", "getinfo"]), &[]),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--regtest", "--simnet", "getinfo"]), &[]),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--help"]), &[]),
            Err(Exit::Print(_))
        ));
        assert!(matches!(
            parse_args(&args(&["-h"]), &[]),
            Err(Exit::Print(_))
        ));
        assert_eq!(
            parse_args(&args(&["--timeout=90s", "getinfo"]), &[])
                .unwrap()
                .timeout,
            Duration::from_secs(90)
        );
        assert_eq!(
            parse_args(&args(&["getinfo"]), &[]).unwrap().timeout,
            CALL_TIMEOUT
        );
        for bad in ["--timeout=soon", "--timeout=0s"] {
            assert!(
                matches!(
                    parse_args(&args(&[bad, "getinfo"]), &[]),
                    Err(Exit::Usage(_))
                ),
                "{bad}"
            );
        }
        let help = parse_args(&args(&["help", "getblock"]), &[]).unwrap();
        assert_eq!(
            (help.method.as_str(), &help.args[..]),
            ("help", &args(&["getblock"])[..])
        );
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rbtcctl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_config_file_sets_flags_the_command_line_leaves_unset() {
        let dir = temp_dir("conf");
        let conf = dir.join(CTL_CONFIG_FILENAME);
        let text = "[Application Options]\n; rpcuser=old\nrpcuser = alice\nrpcpass=s3cr=t\n\
                    notls=1\nskipverify=0\nregtest=1\nrpcserver=127.0.0.1:1\ntimeout=90s\n";
        std::fs::write(&conf, text).unwrap();
        let named = args(&["-C", conf.to_str().unwrap(), "getinfo"]);
        let file = config_file_args(&named).unwrap();
        let inv = parse_args(&named, &file).unwrap();
        assert_eq!(
            (inv.user.as_deref(), inv.pass.as_deref()),
            (Some("alice"), Some("s3cr=t"))
        );
        assert!(inv.no_tls && !inv.skip_verify);
        assert_eq!(inv.network, Network::Regtest);
        assert_eq!(inv.server.as_deref(), Some("127.0.0.1:1"));
        assert_eq!(inv.timeout, Duration::from_secs(90));
        // The command line wins.
        let over = args(&["-u", "bob", "-s", "127.0.0.1:2", "getinfo"]);
        let inv = parse_args(&over, &file).unwrap();
        assert_eq!(
            (inv.user.as_deref(), inv.pass.as_deref()),
            (Some("bob"), Some("s3cr=t"))
        );
        assert_eq!(inv.server.as_deref(), Some("127.0.0.1:2"));
        // A second network on the command line is two networks, as in btcctl.
        let two = parse_args(&args(&["--simnet", "getinfo"]), &file);
        assert!(matches!(two, Err(Exit::Usage(_))), "{two:?}");

        for (bad, why) in [
            ("rpcuser\n", "line 1"),
            ("\nnosuchflag=1\n", "line 2"),
            ("regtest=maybe\n", "line 1"),
        ] {
            std::fs::write(&conf, bad).unwrap();
            let e = config_file_args(&named).unwrap_err();
            assert!(
                e.contains(why) && e.contains(CTL_CONFIG_FILENAME),
                "{bad:?}: {e}"
            );
        }
        let missing = args(&["-C", dir.join("missing").to_str().unwrap(), "getinfo"]);
        assert_eq!(config_file_args(&missing), Ok(Vec::new()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_first_config_file_takes_the_daemons_credentials() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("first");
        let daemon = dir.join(CONFIG_FILENAME);
        let ctl = dir.join("ctl").join(CTL_CONFIG_FILENAME);
        // No daemon file, or one without both credentials: nothing is written.
        write_default_config(&ctl, &daemon).unwrap();
        std::fs::write(&daemon, "rpcuser=alice\n").unwrap();
        write_default_config(&ctl, &daemon).unwrap();
        assert!(!ctl.exists());
        std::fs::write(&daemon, "rpcuser=alice\nrpcpass=pw\nnotls=1\nmaxpeers=3\n").unwrap();
        write_default_config(&ctl, &daemon).unwrap();
        let text = std::fs::read_to_string(&ctl).unwrap();
        assert_eq!(text, "rpcuser=alice\nrpcpass=pw\nnotls=1\n");
        let mode = std::fs::metadata(&ctl).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_switch_named_for_the_config_file_is_a_flag_without_a_value() {
        for name in SWITCHES {
            let flag = format!("--{name}");
            assert!(
                Flags::from_args(&["rbtcctl"], &[flag.as_str()]).is_ok(),
                "{name}"
            );
        }
        assert!(Flags::from_args(&["rbtcctl"], &["--rpcuser"]).is_err());
    }

    #[test]
    fn results_print_like_btcctl() {
        assert_eq!(render(&json!("abc")).unwrap(), "abc");
        assert_eq!(render(&Value::Null), None);
        assert_eq!(render(&json!({"a": 1})).unwrap(), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn version_list_and_wallet_need_no_method() {
        let version = parse_args(&args(&["-V"]), &[]);
        assert!(
            matches!(&version, Err(Exit::Print(v)) if v.starts_with("rbtcctl version ")),
            "{version:?}"
        );
        let Err(Exit::Print(list)) = parse_args(&args(&["--listcommands"]), &[]) else {
            panic!("no list");
        };
        let chain = list.find("Chain Server Commands:").unwrap();
        let ws = list.find("Websocket Commands:").unwrap();
        let getblock = list.find("\ngetblock \"hash\"").unwrap();
        let notify = list.find("\nnotifyblocks").unwrap();
        assert!(chain < getblock && getblock < ws && ws < notify, "{list}");
        assert_eq!(
            list.lines().filter(|l| !l.is_empty()).count(),
            METHODS.len() + 2
        );
        let wallet = parse_args(&args(&["--wallet", "getbalance"]), &[]);
        assert!(
            matches!(&wallet, Err(Exit::Usage(e)) if e.contains("no wallet") && !e.contains('\n')),
            "{wallet:?}"
        );
    }

    #[test]
    fn a_dash_reads_the_parameter_from_a_line_of_stdin() {
        let mut stdin = &b"{\"a\": 1}\r\nsome text\n"[..];
        let got = params(&args(&["-", "2", "-"]), &mut stdin).unwrap();
        assert_eq!(got, vec![json!({"a": 1}), json!(2), json!("some text")]);
        let mut short = &b"only\n"[..];
        let e = params(&args(&["-", "-"]), &mut short).unwrap_err();
        assert!(e.contains("not enough lines"), "{e}");
    }

    #[test]
    fn errors_print_on_one_line() {
        assert_eq!(
            one_line("-1: first\nsecond  third\n"),
            "-1: first second third"
        );
    }
}
