//! The core's [`NodeConfig`] from the daemon's resolved [`Config`].

use crate::config::{resolve_addrs, Config};
use crate::logging;
use crate::miner::default_workers;
use crate::miner::generate::parse_mining_addresses;
use crate::scripts::ScriptPool;
use rbtcd_core::chain::script_check::ScriptChecks;
use rbtcd_core::chain::ChainOptions;
use rbtcd_core::mempool::Policy;
use rbtcd_core::net::budget::SEND_BUFFER_LIMIT;
use rbtcd_core::net::local::LocalSource;
use rbtcd_core::node::{NodeConfig, RpcSettings};
use rbtcd_core::params::Params;
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::script::SigCache;
use std::net::SocketAddr;
use std::sync::Arc;

/// Translates the options the node itself acts on; peers given by name are resolved here,
/// since the core never touches DNS. A peer given without a port is on the network's standard
/// port (8333 on mainnet), where nodes listen; rbtcd's own listen default is another.
pub fn node_config(cfg: &Config, params: &Params) -> Result<NodeConfig, String> {
    let peers: Vec<String> = cfg.connect.iter().chain(&cfg.add_peers).cloned().collect();
    let permanent_peers = resolve_addrs(&peers, params.standard_port)
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
        dns_seed: cfg.dns_seed,
        listening: !cfg.listeners.is_empty(),
        local_addrs: local_addrs(cfg)?,
        user_agent: cfg.user_agent.clone(),
        agent_blacklist: cfg.agent_blacklist.clone(),
        agent_whitelist: cfg.agent_whitelist.clone(),
        blocks_only: cfg.blocks_only,
        no_stall_detect: cfg.no_stall_detect,
        trickle_interval: cfg.trickle_interval,
        // The P2P driver reports every write.
        max_send_queue: Some(SEND_BUFFER_LIMIT),
        // The P2P driver serves peers in turns and pauses reading a peer whose messages wait.
        fair_turns: true,
        policy: Policy {
            min_relay_fee_per_kvb: cfg.min_relay_tx_fee,
            max_orphans: cfg.max_orphan_tx,
            accept_non_std: cfg.accept_non_std,
            ..defaults.policy
        },
        tx_index: cfg.tx_index,
        chain: ChainOptions {
            utxo_cache_bytes: cfg.utxo_cache_mib << 20,
            assume_valid: cfg.assume_valid,
            scripts: ScriptChecks {
                executor: Arc::new(ScriptPool::new(None)?),
                sig_cache: Arc::new(SigCache::new(cfg.sig_cache_entries)),
            },
            ..defaults.chain.clone()
        },
        rpc: RpcSettings {
            credentials: cfg.rpc.as_ref().map_or_else(Credentials::default, |rpc| {
                Credentials::new(rpc.admin.as_ref(), rpc.limited.as_ref())
            }),
            proxy: cfg.proxy.clone().unwrap_or_default(),
            log_subsystems: logging::subsystems(),
            // The node task renders them on its pool of `rpcmaxconcurrentreqs` workers.
            render_by_driver: true,
            // The RPC server answers block lookups from it.
            publish_view: cfg.rpc.is_some(),
            mempool_file: crate::mempool_file::path(&cfg.data_dir)
                .display()
                .to_string(),
        },
        ..defaults
    })
}

/// Our addresses as btcd gathers them: the `externalip` ones (on our listen port unless they
/// name one) when given, otherwise the listen addresses, each interface's address standing in
/// for a listener on all interfaces. The node keeps only the routable ones.
fn local_addrs(cfg: &Config) -> Result<Vec<(SocketAddr, LocalSource)>, String> {
    let Some(listen_port) = cfg.listeners.first().map(SocketAddr::port) else {
        return Ok(Vec::new());
    };
    if !cfg.external_ips.is_empty() {
        let external = resolve_addrs(&cfg.external_ips, listen_port)
            .map_err(|e| format!("invalid externalip: {e}"))?;
        return Ok(external
            .into_iter()
            .map(|a| (a, LocalSource::Manual))
            .collect());
    }
    let mut out = Vec::new();
    for listener in &cfg.listeners {
        if !listener.ip().is_unspecified() {
            out.push((*listener, LocalSource::Bound));
            continue;
        }
        let interfaces = if_addrs::get_if_addrs()
            .map_err(|e| format!("cannot list the network interfaces: {e}"))?;
        let same_family = |ip: &std::net::IpAddr| ip.is_ipv4() == listener.is_ipv4();
        out.extend(
            interfaces
                .iter()
                .map(|i| i.ip())
                .filter(same_family)
                .map(|ip| (SocketAddr::new(ip, listener.port()), LocalSource::Interface)),
        );
    }
    Ok(out)
}
