//! Interim glue between the RPC transport and the node state: the chain and a mempool behind
//! one mutex, answered by the core's handlers. When the node owns the RPC server this becomes
//! a request channel into it; the transport does not change.

use crate::config::Config;
use crate::rpc_http::{RpcServer, RpcService};
use crate::store_lmdb::LmdbStore;
use rbtcd_core::chain::Chain;
use rbtcd_core::mempool::{Mempool, Policy};
use rbtcd_core::rpc::handlers::{self, Context, Effect, NodeInfo};
use rbtcd_core::rpc::methods::Method;
use rbtcd_core::rpc::RpcError;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The state RPC handlers read.
struct NodeState {
    chain: Chain<LmdbStore>,
    mempool: Mempool,
}

struct Service {
    state: Arc<Mutex<NodeState>>,
    info: NodeInfo,
    stop: async_channel::Sender<()>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RpcService for Service {
    fn call(&self, method: &'static Method, params: &[Value]) -> Result<Value, RpcError> {
        // A handler that panicked cannot have left the read-only state half-changed.
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let ctx = Context {
            chain: &state.chain,
            mempool: &state.mempool,
            info: &self.info,
            connections: 0,
            now: unix_now(),
        };
        let handled = handlers::dispatch(&ctx, method, params)?;
        if handled.effect == Some(Effect::Stop) {
            let _ = self.stop.try_send(());
        }
        Ok(handled.result)
    }
}

/// The chain served over RPC (when enabled) until shutdown.
pub struct ServedChain {
    state: Arc<Mutex<NodeState>>,
    server: Option<RpcServer>,
    stop_requested: async_channel::Receiver<()>,
}

/// Starts the RPC server of `cfg` (if enabled) over `chain`.
pub fn start(cfg: &Config, chain: Chain<LmdbStore>) -> Result<ServedChain, String> {
    let policy = Policy {
        min_relay_fee_per_kvb: cfg.min_relay_tx_fee,
        max_orphans: cfg.max_orphan_tx,
        ..Policy::default()
    };
    let state = Arc::new(Mutex::new(NodeState {
        chain,
        mempool: Mempool::new(policy),
    }));
    let (stop, stop_requested) = async_channel::bounded(1);
    let server = match &cfg.rpc {
        None => None,
        Some(rpc) => {
            let (major, minor, patch) = crate_version();
            let service = Service {
                state: state.clone(),
                info: NodeInfo {
                    version: (major, minor, patch),
                    start_time: unix_now(),
                    proxy: cfg.proxy.clone().unwrap_or_default(),
                },
                stop,
            };
            let server = RpcServer::start(rpc, Arc::new(service))
                .map_err(|e| format!("cannot start the RPC server: {e}"))?;
            Some(server)
        }
    };
    Ok(ServedChain {
        state,
        server,
        stop_requested,
    })
}

fn crate_version() -> (u32, u32, u32) {
    let part = |s: &str| s.parse().unwrap_or(0);
    (
        part(env!("CARGO_PKG_VERSION_MAJOR")),
        part(env!("CARGO_PKG_VERSION_MINOR")),
        part(env!("CARGO_PKG_VERSION_PATCH")),
    )
}

impl ServedChain {
    /// Resolves when an RPC client called `stop`; never when RPC is disabled.
    pub async fn stop_requested(&self) {
        if self.stop_requested.recv().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Stops the RPC server (letting requests in progress finish) and hands the chain back.
    pub fn shutdown(mut self) -> Chain<LmdbStore> {
        if let Some(server) = self.server.take() {
            log::info!("Stopping RPC server...");
            server.stop();
        }
        let state = Arc::try_unwrap(self.state)
            .ok()
            .expect("a stopped RPC server holds no state");
        let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
        state.chain
    }
}
