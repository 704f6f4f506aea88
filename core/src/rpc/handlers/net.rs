//! Peer and network commands: `getpeerinfo`, `getnettotals`, `getaddednodeinfo` and
//! `listbanned` read the node's [`NetView`]; `addnode`, `node`, `ping`, `getnodeaddresses`,
//! `setban` and `clearbanned` check their parameters here and come back as [`Effect`]s the
//! node carries out.

use super::{Context, Effect, Handled};
use crate::net::bans::BanList;
use crate::net::connmgr;
use crate::net::ipnet::IpNet;
use crate::net::local::LocalAddrs;
use crate::net::peer::{Direction, PeerId, Peers};
use crate::net::peer_command::{NetTotals, PeerCommand, PeerCommandError, PeerTarget};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::time::Time;
use crate::wire::protocol::{ServiceFlags, PROTOCOL_VERSION};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// The node's network side as these handlers read it.
pub struct NetView<'a> {
    /// Connected peers.
    pub peers: &'a Peers,
    /// The permanent (added) peers' addresses.
    pub added: &'a [SocketAddr],
    /// Peers connected to an added address.
    pub permanent: &'a BTreeMap<PeerId, SocketAddr>,
    /// Bytes through all connections.
    pub totals: NetTotals,
    /// The peer headers are synced from.
    pub sync_peer: Option<PeerId>,
    /// Banned networks.
    pub bans: &'a BanList,
    /// Now.
    pub now: Time,
    /// What we tell peers about ourselves.
    pub local: LocalView<'a>,
}

/// The node as it presents itself to peers.
#[derive(Clone, Copy)]
pub struct LocalView<'a> {
    /// The services we advertise.
    pub services: ServiceFlags,
    /// Our BIP14 user agent.
    pub user_agent: &'a str,
    /// Whether we ask peers to relay transactions (not `blocksonly`).
    pub relay: bool,
    /// The addresses we advertise, with their scores.
    pub addrs: &'a LocalAddrs,
}

/// An address as btcd's `normalizeAddress` reads it: `ip`, `ip:port` or `[ipv6]:port`, with the
/// network's default port when none is given. Host names are refused: the core does not
/// resolve (give the daemon an address).
fn parse_addr(s: &str, default_port: u16) -> Option<SocketAddr> {
    s.parse::<SocketAddr>().ok().or_else(|| {
        s.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, default_port))
    })
}

fn invalid_parameter(message: impl Into<String>) -> RpcError {
    RpcError::new(code::INVALID_PARAMETER, message)
}

fn address(ctx: &Context<'_>, s: &str) -> Result<SocketAddr, RpcError> {
    parse_addr(s, ctx.chain.params().default_port).ok_or_else(|| {
        invalid_parameter(format!(
            "'{s}' is not a valid IP address (rbtcd connects to IP addresses, not host names)"
        ))
    })
}

fn peer_command(cmd: PeerCommand) -> Handled {
    Handled {
        result: Value::Null,
        effect: Some(Effect::Peer(cmd)),
    }
}

/// btcd's answer to a refused peer command.
pub fn peer_command_error(e: PeerCommandError) -> RpcError {
    let code = match e {
        PeerCommandError::PermanentUseRemove | PeerCommandError::TemporaryUseDisconnect => {
            code::MISC
        }
        _ => code::INVALID_PARAMETER,
    };
    RpcError::new(code, e.to_string())
}

/// `addnode "addr" "add|remove|onetry"`.
pub fn add_node(ctx: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(2, 2)?;
    let addr = address(ctx, p.str(0, "addr")?)?;
    let cmd = match p.str(1, "subcmd")? {
        "add" => PeerCommand::Connect {
            addr,
            permanent: true,
        },
        "remove" => PeerCommand::Remove(PeerTarget::Addr(addr)),
        "onetry" => PeerCommand::Connect {
            addr,
            permanent: false,
        },
        _ => return Err(invalid_parameter("invalid subcommand for addnode")),
    };
    Ok(peer_command(cmd))
}

