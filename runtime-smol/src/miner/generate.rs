//! `--generate` and the CPU miner's wiring: mining addresses are checked at start as btcd does,
//! and the miner threads are connected to the node task. The node decides what to mine (it
//! emits [`rbtcd_core::node::Output::MineOn`], which the P2P driver forwards here); solutions
//! and hash rate reports go back to the node as inputs.

use crate::config::Config;
use crate::miner::Miner;
use crate::p2p::Event;
use async_channel::Sender;
use rbtcd_core::address::Address;
use rbtcd_core::mining::MinerWork;
use rbtcd_core::node::Input;
use rbtcd_core::params::Params;

/// Checks `cfg`'s mining setup when `--generate` is given: see [`mining_addresses`].
pub fn check_config(cfg: &Config) -> Result<(), String> {
    if cfg.generate {
        mining_addresses(&cfg.mining_addrs, &cfg.params())?;
    }
    Ok(())
}

/// Checks that `params`' network supports generating and parses the mining addresses for it,
/// refusing as btcd does (one line naming the address).
pub fn mining_addresses(addrs: &[String], params: &Params) -> Result<Vec<Address>, String> {
    if !params.generate_supported {
        return Err(format!(
            "generate is not supported on {}: the CPU cannot mine its difficulty; use --regtest \
             or --simnet",
            params.network
        ));
    }
    parse_mining_addresses(addrs, params)
}

/// Parses `miningaddr` values for `params`' network, naming the first that is not valid.
pub fn parse_mining_addresses(addrs: &[String], params: &Params) -> Result<Vec<Address>, String> {
    addrs
        .iter()
        .map(|a| {
            Address::from_str_for(a, params).map_err(|e| {
                format!("mining address '{a}' is not valid for the active network: {e}")
            })
        })
        .collect()
}

/// Starts the miner threads for the node task behind `events`: returns the miner and the
/// sender the P2P driver hands the node's work to. Solutions and hash rates become node
/// inputs; the threads end when the returned sender (and its clones) are dropped.
pub fn spawn_miner(events: &Sender<Event>) -> Result<(Miner, Sender<Option<MinerWork>>), String> {
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded::<crate::miner::Solved>();
    let rates = events.clone();
    let report_rate = Box::new(move |per_sec| {
        let _ = rates.try_send(Event::Input(Input::HashRate(per_sec)));
    });
    let miner = Miner::spawn(jobs_rx, solved_tx, report_rate)
        .map_err(|e| format!("cannot start the miner threads: {e}"))?;
    let events = events.clone();
    smol::spawn(async move {
        while let Ok(s) = solved.recv().await {
            let input = Input::BlockSolved {
                work_id: s.work_id,
                extra_nonce: s.extra_nonce,
                header: s.header,
            };
            if events.send(Event::Input(input)).await.is_err() {
                break;
            }
        }
    })
    .detach();
    Ok((miner, jobs))
}

#[cfg(test)]
mod tests;
