//! The daemon binary end to end: bad configuration is one line and status 1; a signal shuts it
//! down cleanly and the database opens again.

mod common;

use common::{free_port, home, log_path, log_text, rbtcd, start, terminate, wait_for_log};
use std::path::Path;
use std::process::Output;

fn run(home: &Path, args: &[&str]) -> Output {
    rbtcd(home, args).output().unwrap()
}

#[test]
fn bad_configuration_is_one_line_and_status_1() {
    let h = home("bad");
    let conf = h.join("bad.conf");
    std::fs::write(&conf, "[Application Options]\nmaxpeers=lots\n").unwrap();
    let conf = conf.to_str().unwrap().to_string();
    let cases: &[&[&str]] = &[
        &["--nosuchoption"],
        &["--regtest", "--testnet"],
        &["--regtest", "--maxpeers=0"],
        &["--regtest", "--debuglevel=loud"],
        &["--regtest", "--addpeer=a", "--connect=b"],
        &["--regtest", "-C", &conf],
        &[
            "--regtest",
            "--banduration=5000000000000000h5000000000000000h",
        ],
        &["--regtest", "--maxpeers=99999999999999999999"],
        &["--regtest", "--minrelaytxfee=1e308"],
        &[
            "--regtest",
            "--datadir=/proc/rbtcd-unwritable",
            "--listen=127.0.0.1:0",
        ],
    ];
    for args in cases {
        let out = run(&h, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line, got {stderr:?}"
        );
        assert!(stderr.starts_with("rbtcd: "), "{stderr}");
    }
}