/// `node "connect|remove|disconnect" "target" ("perm|temp")`: the target of `remove` and
/// `disconnect` is a peer id or an address.
pub fn node(ctx: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(2, 3)?;
    let target = p.str(1, "target")?;
    let which = || match target.parse::<u32>() {
        Ok(id) => Ok(PeerTarget::Id(PeerId::from(id))),
        Err(_) => parse_addr(target, ctx.chain.params().default_port)
            .map(PeerTarget::Addr)
            .ok_or_else(|| invalid_parameter("invalid address or node ID")),
    };
    let cmd = match p.str(0, "subcmd")? {
        "disconnect" => PeerCommand::Disconnect(which()?),
        "remove" => PeerCommand::Remove(which()?),
        "connect" => {
            let addr = address(ctx, target)?;
            let permanent = match p.opt_str(2, "connectsubcmd")?.unwrap_or("temp") {
                "perm" => true,
                "temp" => false,
                _ => return Err(invalid_parameter("invalid subcommand for node connect")),
            };
            PeerCommand::Connect { addr, permanent }
        }
        _ => return Err(invalid_parameter("invalid subcommand for node")),
    };
    Ok(peer_command(cmd))
}

/// `disconnectnode ("address") (nodeid)`: Core's command, one of the two naming a connected
/// peer, with Core's errors; the node drops it as `node disconnect` does (which, as btcd, asks
/// for `remove` on a permanent peer).
pub fn disconnect_node(ctx: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 2)?;
    let addr = p.opt_str(0, "address")?.filter(|a| !a.is_empty());
    let found = match (addr, p.opt_i64(1, "nodeid")?) {
        (Some(addr), None) => {
            let addr = address(ctx, addr)?;
            ctx.net
                .peers
                .iter()
                .find(|(_, peer)| peer.addr == addr)
                .map(|(id, _)| *id)
        }
        (None, Some(id)) => u32::try_from(id)
            .ok()
            .map(PeerId::from)
            .filter(|id| ctx.net.peers.contains_key(id)),
        _ => {
            return Err(RpcError::invalid_params(
                "Only one of address and nodeid should be provided.",
            ))
        }
    };
    let id = found.ok_or_else(|| {
        RpcError::new(
            code::CLIENT_NODE_NOT_CONNECTED,
            "Node not found in connected nodes",
        )
    })?;
    Ok(peer_command(PeerCommand::Disconnect(PeerTarget::Id(id))))
}

/// `ping`: queues a ping to every peer.
pub fn ping(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    Ok(peer_command(PeerCommand::PingAll))
}

/// `getnodeaddresses (count=1)`: up to `count` known addresses (drawn by the node).
pub fn get_node_addresses(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 1)?;
    let count = p.opt_i64(0, "count")?.unwrap_or(1);
    if count <= 0 {
        return Err(invalid_parameter("Address count out of range"));
    }
    Ok(Handled {
        result: Value::Null,
        effect: Some(Effect::NodeAddresses(
            count.min(i64::from(u32::MAX)) as usize
        )),
    })
}

/// `getconnectioncount`: peers connected now.
pub fn get_connection_count(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(ctx.net.peers.len()))
}

/// `getnettotals`: bytes received and sent over all connections, and the time.
pub fn get_net_totals(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!({
        "totalbytesrecv": ctx.net.totals.recv,
        "totalbytessent": ctx.net.totals.sent,
        "timemillis": ctx.net.now.as_millis(),
    }))
}

