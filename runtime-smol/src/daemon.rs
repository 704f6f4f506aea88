//! `rbtcdMain`: the startup sequence from config to shutdown, as btcd orders it: load config,
//! upgrade and load the block database, create the server (bind the P2P listeners), start it
//! with the RPC server (and the CPU miner with `--generate`), run until SIGINT, SIGTERM or the
//! `stop` RPC, then stop the servers and close the database cleanly.

use crate::config::node::node_config;
use crate::config::{self, Config, Startup};
use crate::entropy;
use crate::logging::{self, Levels};
use crate::miner::generate;
use crate::p2p::{self, upnp, Event, Sinks};
use crate::rpc::cookie::Cookie;
use crate::rpc::http::RpcServer;
use crate::rpc::lookups::{Lookups, Published};
use crate::rpc::render::RenderPool;
use crate::store::check;
use crate::store::lmdb::LmdbStore;
use crate::store::lock;
use crate::store::upgrades;
use async_signal::{Signal, Signals};
use futures::StreamExt;
use rbtcd_core::chain::tx_index;
use rbtcd_core::chain::verify::{level, verify_chain};
use rbtcd_core::node::Node;
use rbtcd_core::params::Params;
use std::sync::Arc;

/// Directory under the data directory holding the LMDB environment.
pub const BLOCK_DB_DIR: &str = "blocks_lmdb";
/// Blocks below the tip read and checked again at start, at [`level::UNDO`] (Bitcoin Core's
/// `-checkblocks` and `-checklevel` defaults): a damaged block file stops the start with the
/// file and offset rather than surfacing at the first reorganization.
const CHECK_BLOCKS: u32 = 6;
/// Longest wait at shutdown for the gateway to delete the UPnP mapping.
const UPNP_REMOVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the daemon with `args` (without the program name) and returns the process exit status.
/// Any refusal is one line on stderr and status 1.
pub fn run(args: &[String]) -> i32 {
    if let Some(dir) = std::env::var_os(check::CHILD_ENV) {
        return check::child(std::path::Path::new(&dir));
    }
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
    let mut cfg = match config::load(args, &config::default_home()).map_err(|e| e.to_string())? {
        Startup::ShowVersion => {
            println!("rbtcd version {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Startup::ShowHelp(usage) => {
            print!("{usage}");
            return Ok(());
        }
        Startup::ShowSubsystems => {
            println!("Supported subsystems [{}]", logging::subsystems().join(" "));
            return Ok(());
        }
        Startup::Run(cfg) => cfg,
    };
    let levels = Levels::parse(&cfg.debug_level).map_err(|e| e.to_string())?;
    logging::init(levels, &cfg.log_dir.join("rbtcd.log")).map_err(|e| e.to_string())?;
    log_startup(&cfg);
    let seed = || entropy::os_seed().map_err(|e| format!("cannot read OS randomness: {e}"));
    // Refuse a bad mining setup before touching the database.
    generate::check_config(&cfg)?;
    // Signals are caught before the database opens so an early interrupt still closes it.
    let signals = Signals::new([Signal::Int, Signal::Term])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let params = cfg.params();
    // Held until the database is closed and this function returns.
    let _lock = lock::lock(&cfg.data_dir).map_err(|e| e.to_string())?;
    if cfg.drop_tx_index {
        return drop_tx_index(&cfg);
    }
    // Held until the daemon has shut down; dropping it deletes the file.
    let _cookie = write_cookie(&mut cfg)?;
    let node = load_block_db(&cfg, &params, seed()?)?;
    let tip = node.chain().tip();
    log::info!(
        "Chain state (height {}, hash {}, work {})",
        tip.height,
        tip.hash,
        tip.chain_work.0
    );
    smol::block_on(serve(&cfg, node, signals))
}

/// Writes the RPC cookie when the configuration asks for one and makes it the admin's
/// credentials.
fn write_cookie(cfg: &mut Config) -> Result<Option<Cookie>, String> {
    let Some(rpc) = cfg.rpc.as_mut() else {
        return Ok(None);
    };
    let Some(path) = &rpc.cookie else {
        return Ok(None);
    };
    let cookie = Cookie::write(path)
        .map_err(|e| format!("cannot write the RPC cookie {}: {e}", path.display()))?;
    log::info!(target: "rbtcd::rpc", "Generated RPC authentication cookie {}", path.display());
    rpc.admin = Some(cookie.credentials());
    Ok(Some(cookie))
}

/// Why the server stopped running.
enum Ended<N> {
    /// SIGINT or SIGTERM.
    Signal(&'static str),
    /// An RPC client called `stop`.
    RpcStop,
    /// The node task ended by itself (after a store error, which it logged).
    Server(N),
}

/// Binds the listeners, runs the node (and the miner threads, idle until the node hands them
/// work) until a signal or a failure, then shuts everything down in btcd's order and closes
/// the database.
async fn serve(cfg: &Config, node: Node<LmdbStore>, mut signals: Signals) -> Result<(), String> {
    let listeners = p2p::bind(&cfg.listeners).await?;
    let (tx, rx) = smol::channel::unbounded();
    let (miner, jobs) = generate::spawn_miner(&tx)?;
    let (shutdown, stop_requested) = smol::channel::bounded(1);
    let renders = cfg.rpc.as_ref().map_or_else(RenderPool::default, |rpc| {
        RenderPool::new(rpc.max_concurrent_reqs)
    });
    let published = Arc::new(Published::default());
    let lookups = Lookups::new(
        Arc::clone(&published),
        renders.clone(),
        cfg.data_dir.join(BLOCK_DB_DIR),
        node.chain().store().reader(),
    );
    let sinks = Sinks {
        notify: None,
        miner: Some(jobs),
        shutdown: Some(shutdown),
        dialer: cfg.dialer.clone(),
        renders,
        published: Some(published),
        mempool_dir: Some(cfg.data_dir.clone()),
    };
    // The node runs on a thread of its own: a disk sync or a block's script checks holds it
    // up, never the executor the sockets' readers and writers run on.
    let events = (tx.clone(), rx);
    let mut server =
        smol::unblock(move || smol::block_on(p2p::run(node, listeners, events, sinks)));
    // Closing `upnp_stop` makes the UPnP task delete its mapping and end.
    let (upnp_stop, upnp_stop_rx) = async_channel::bounded::<()>(1);
    let upnp = match (cfg.upnp, cfg.listeners.first()) {
        (true, Some(listener)) => {
            let node = tx.clone();
            let report = move |input| {
                let _ = node.try_send(Event::Input(input));
            };
            Some(smol::spawn(upnp::run(
                listener.port(),
                report,
                upnp_stop_rx,
            )))
        }
        _ => None,
    };
    let rpc = match cfg
        .rpc
        .as_ref()
        .map(|rpc| RpcServer::start(rpc, tx.clone(), Some(lookups)))
    {
        None => None,
        Some(Ok(rpc)) => Some(rpc),
        Some(Err(e)) => {
            let _ = tx.send(Event::Stop).await;
            server.await.into_store().close();
            return Err(format!("cannot start the RPC server: {e}"));
        }
    };
    let signal = async {
        Ended::Signal(match signals.next().await {
            Some(Ok(Signal::Term)) => "terminated",
            _ => "interrupt",
        })
    };
    let rpc_stop = async {
        // Never resolves when the node task ended first (it dropped the sender).
        match stop_requested.recv().await {
            Ok(()) => Ended::RpcStop,
            Err(_) => std::future::pending().await,
        }
    };
    let server_end = async { Ended::Server((&mut server).await) };
    let stops = smol::future::or(signal, rpc_stop);
    let ended = smol::future::or(stops, server_end).await;
    match &ended {
        Ended::Signal(name) => log::info!("Received signal ({name}).  Shutting down..."),
        Ended::RpcStop => log::info!("RPC stop requested.  Shutting down..."),
        Ended::Server(_) => {}
    }
    if let Some(rpc) = rpc {
        log::info!(target: "rbtcd::rpc", "Stopping RPC server...");
        rpc.stop();
    }
    log::info!("Gracefully shutting down the server...");
    let mut node = match ended {
        Ended::Server(node) => node,
        _ => {
            let _ = tx.send(Event::Stop).await;
            server.await
        }
    };
    // Core dumps the pool at a clean shutdown; a node that failed may hold a pool that does
    // not match its chain, so it keeps the last file instead.
    if cfg.persist_mempool && node.failure().is_none() {
        // The outcome is logged; the daemon stops either way.
        let _ = crate::mempool_file::save_logged(&cfg.data_dir, &node.save_mempool());
    }
    let failure = node.failure().map(|why| {
        format!(
            "the block database in {} failed, the node stopped: {why}",
            cfg.data_dir.join(BLOCK_DB_DIR).display()
        )
    });
    // The node task dropped the miner's job sender on return, which ends the miner threads.
    miner.join();
    drop(upnp_stop);
    if let Some(upnp) = upnp {
        // Each gateway call has its own timeout; this bounds the whole removal.
        let removed = async {
            upnp.await;
            true
        };
        let late = async {
            smol::Timer::after(UPNP_REMOVE_TIMEOUT).await;
            false
        };
        if !smol::future::or(removed, late).await {
            log::warn!("unable to remove UPnP port mapping: the gateway did not answer");
        }
    }
    log::info!("Server shutdown complete");
    log::info!("Gracefully shutting down the database...");
    node.into_store().close();
    log::info!("Shutdown complete");
    failure.map_or(Ok(()), Err)
}

/// Opens the LMDB environment and brings its schema up to date.
fn open_block_db(cfg: &Config) -> Result<LmdbStore, String> {
    let dir = cfg.data_dir.join(BLOCK_DB_DIR);
    log::info!("Loading block database from '{}'", dir.display());
    let program =
        std::env::current_exe().map_err(|e| format!("cannot find the daemon's executable: {e}"))?;
    let started = std::time::Instant::now();
    if let Some(w) = check::check(&program, &dir).map_err(|e| e.to_string())? {
        log::info!(
            "Checked the block database: {} records ({} bytes) in {} tables, {} free pages, \
             in {} ms",
            w.records,
            w.bytes,
            w.tables,
            w.free_pages,
            started.elapsed().as_millis()
        );
    }
    let mut store =
        LmdbStore::open(&dir).map_err(|e| format!("cannot open the block database: {e}"))?;
    upgrades::upgrade(&mut store).map_err(|e| format!("cannot upgrade the block database: {e}"))?;
    Ok(store)
}

/// `--droptxindex`: deletes the transaction index and exits, as btcd.
fn drop_tx_index(cfg: &Config) -> Result<(), String> {
    let mut store = open_block_db(cfg)?;
    let dropped = tx_index::drop_tx_index(&mut store);
    store.close();
    dropped
        .map(|_| ())
        .map_err(|e| format!("cannot drop the transaction index: {e}"))
}

/// Opens the block database and loads the node's chain from it (catching the transaction
/// index up when it is on), then its pool from `mempool.dat` (`persistmempool`).
fn load_block_db(cfg: &Config, params: &Params, seed: u64) -> Result<Node<LmdbStore>, String> {
    let store = open_block_db(cfg)?;
    let mut node = Node::new(
        params.clone(),
        node_config(cfg, params)?,
        store,
        seed,
        p2p::now(),
    )
    .map_err(|e| format!("cannot load the chain: {e}"))?;
    verify_chain(node.chain(), level::UNDO, CHECK_BLOCKS)
        .map_err(|e| format!("cannot load the chain: {e}"))?;
    log::info!("Block database loaded");
    if cfg.persist_mempool {
        crate::mempool_file::load(&mut node, &cfg.data_dir);
    }
    Ok(node)
}

fn log_startup(cfg: &Config) {
    let params = cfg.params();
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