#[test]
fn version_and_subsystems() {
    let h = home("version");
    let out = run(&h, &["-V"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rbtcd version "));
    let out = run(&h, &["--regtest", "--debuglevel=show"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("PEER"));
}

#[test]
fn sigterm_shuts_down_cleanly_and_restarts() {
    let h = home("signal");
    for round in 0..2 {
        let _ = std::fs::remove_file(log_path(&h));
        let child = start(&h, &["--regtest", "--listen=127.0.0.1:0"]);
        wait_for_log(&h, "the chain state", |t| {
            t.contains("Chain state (height 0")
        });
        terminate(child);
        let text = log_text(&h);
        for line in [
            "[INF] BTCD: Version ",
            "Loading block database from ",
            "Received signal (terminated).  Shutting down...",
            "Gracefully shutting down the database...",
            "Shutdown complete",
        ] {
            assert!(
                text.contains(line),
                "round {round}: missing {line:?} in\n{text}"
            );
        }
    }
}

#[test]
fn busy_port_is_one_line_and_status_1() {
    let h = home("busy");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = run(&h, &["--regtest", &format!("--listen=127.0.0.1:{port}")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.contains(&format!("can't listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    // The database was still closed cleanly: it opens again.
    let again = run(&h, &["--regtest", &format!("--listen=127.0.0.1:{port}")]);
    assert_eq!(again.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&again.stderr).contains("database"));
}

#[test]
fn a_second_daemon_on_the_same_datadir_is_refused_naming_the_first() {
    let h = home("lock");
    let first = start(&h, &["--regtest", "--listen=127.0.0.1:0"]);
    wait_for_log(&h, "the chain state", |t| {
        t.contains("Chain state (height 0")
    });
    // Another listen port, so only the data directory is shared.
    let out = run(&h, &["--regtest", "--listen=127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    let datadir = h.join(".rbtcd/data/regtest");
    assert!(
        stderr.contains(&format!(
            "cannot obtain a lock on data directory {}",
            datadir.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("(pid {})", first.id())),
        "{stderr}"
    );
    // The first daemon was untouched: it shuts down cleanly, and the directory is free again.
    terminate(first);
    let second = start(&h, &["--regtest", "--listen=127.0.0.1:0"]);
    wait_for_log(&h, "the restarted chain state", |t| {
        t.matches("Chain state (height 0").count() == 2
    });
    terminate(second);
}

#[test]
fn without_credentials_a_cookie_authenticates_until_shutdown() {
    let h = home("cookie");
    let rpc = format!("127.0.0.1:{}", free_port());
    let listen = format!("--rpclisten={rpc}");
    let child = start(&h, &["--regtest", "--listen=127.0.0.1:0", &listen]);
    let cookie = h.join(".rbtcd/data/regtest/.cookie");
    wait_for_log(&h, "the RPC server", |t| {
        t.contains("RPC server listening on")
    });
    let text = std::fs::read_to_string(&cookie).unwrap();
    let pass = text.strip_prefix("__cookie__:").unwrap();
    assert_eq!(pass.len(), 64, "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cookie).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ctl = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rbtcctl"))
            .env("HOME", &h)
            .args(["--regtest", "--notls", "-s", &rpc])
            .args(args)
            .output()
            .unwrap()
    };
    // rbtcctl without credentials finds the cookie; it grants admin rights.
    let out = ctl(&["getblockcount"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    let out = ctl(&["getpeerinfo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ctl(&["-u", "__cookie__", "-P", "wrong", "getblockcount"]);
    assert_eq!(out.status.code(), Some(1), "only the cookie's password");
    terminate(child);
    assert!(!cookie.exists(), "deleted at shutdown");
    let out = ctl(&["getblockcount"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rbtcctl_has_btcctls_flags_and_habits() {
    use common::rpc::{Daemon, ADMIN};
    use std::io::Write;
    use std::process::{Command, Stdio};
    let d = Daemon::start_tls("ctlflags", &[]);
    let ctl = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rbtcctl"));
        c.env("HOME", &d.home)
            .args(["--regtest", "-u", ADMIN.0, "-P", ADMIN.1])
            .args(args);
        c
    };
    let run = |args: &[&str]| {
        let out = ctl(args).stdin(Stdio::null()).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stdout, stderr)
    };
    let server = ["-s", d.rpc.as_str()];
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    for flag in [
        "--listcommands",
        "--notls",
        "--rpccert",
        "--skipverify",
        "--proxy",
    ] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
    let (code, version, _) = run(&["-V"]);
    assert_eq!(code, Some(0));
    assert!(version.starts_with("rbtcctl version "), "{version}");
    let (code, list, _) = run(&["-l"]);
    assert_eq!(code, Some(0));
    assert!(list.starts_with("Chain Server Commands:\n"), "{list}");
    assert!(list.contains("\ngetblockcount\n"), "{list}");
    assert!(list.contains("\nWebsocket Commands:\n"), "{list}");
    // `help` is the server's method, as in btcctl; `-h` is rbtcctl's own usage.
    let (code, usage, _) = run(&[&server[..], &["help", "getblockhash"]].concat());
    assert_eq!(code, Some(0));
    assert!(usage.starts_with("getblockhash index\n\n"), "{usage}");
    assert!(usage.contains("\nArguments:\n1. index "), "{usage}");
    let (code, own, _) = run(&["-h"]);
    assert_eq!(code, Some(0));
    assert!(own.contains("--listcommands"), "{own}");
    let (code, _, wallet) = run(&["--wallet", "getbalance"]);
    assert_eq!(code, Some(1));
    assert_eq!(wallet.lines().count(), 1, "{wallet:?}");
    assert!(wallet.contains("no wallet"), "{wallet}");
    // `-` takes the parameter from a line of standard input.
    let mut child = ctl(&[&server[..], &["getblockhash", "-"]].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"0\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    );
    // Standard output whose reader is gone (`rbtcctl help | head -1` once head has exited):
    // the write fails with a broken pipe, which ends rbtcctl quietly.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = ctl(&[&server[..], &["help"]].concat())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    // An RPC error is one line and status 1.
    let (code, _, error) = run(&[&server[..], &["getblockhash", "99"]].concat());
    assert_eq!(code, Some(1));
    assert_eq!(error.lines().count(), 1, "{error:?}");
    assert!(error.starts_with("-"), "{error}");
    // Through a SOCKS5 proxy, which is asked for the server by name and relays TLS.
    let (proxy, asked) = common::socks::Socks {
        login: Some(("pu", "pp")),
        resolves_to: [127, 0, 0, 1].into(),
    }
    .start("127.0.0.1:0");
    let port = d.rpc.rsplit_once(':').unwrap().1;
    let by_name = format!("localhost:{port}");
    let via = [
        "-s",
        &by_name,
        "--proxy",
        &proxy,
        "--proxyuser=pu",
        "--proxypass=pp",
        "getblockcount",
    ];
    let (code, count, stderr) = run(&via);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(count.trim(), "0");
    assert_eq!(*asked.lock().unwrap(), vec![format!("CONNECT {by_name}")]);
}