/// `getpeerinfo`: one object per connection, in btcd's shape.
pub fn get_peer_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let net = &ctx.net;
    let peers = net.peers.iter().map(|(id, peer)| {
        let remote = peer.remote.as_ref();
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("addr".into(), json!(peer.addr.to_string()));
        // btcd prints the service bits as a zero-padded decimal number.
        let services = remote.map_or(0, |v| v.services.0);
        m.insert("services".into(), json!(format!("{services:08}")));
        m.insert("relaytxes".into(), json!(peer.relays_txs()));
        m.insert("lastsend".into(), json!(peer.last_send.unix_secs()));
        m.insert("lastrecv".into(), json!(peer.last_recv.unix_secs()));
        m.insert("bytessent".into(), json!(peer.bytes_sent));
        m.insert("bytesrecv".into(), json!(peer.bytes_recv));
        let conntime = peer.connected_at.unix_secs();
        m.insert("conntime".into(), json!(conntime));
        let offset = remote.map_or(0, |v| v.timestamp - conntime as i64);
        m.insert("timeoffset".into(), json!(offset));
        // Microseconds, as btcd.
        let rtt = peer.ping_rtt.unwrap_or_default().as_micros();
        m.insert("pingtime".into(), json!(rtt as f64));
        if let Some((_, sent)) = peer.ping {
            let wait = net.now.since(sent).as_micros();
            m.insert("pingwait".into(), json!(wait as f64));
        }
        m.insert("version".into(), json!(peer.version));
        m.insert("subver".into(), json!(remote.map_or("", |v| &v.user_agent)));
        m.insert(
            "inbound".into(),
            json!(peer.direction == Direction::Inbound),
        );
        m.insert(
            "startingheight".into(),
            json!(remote.map_or(0, |v| v.start_height)),
        );
        // btcd leaves a zero height out.
        if peer.best_height > 0 {
            m.insert("currentheight".into(), json!(peer.best_height));
        }
        m.insert(
            "banscore".into(),
            json!(peer.ban_score.value(net.now.unix_secs())),
        );
        m.insert("feefilter".into(), json!(peer.fee_filter));
        m.insert("syncnode".into(), json!(net.sync_peer == Some(*id)));
        m.insert("v2_connection".into(), json!(false));
        Value::Object(m)
    });
    Ok(Value::Array(peers.collect()))
}

/// How long `setban add` bans without a `bantime` (Core's `-bantime` default), seconds.
const DEFAULT_BAN_SECS: u64 = 24 * 3600;

/// `setban "subnet" "add|remove" (bantime=86400 absolute=false)` (Bitcoin Core's; btcd has no
/// manual bans): bans an address or network for `bantime` seconds (until that unix time
/// when `absolute`), dropping its peers, or lifts such a ban.
pub fn set_ban(ctx: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(2, 4)?;
    let net: IpNet = p.str(0, "subnet")?.parse().map_err(|_| {
        RpcError::new(
            code::CLIENT_INVALID_IP_OR_SUBNET,
            "Error: Invalid IP/Subnet",
        )
    })?;
    let banned = ctx.net.bans.iter().any(|(n, _)| *n == net);
    match p.str(1, "command")? {
        "add" => {
            if banned {
                return Err(RpcError::new(
                    code::CLIENT_NODE_ALREADY_ADDED,
                    "Error: IP/Subnet already banned",
                ));
            }
            let time = p.opt_i64(2, "bantime")?.filter(|t| *t > 0);
            let time = time.map_or(DEFAULT_BAN_SECS, |t| t as u64);
            let until = match p.opt_bool(3, "absolute")?.unwrap_or(false) {
                true => time,
                false => ctx.now.saturating_add(time),
            };
            let until = Time::from_unix_secs(until);
            Ok(Handled::effect(Effect::Ban(net, Some(until))))
        }
        "remove" if banned => Ok(Handled::effect(Effect::Ban(net, None))),
        "remove" => Err(RpcError::new(
            code::CLIENT_INVALID_IP_OR_SUBNET,
            "Error: Unban failed. Requested address/subnet was not previously manually banned.",
        )),
        _ => Err(RpcError::invalid_params(
            "setban command must be \"add\" or \"remove\"",
        )),
    }
}

/// `listbanned`: the bans in force, with when each ends (unix time) and how long is left.
pub fn list_banned(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let now = ctx.net.now;
    let bans = ctx.net.bans.iter().filter(|(_, until)| **until > now);
    Ok(Value::Array(
        bans.map(|(net, until)| {
            json!({
                "address": net.to_string(),
                "banned_until": until.unix_secs(),
                "time_remaining": until.since(now).as_secs(),
            })
        })
        .collect(),
    ))
}

/// `clearbanned`: lifts every ban.
pub fn clear_banned(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    Ok(Handled::effect(Effect::ClearBans))
}

