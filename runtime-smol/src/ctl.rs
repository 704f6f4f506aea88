//! `rbtcctl`: btcctl's command-line RPC client. Flags pick the server and credentials (read
//! from the daemon's `rbtcd.conf` when not given, else its cookie) and how to reach it (TLS
//! trusting the daemon's `rpc.cert` unless `--notls`); the rest is the method and its
//! parameters, each sent as JSON when it parses as JSON and as a string otherwise (`-` reads
//! the parameter from a line of standard input). The result goes to standard output, an error
//! to standard error on one line with status 1; a closed standard output ends it quietly.
//!
//! Every flag is declared in [`Flags`] and read in [`parse_args`]; the config file is read by
//! the daemon's reader and the call made by the shared client ([`crate::rpc::client`]).

use crate::config::{
    chosen_network, default_data_dir, default_home, default_rpc_cert, duration, expand, proxy,
    read_config_file, split_values_indexed, Options, CONFIG_FILENAME,
};
use crate::rpc::client::Connector;
use crate::rpc::cookie::{self, COOKIE_FILENAME};
use crate::rpc::tls::{self, Trust};
use argh::FromArgs;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rpc::methods::{Reach, METHODS};
use serde_json::Value;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a call may take to answer unless `--timeout` says (`generate` of many blocks is
/// slow).
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

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
    /// RPC user name (default: rpcuser in the config file, else the daemon's cookie)
    #[argh(option, short = 'u')]
    rpcuser: Option<String>,
    /// RPC password (default: rpcpass in the config file, else the daemon's cookie)
    #[argh(option, short = 'P')]
    rpcpass: Option<String>,
    /// RPC server to connect to, host:port (default: 127.0.0.1 on the network's RPC port)
    #[argh(option, short = 's')]
    rpcserver: Option<String>,
    /// config file to read the credentials from (default: ~/.rbtcd/rbtcd.conf)
    #[argh(option, short = 'C')]
    configfile: Option<String>,
    /// RPC server certificate chain for validation (default: rpccert in the config file,
    /// else ~/.rbtcd/rpc.cert)
    #[argh(option, short = 'c')]
    rpccert: Option<String>,
    /// disable TLS (also when the config file sets notls)
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

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub struct Invocation {
    /// `--rpcuser`, or from the config file.
    pub user: Option<String>,
    /// `--rpcpass`, or from the config file.
    pub pass: Option<String>,
    /// `host:port` of the server.
    pub server: Option<String>,
    /// The network, which picks the default port.
    pub network: Network,
    /// The config file to read credentials from.
    pub config_file: Option<PathBuf>,
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

/// Parses `args` (without the program name). btcd's `--name=value` spelling is accepted for
/// the flags; everything from the method on is taken as written.
pub fn parse_args(args: &[String]) -> Result<Invocation, Exit> {
    let split = split_values_indexed(args);
    let strs: Vec<&str> = split.iter().map(|(_, a)| a.as_str()).collect();
    let flags = Flags::from_args(&["rbtcctl"], &strs).map_err(|exit| match exit.status {
        Ok(()) => Exit::Print(exit.output),
        Err(()) => Exit::Usage(format!(
            "{}\nrun rbtcctl --help for usage",
            exit.output.trim()
        )),
    })?;
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
        config_file: flags.configfile.map(|p| expand(&p, &default_home())),
        cert: flags.rpccert.map(|p| expand(&p, &default_home())),
        no_tls: flags.notls,
        skip_verify: flags.skipverify,
        proxy: flags.proxy.map(|p| (p, flags.proxyuser, flags.proxypass)),
        timeout,
        method,
        args: call.cloned().collect(),
    })
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

/// The daemon's config file at `path` (empty when it does not exist): its `rpcuser`,
/// `rpcpass`, `notls` and `rpccert` are rbtcctl's defaults.
fn file_options(path: &Path) -> Result<Options, String> {
    match read_config_file(path) {
        Ok(o) => Ok(o.unwrap_or_default()),
        Err(e) => Err(e.to_string()),
    }
}

/// How to reach the server: plain with `--notls` (or `notls` in the daemon's config file),
/// else TLS trusting the certificate file, or any with `--skipverify`; through `--proxy` if
/// given.
fn connector(inv: &Invocation, file: &Options) -> Result<Connector, String> {
    let direct = direct_connector(inv, file)?;
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
fn direct_connector(inv: &Invocation, file: &Options) -> Result<Connector, String> {
    if inv.no_tls || file.notls {
        return Ok(Connector::plain());
    }
    let home = default_home();
    let cert = inv.cert.clone().unwrap_or_else(|| {
        file.rpccert
            .as_ref()
            .map_or_else(|| default_rpc_cert(&home), |p| expand(p, &home))
    });
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
    let inv = match parse_args(args) {
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
    let conf = inv
        .config_file
        .clone()
        .unwrap_or_else(|| default_home().join(CONFIG_FILENAME));
    let file = match file_options(&conf) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let connector = match connector(&inv, &file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let (user, pass) = match (inv.user.or(file.rpcuser), inv.pass.or(file.rpcpass)) {
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
        let inv = parse_args(&args(&[
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
        ]))
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
        let no_method = parse_args(&args(&["--regtest"]));
        assert!(matches!(no_method, Err(Exit::Usage(_))), "{no_method:?}");
        assert!(matches!(
            parse_args(&args(&["--bogus", "x"])),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--regtest=1", "getinfo"])),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--regtest", "--simnet", "getinfo"])),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--help"])),
            Err(Exit::Print(_))
        ));
        assert!(matches!(parse_args(&args(&["-h"])), Err(Exit::Print(_))));
        assert_eq!(
            parse_args(&args(&["--timeout=90s", "getinfo"]))
                .unwrap()
                .timeout,
            Duration::from_secs(90)
        );
        assert_eq!(
            parse_args(&args(&["getinfo"])).unwrap().timeout,
            CALL_TIMEOUT
        );
        for bad in ["--timeout=soon", "--timeout=0s"] {
            assert!(
                matches!(parse_args(&args(&[bad, "getinfo"])), Err(Exit::Usage(_))),
                "{bad}"
            );
        }
        let help = parse_args(&args(&["help", "getblock"])).unwrap();
        assert_eq!(
            (help.method.as_str(), &help.args[..]),
            ("help", &args(&["getblock"])[..])
        );
    }

    #[test]
    fn credentials_come_from_the_config_file() {
        let dir = std::env::temp_dir().join(format!("rbtcctl-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(CONFIG_FILENAME);
        let text = "[Application Options]\n; rpcuser=old\nrpcuser = alice\nrpcpass=s3cr=t\n";
        std::fs::write(&path, text).unwrap();
        let found = file_options(&path).unwrap();
        std::fs::write(&path, "rpcuser\n").unwrap();
        let broken = file_options(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            (found.rpcuser, found.rpcpass),
            (Some("alice".into()), Some("s3cr=t".into()))
        );
        assert!(broken.is_err_and(|e| e.contains("line 1")));
        assert_eq!(file_options(&dir.join("missing")), Ok(Options::default()));
    }

    #[test]
    fn results_print_like_btcctl() {
        assert_eq!(render(&json!("abc")).unwrap(), "abc");
        assert_eq!(render(&Value::Null), None);
        assert_eq!(render(&json!({"a": 1})).unwrap(), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn version_list_and_wallet_need_no_method() {
        let version = parse_args(&args(&["-V"]));
        assert!(
            matches!(&version, Err(Exit::Print(v)) if v.starts_with("rbtcctl version ")),
            "{version:?}"
        );
        let Err(Exit::Print(list)) = parse_args(&args(&["--listcommands"])) else {
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
        let wallet = parse_args(&args(&["--wallet", "getbalance"]));
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
