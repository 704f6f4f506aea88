//! `rbtcdMain`: the startup sequence from config to shutdown, as btcd orders it: load config,
//! upgrade and load the block database, serve RPC, then run until SIGINT, SIGTERM or an RPC
//! `stop` and close the database cleanly.

use crate::config::{self, Config, Startup};
use crate::logging::{self, Levels};
use crate::rpc_service;
use crate::store_lmdb::LmdbStore;
use crate::upgrades;
use async_signal::{Signal, Signals};
use futures::StreamExt;
use rbtcd_core::chain::Chain;
use rbtcd_core::params::Params;

/// Directory under the data directory holding the LMDB environment.
pub const BLOCK_DB_DIR: &str = "blocks_lmdb";

/// Runs the daemon with `args` (without the program name) and returns the process exit status.
/// Any refusal is one line on stderr and status 1.
pub fn run(args: &[String]) -> i32 {
    match start(args) {
        Ok(()) => 0,
        Err(line) => {
            log::error!("{line}");
            log::logger().flush();
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
    // Signals are caught before the database opens so an early interrupt still closes it.
    let mut signals = Signals::new([Signal::Int, Signal::Term])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let chain = load_block_db(&cfg)?;
    let tip = chain.tip();
    log::info!(
        "Chain state (height {}, hash {}, work {})",
        tip.height,
        tip.hash,
        tip.chain_work.0
    );
    log::warn!("The P2P server is not part of this build yet; waiting for a signal");
    let served = rpc_service::start(&cfg, chain)?;

    let reason = smol::block_on(smol::future::or(
        async {
            match signals.next().await {
                Some(Ok(Signal::Term)) => "Received signal (terminated)",
                _ => "Received signal (interrupt)",
            }
        },
        async {
            served.stop_requested().await;
            "RPC stop requested"
        },
    ));
    log::info!("{reason}.  Shutting down...");
    let chain = served.shutdown();
    log::info!("Gracefully shutting down the database...");
    chain.into_store().close();
    log::info!("Shutdown complete");
    Ok(())
}

/// Opens the LMDB environment, brings its schema up to date and loads the chain from it.
fn load_block_db(cfg: &Config) -> Result<Chain<LmdbStore>, String> {
    let dir = cfg.data_dir.join(BLOCK_DB_DIR);
    log::info!("Loading block database from '{}'", dir.display());
    let mut store =
        LmdbStore::open(&dir).map_err(|e| format!("cannot open the block database: {e}"))?;
    upgrades::upgrade(&mut store).map_err(|e| format!("cannot upgrade the block database: {e}"))?;
    let chain = Chain::open(Params::new(cfg.network), store)
        .map_err(|e| format!("cannot load the chain: {e}"))?;
    log::info!("Block database loaded");
    Ok(chain)
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