/// `getaddednodeinfo dns ("node")`: the permanent peers, as addresses or (with `dns`) with
/// their connection state.
pub fn get_added_node_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 2)?;
    let dns = p.opt_bool(0, "dns")?.ok_or_else(|| {
        RpcError::invalid_params("missing required parameter #1 'dns' for method getaddednodeinfo")
    })?;
    let mut added: Vec<SocketAddr> = ctx.net.added.to_vec();
    if let Some(node) = p.opt_str(1, "node")? {
        added.retain(|a| a.to_string() == node);
        if added.is_empty() {
            return Err(RpcError::new(
                code::CLIENT_NODE_NOT_ADDED,
                "Node has not been added",
            ));
        }
    }
    if !dns {
        return Ok(json!(added
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()));
    }
    let results = added.iter().map(|a| {
        // Permanent peers are dialed by us: connected means outbound.
        let connected = ctx.net.permanent.values().any(|p| p == a);
        json!({
            "addednode": a.to_string(),
            "connected": connected,
            "addresses": [{
                "address": a.ip().to_string(),
                "connected": if connected { "outbound" } else { "false" },
            }],
        })
    });
    Ok(Value::Array(results.collect()))
}

/// Core's names of the service bits it knows (`localservicesnames`).
const CORE_SERVICE_NAMES: [(ServiceFlags, &str); 6] = [
    (ServiceFlags::NETWORK, "NETWORK"),
    (ServiceFlags::BLOOM, "BLOOM"),
    (ServiceFlags::WITNESS, "WITNESS"),
    (ServiceFlags::CF, "COMPACT_FILTERS"),
    (ServiceFlags::NETWORK_LIMITED, "NETWORK_LIMITED"),
    (ServiceFlags::P2P_V2, "P2P_V2"),
];

/// `getnetworkinfo`: Core's shape. rbtcd has no clock offset from peers (btcd's `getinfo`
/// also answers 0), no switch to pause networking, and its IPv4 and IPv6 peers are dialled
/// directly or through the one `--proxy`; onion, I2P and CJDNS are left out of `networks`
/// because the dialler's onion settings live outside the core.
pub fn get_network_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let net = &ctx.net;
    let inbound = net
        .peers
        .values()
        .filter(|peer| peer.direction == Direction::Inbound)
        .count();
    let local = net.local;
    let names: Vec<&str> = CORE_SERVICE_NAMES
        .iter()
        .filter(|(flag, _)| local.services.has(*flag))
        .map(|(_, name)| *name)
        .collect();
    let networks: Vec<Value> = ["ipv4", "ipv6"]
        .iter()
        .map(|name| {
            json!({
                "name": name,
                "limited": false,
                "reachable": true,
                "proxy": ctx.info.proxy,
                "proxy_randomize_credentials": false,
            })
        })
        .collect();
    let addresses: Vec<Value> = local
        .addrs
        .iter()
        .filter_map(|(addr, score)| {
            let socket = connmgr::socket_addr(addr)?;
            Some(json!({"address": socket.ip().to_string(), "port": addr.port, "score": score}))
        })
        .collect();
    let relay_fee = ctx.mempool.policy().min_relay_fee_per_kvb as f64 / 1e8;
    Ok(json!({
        "version": super::info::numeric_version(ctx.info),
        "subversion": local.user_agent,
        "protocolversion": PROTOCOL_VERSION,
        "localservices": format!("{:016x}", local.services.0),
        "localservicesnames": names,
        "localrelay": local.relay,
        "timeoffset": 0,
        "networkactive": true,
        "connections": net.peers.len(),
        "connections_in": inbound,
        "connections_out": net.peers.len() - inbound,
        "networks": networks,
        "relayfee": relay_fee,
        "incrementalfee": relay_fee,
        "localaddresses": addresses,
        "warnings": [],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_the_default_port() {
        assert_eq!(
            parse_addr("10.0.0.1", 18444),
            Some("10.0.0.1:18444".parse().unwrap())
        );
        assert_eq!(
            parse_addr("[::1]:9", 18444),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(
            parse_addr("::1", 18444),
            Some("[::1]:18444".parse().unwrap())
        );
        assert_eq!(parse_addr("localhost:1", 18444), None);
    }
}
