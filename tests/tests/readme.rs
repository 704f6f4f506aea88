//! The README's first command, run exactly as it is written there: it builds, the daemon
//! starts, completes a P2P handshake and announces the blocks it mines, and Ctrl-C (SIGINT to
//! its process group, as a terminal sends it) stops it with status 0.
//!
//! The daemon's home is a temporary `HOME`; cargo and rustup keep theirs. The command listens
//! on rbtcd's default P2P port as the README says, so this test needs port 12008 free.

// The daemon's own end-to-end tests' scripted peer (it reads `PATIENCE` from this crate root).
#[allow(dead_code)]
#[path = "../../runtime-smol/tests/common/peer.rs"]
mod peer;

use peer::TestPeer;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::wire::{InvType, Message};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long anything may take once built (CI runs on two slow shared cores).
const PATIENCE: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The first command of the README's first `sh` block.
fn first_command() -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .expect("a sh block in the README");
    block.lines().next().unwrap().to_string()
}

/// The words of `line` as a shell splits a line without quotes, variables or operators.
fn words(line: &str) -> Vec<String> {
    let special = [
        '\'', '"', '$', '`', '\\', '|', '&', ';', '<', '>', '(', ')', '*', '?',
    ];
    assert!(
        !line.contains(special),
        "the README's command needs a shell to read it: {line}"
    );
    line.split_whitespace().map(str::to_string).collect()
}

/// Where cargo and rustup keep their files, so a temporary `HOME` leaves them in place.
fn tool_homes() -> Vec<(&'static str, PathBuf)> {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    ["CARGO_HOME", "RUSTUP_HOME"]
        .into_iter()
        .zip([".cargo", ".rustup"])
        .map(|(var, dir)| {
            let path = std::env::var_os(var).map_or_else(|| home.join(dir), PathBuf::from);
            (var, path)
        })
        .collect()
}

#[test]
fn the_readmes_first_command_builds_starts_answers_and_stops() {
    let words = words(&first_command());
    assert_eq!(words[..2], ["cargo", "run"], "{words:?}");
    // Build first, untimed: the command then only starts what is built.
    let build = Command::new(&words[0])
        .current_dir(workspace())
        .args(["build", "--release", "-p", "rbtcd", "--bin", "rbtcd"])
        .status()
        .unwrap();
    assert!(build.success());

    let home = std::env::temp_dir().join(format!("rbtcd-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(&words[0])
        .args(&words[1..])
        .current_dir(workspace())
        .env("HOME", &home)
        .envs(tool_homes())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // The log goes to stdout; cargo's own lines to stderr. Both are kept for failures.
    let (lines_tx, lines) = mpsc::channel::<String>();
    for out in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    drop(lines_tx);
    let mut log = Vec::new();
    let mut wait_for_line = |what: &str| {
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            match lines.recv_timeout(Duration::from_secs(1)) {
                Ok(line) => {
                    let found = line.contains(what);
                    log.push(line);
                    if found {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!(
            "no log line with {what:?}; the output was:\n{}",
            log.join("\n")
        );
    };

    wait_for_line("Block submitted via CPU miner accepted");
    let params = Params::new(Network::Regtest);
    let addr = SocketAddr::from(([127, 0, 0, 1], params.default_port));
    let mut peer = TestPeer::connect(addr, params.magic);
    let theirs = peer.handshake();
    assert!(theirs.user_agent.contains("rbtcd"), "{theirs:?}");
    peer.wait_for("a block announcement", |m| match m {
        Message::Inv(items) => items
            .iter()
            .any(|i| i.inv_type.base() == InvType::BLOCK)
            .then_some(()),
        Message::Headers(headers) => (!headers.is_empty()).then_some(()),
        _ => None,
    });

    // Ctrl-C: SIGINT to the foreground process group.
    let pgid = format!("-{}", child.id());
    let kill = Command::new("kill").args(["-INT", "--", &pgid]).status();
    assert!(kill.unwrap().success());
    wait_for_line("Shutdown complete");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < PATIENCE, "still running after SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    assert!(
        home.join(".rbtcd/data/regtest").is_dir(),
        "the README's data directory"
    );
    std::fs::remove_dir_all(&home).unwrap();
}
