//! The daemon binary end to end: bad configuration is one line and status 1; a signal shuts it
//! down cleanly and the database opens again.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbtcd-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rbtcd(home: &PathBuf, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rbtcd"));
    c.args(args).env("HOME", home);
    c
}

fn run(home: &PathBuf, args: &[&str]) -> Output {
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
        &["--regtest", "--rpclisten=127.0.0.1:12999"],
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

fn wait_for_line(log: &std::path::Path, needle: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if std::fs::read_to_string(log).is_ok_and(|t| t.contains(needle)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{needle:?} never appeared in {}", log.display());
}

#[test]
fn sigterm_shuts_down_cleanly_and_restarts() {
    let h = home("signal");
    let log = h.join(".rbtcd/logs/regtest/rbtcd.log");
    for round in 0..2 {
        let _ = std::fs::remove_file(&log);
        let child = rbtcd(&h, &["--regtest", "--listen=127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_line(&log, "Chain state (height 0");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "round {round}");
        let text = std::fs::read_to_string(&log).unwrap();
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
