//! `rbtcctl`: btcctl's command-line RPC client. Flags pick the server and credentials (read
//! from the daemon's `rbtcd.conf` when not given); the rest is the method and its parameters,
//! each sent as JSON when it parses as JSON and as a string otherwise.

use crate::config::{default_home, CONFIG_FILENAME};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rpc::auth::basic_auth;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

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
    /// The RPC method.
    pub method: String,
    /// Its parameters.
    pub params: Vec<Value>,
}

const USAGE: &str = "usage: rbtcctl [--rpcuser=U] [--rpcpass=P] [--rpcserver=HOST:PORT] \
[--configfile=PATH] [--testnet|--testnet4|--regtest|--simnet|--signet] <method> [params...]";

/// Parses `args` (without the program name).
pub fn parse_args(args: &[String]) -> Result<Invocation, String> {
    let mut inv = Invocation {
        user: None,
        pass: None,
        server: None,
        network: Network::Mainnet,
        config_file: None,
        method: String::new(),
        params: Vec::new(),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if !arg.starts_with('-') || arg == "-" {
            inv.method = arg.clone();
            inv.params = rest.map(|a| param(a)).collect();
            return Ok(inv);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag {
            "-u" | "--rpcuser" => inv.user = Some(value()?),
            "-P" | "--rpcpass" => inv.pass = Some(value()?),
            "-s" | "--rpcserver" => inv.server = Some(value()?),
            "-C" | "--configfile" => inv.config_file = Some(PathBuf::from(value()?)),
            "--testnet" => inv.network = Network::Testnet3,
            "--testnet4" => inv.network = Network::Testnet4,
            "--regtest" => inv.network = Network::Regtest,
            "--simnet" => inv.network = Network::Simnet,
            "--signet" => inv.network = Network::Signet,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Err(USAGE.to_string())
}

/// btcctl's parameter typing: JSON when it parses, else the text as a string.
fn param(arg: &str) -> Value {
    serde_json::from_str(arg).unwrap_or_else(|_| Value::String(arg.to_string()))
}

/// `rpcuser` and `rpcpass` from a config file's text; the last setting wins.
fn file_credentials(text: &str) -> (Option<String>, Option<String>) {
    let (mut user, mut pass) = (None, None);
    for line in text.lines() {
        if let Some((k, v)) = line.trim().split_once('=') {
            match k.trim() {
                "rpcuser" => user = Some(v.trim().to_string()),
                "rpcpass" => pass = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    (user, pass)
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The server could not be reached or the reply was not HTTP.
    Transport(String),
    /// The server answered with an HTTP error status (such as 401).
    Http(u16, String),
    /// The server answered with a JSON-RPC error.
    Rpc(i64, String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transport(e) => write!(f, "{e}"),
            CallError::Http(status, body) => write!(f, "status {status}: {}", body.trim()),
            CallError::Rpc(code, message) => write!(f, "{code}: {message}"),
        }
    }
}

/// Sends one JSON-RPC 1.0 request and returns its result.
pub fn call(
    server: &str,
    user: &str,
    pass: &str,
    method: &str,
    params: &[Value],
) -> Result<Value, CallError> {
    let transport = |e: std::io::Error| CallError::Transport(format!("{server}: {e}"));
    let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params}).to_string();
    let mut stream = TcpStream::connect(server).map_err(transport)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(300)))
        .map_err(transport)?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {server}\r\nAuthorization: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        basic_auth(user, pass),
        body.len()
    )
    .map_err(transport)?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).map_err(transport)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| CallError::Transport(format!("not an HTTP reply: {status_line:?}")))?;
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(transport)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<usize>().ok();
            }
        }
    }
    let mut reply = Vec::new();
    match length {
        Some(n) => {
            reply.resize(n, 0);
            reader.read_exact(&mut reply).map_err(transport)?;
        }
        None => {
            reader.read_to_end(&mut reply).map_err(transport)?;
        }
    }
    let text = String::from_utf8_lossy(&reply).into_owned();
    if status != 200 {
        return Err(CallError::Http(status, text));
    }
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CallError::Transport(format!("bad JSON reply: {e}")))?;
    match v.get("error") {
        Some(e) if !e.is_null() => Err(CallError::Rpc(
            e["code"].as_i64().unwrap_or(0),
            e["message"].as_str().unwrap_or_default().to_string(),
        )),
        _ => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
    }
}

/// How btcctl prints a result: strings raw, null as nothing, everything else pretty JSON.
pub fn render(result: &Value) -> Option<String> {
    match result {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => serde_json::to_string_pretty(other).ok(),
    }
}

/// Runs rbtcctl with `args` and returns the exit status.
pub fn run(args: &[String]) -> i32 {
    let inv = match parse_args(args) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let conf = inv
        .config_file
        .clone()
        .unwrap_or_else(|| default_home().join(CONFIG_FILENAME));
    let (file_user, file_pass) = std::fs::read_to_string(&conf)
        .map(|t| file_credentials(&t))
        .unwrap_or_default();
    let user = inv.user.or(file_user).unwrap_or_default();
    let pass = inv.pass.or(file_pass).unwrap_or_default();
    let server = inv
        .server
        .unwrap_or_else(|| format!("127.0.0.1:{}", Params::new(inv.network).rpc_port));
    match call(&server, &user, &pass, &inv.method, &inv.params) {
        Ok(result) => {
            if let Some(text) = render(&result) {
                println!("{text}");
            }
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ]))
        .unwrap();
        assert_eq!(inv.network, Network::Regtest);
        assert_eq!(
            (inv.user.as_deref(), inv.pass.as_deref()),
            (Some("me"), Some("pw"))
        );
        assert_eq!(inv.method, "getblock");
        assert_eq!(
            inv.params,
            vec![json!("00ab"), json!(2), json!(true), json!([1])]
        );
        assert!(parse_args(&args(&["--regtest"])).is_err());
        assert!(parse_args(&args(&["--bogus", "x"])).is_err());
    }

    #[test]
    fn credentials_come_from_the_config_file() {
        let text = "[Application Options]\n; rpcuser=old\nrpcuser = alice\nrpcpass=s3cr=t\n";
        assert_eq!(
            file_credentials(text),
            (Some("alice".into()), Some("s3cr=t".into()))
        );
    }

    #[test]
    fn results_print_like_btcctl() {
        assert_eq!(render(&json!("abc")).unwrap(), "abc");
        assert_eq!(render(&Value::Null), None);
        assert_eq!(render(&json!({"a": 1})).unwrap(), "{\n  \"a\": 1\n}");
    }
}
