//! The RPC server's way into the node: each call runs [`Node::rpc`] on the node task
//! ([`Event::Call`]), so handlers read and change the node without locks, and the answer comes
//! back to the RPC thread. `stop` is reported to the daemon; `debuglevel` changes are applied
//! here, to the logger. The node's notifications feed the WebSocket notifier on a thread of its
//! own.

use crate::config::Config;
use crate::logging;
use crate::p2p::{unix_ms, Event};
use crate::rpc::http::{shutting_down, ChainJob, RpcServer, RpcService};
use crate::rpc::notify::{Feed, Notifier};
use rbtcd_core::chain::ChainStore;
use rbtcd_core::node::Node;
use rbtcd_core::rpc::error::code;
use rbtcd_core::rpc::handlers::{Effect, NodeInfo};
use rbtcd_core::rpc::methods::Method;
use rbtcd_core::rpc::RpcError;
use serde_json::Value;
use smol::channel::Sender;
use std::sync::Arc;

struct Service<S: ChainStore> {
    events: Sender<Event<S>>,
    info: Arc<NodeInfo>,
    stop: async_channel::Sender<()>,
}

impl<S: ChainStore + Send + 'static> RpcService for Service<S> {
    fn call(&self, method: &'static Method, params: &[Value]) -> Result<Value, RpcError> {
        let (reply, answer) = async_channel::bounded(1);
        let (info, params) = (Arc::clone(&self.info), params.to_vec());
        let call = Box::new(move |node: &mut Node<S>| {
            let _ = reply.try_send(node.rpc(unix_ms(), method, &params, &info));
        });
        self.events
            .send_blocking(Event::Call(call))
            .map_err(|_| shutting_down())?;
        let handled = answer.recv_blocking().map_err(|_| shutting_down())??;
        match &handled.effect {
            Some(Effect::Stop) => {
                let _ = self.stop.try_send(());
            }
            Some(Effect::DebugLevel(spec)) => logging::set_levels(spec)
                .map_err(|e| RpcError::new(code::INVALID_PARAMS, e.to_string()))?,
            _ => {}
        }
        Ok(handled.result)
    }

    fn with_chain(&self, job: ChainJob) -> Result<(), RpcError> {
        let call = Box::new(move |node: &mut Node<S>| job(node));
        self.events
            .send_blocking(Event::Call(call))
            .map_err(|_| shutting_down())
    }
}

/// The running RPC server (when enabled).
pub struct Served {
    server: Option<RpcServer>,
    stop_requested: async_channel::Receiver<()>,
}

/// Starts the RPC server of `cfg`, if enabled, answering from the node behind `events` and
/// notifying WebSocket clients of what comes on `feed` (the node's notifications).
pub fn start<S: ChainStore + Send + 'static>(
    cfg: &Config,
    events: Sender<Event<S>>,
    feed: (
        async_channel::WeakSender<Feed>,
        async_channel::Receiver<Feed>,
    ),
) -> Result<Served, String> {
    let (stop, stop_requested) = async_channel::bounded(1);
    let server = match &cfg.rpc {
        None => None,
        Some(rpc) => {
            let service = Service {
                events,
                info: Arc::new(NodeInfo {
                    version: crate_version(),
                    start_time: unix_ms() / 1000,
                    proxy: cfg.proxy.clone().unwrap_or_default(),
                    log_subsystems: logging::subsystems(),
                }),
                stop,
            };
            let service: Arc<dyn RpcService> = Arc::new(service);
            let (feed_tx, feed) = feed;
            let notifier = Arc::new(Notifier::new(cfg.params(), feed_tx));
            let server = RpcServer::start(rpc, service.clone(), notifier.clone())
                .map_err(|e| format!("cannot start the RPC server: {e}"))?;
            // The thread ends when the node stops and its notifications end.
            std::thread::Builder::new()
                .name("rpc-notify".into())
                .spawn(move || notifier.run(feed, service.as_ref()))
                .map_err(|e| format!("cannot start the RPC notifier: {e}"))?;
            Some(server)
        }
    };
    Ok(Served {
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

impl Served {
    /// Resolves when an RPC client called `stop`; never when RPC is disabled.
    pub async fn stop_requested(&self) {
        if self.stop_requested.recv().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Stops the RPC server, letting requests in progress finish.
    pub fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            log::info!(target: "rbtcd::rpc", "Stopping RPC server...");
            server.stop();
        }
    }
}
