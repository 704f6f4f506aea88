//! `rbtcdMain`: the startup sequence from config to shutdown, as btcd orders it.

use crate::config::{self, Config, Startup};
use crate::logging::{self, Levels};
use rbtcd_core::params::Params;

/// Runs the daemon with `args` (without the program name) and returns the process exit status.
/// Any refusal is one line on stderr and status 1.
pub fn run(args: &[String]) -> i32 {
    match start(args) {
        Ok(()) => 0,
        Err(line) => {
            eprintln!("rbtcd: {line}");
            1
        }
    }
}

fn start(args: &[String]) -> Result<(), String> {
    let cfg = match config::load(args, &config::default_home()).map_err(|e| e.to_string())? {
        Startup::ShowVersion => {
            println!("rbtcd version {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Startup::ShowSubsystems => {
            println!("Supported subsystems {:?}", logging::subsystems());
            return Ok(());
        }
        Startup::Run(cfg) => cfg,
    };
    let levels = Levels::parse(&cfg.debug_level).map_err(|e| e.to_string())?;
    logging::init(levels, &cfg.log_dir.join("rbtcd.log")).map_err(|e| e.to_string())?;
    log_startup(&cfg);
    Ok(())
}

fn log_startup(cfg: &Config) {
    let params = Params::new(cfg.network);
    log::info!("Version {}", env!("CARGO_PKG_VERSION"));
    log::info!(
        "Active network: {} (genesis {})",
        cfg.network,
        params.genesis_hash
    );
    if cfg.rpc.is_none() {
        log::info!("RPC service is disabled");
    }
}
