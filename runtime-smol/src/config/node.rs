//! The core's [`NodeConfig`] from the daemon's resolved [`Config`].

use crate::config::{resolve_addrs, Config};
use crate::logging;
use crate::miner::default_workers;
use crate::miner::generate::parse_mining_addresses;
use rbtcd_core::mempool::Policy;
use rbtcd_core::node::{NodeConfig, RpcSettings, DEFAULT_MAX_SEND_QUEUE};
use rbtcd_core::params::Params;
use rbtcd_core::rpc::auth::Credentials;

/// Translates the options the node itself acts on; peers given by name are resolved here,
/// since the core never touches DNS.
pub fn node_config(cfg: &Config, params: &Params) -> Result<NodeConfig, String> {
    let peers: Vec<String> = cfg.connect.iter().chain(&cfg.add_peers).cloned().collect();
    let permanent_peers = resolve_addrs(&peers, params.default_port)
        .map_err(|e| format!("invalid peer address: {e}"))?;
    let defaults = NodeConfig::default();
    Ok(NodeConfig {
        max_peers: cfg.max_peers,
        ban_threshold: cfg.ban_threshold,
        ban_duration: cfg.ban_duration,
        disable_banning: cfg.no_banning,
        whitelist: cfg.whitelists.clone(),
        mining_addrs: parse_mining_addresses(&cfg.mining_addrs, params)?,
        block_max_weight: cfg.block_max_weight as usize,
        generate: cfg.generate,
        gen_proc_limit: cfg
            .gen_proc_limit
            .unwrap_or_else(|| default_workers() as u32),
        permanent_peers,
        // btcd: `connect` means only those peers, and no DNS seeding.
        connect_only: !cfg.connect.is_empty(),
        // The P2P driver reports every write.
        max_send_queue: Some(DEFAULT_MAX_SEND_QUEUE),
        policy: Policy {
            min_relay_fee_per_kvb: cfg.min_relay_tx_fee,
            max_orphans: cfg.max_orphan_tx,
            ..defaults.policy
        },
        tx_index: cfg.tx_index,
        rpc: RpcSettings {
            credentials: cfg.rpc.as_ref().map_or_else(Credentials::default, |rpc| {
                Credentials::new(rpc.admin.as_ref(), rpc.limited.as_ref())
            }),
            proxy: cfg.proxy.clone().unwrap_or_default(),
            log_subsystems: logging::subsystems(),
        },
        ..defaults
    })
}
