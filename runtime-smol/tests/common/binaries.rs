//! Where the daemon binary is. Cargo names the binaries to the `rbtcd` package's own tests and
//! benches (`CARGO_BIN_EXE_rbtcd`) but to no other package's, so the cross-node tests of
//! `rbtcd-tests`, which include this harness by path, ask Cargo to build it instead: a no-op
//! when it is fresh, and never a stale binary left over from an earlier build.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The `rbtcd` binary of this workspace, built with the profile the tests were built with.
pub fn rbtcd() -> PathBuf {
    match option_env!("CARGO_BIN_EXE_rbtcd") {
        Some(path) => PathBuf::from(path),
        None => built_rbtcd().clone(),
    }
}

/// Builds the `rbtcd` binary once per test process with `cargo build --message-format=json`
/// and returns the executable Cargo reports; any failure panics with Cargo's output.
fn built_rbtcd() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--package",
            "rbtcd",
            "--bin",
            "rbtcd",
            "--message-format=json",
        ]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let out = build
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo to build rbtcd: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "cargo build -p rbtcd failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "rbtcd")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .unwrap_or_else(|| panic!("cargo build -p rbtcd named no rbtcd executable"))
    })
}
