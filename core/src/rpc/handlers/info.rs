//! Node facts: network, version, uptime, help, address validation.

use super::chain::difficulty;
use super::{Context, NodeInfo};
use crate::address::{Address, Payload};
use crate::params::Network;
use crate::primitives::hash::hex_encode;
use crate::rpc::error::RpcError;
use crate::rpc::params::Params;
use crate::wire::protocol::PROTOCOL_VERSION;
use serde_json::{json, Map, Value};

/// The JSON-RPC API version btcd reports, which rbtcd implements.
const API_VERSION: (u32, u32, u32) = (1, 3, 0);

/// `getcurrentnet`: the network's magic as a number, as btcd.
pub fn get_current_net(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(u32::from_le_bytes(ctx.chain.params().magic)))
}

/// `getinfo`: btcd's summary of version, chain and relay settings.
pub fn get_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let tip = ctx.chain.tip();
    Ok(json!({
        "version": numeric_version(ctx.info),
        "protocolversion": PROTOCOL_VERSION,
        "blocks": tip.height,
        "timeoffset": 0,
        "connections": ctx.net.peers.len(),
        "proxy": ctx.info.proxy,
        "difficulty": difficulty(tip.header.bits),
        "testnet": matches!(ctx.chain.params().network, Network::Testnet3 | Network::Testnet4),
        "relayfee": ctx.mempool.policy().min_relay_fee_per_kvb as f64 / 100_000_000.0,
        "errors": "",
    }))
}

/// The daemon's version as one number, as btcd's `getinfo` (and Core) give it.
pub fn numeric_version(info: &NodeInfo) -> u32 {
    let (major, minor, patch) = info.version;
    1_000_000 * major + 10_000 * minor + 100 * patch
}

/// `uptime`: seconds since the daemon started.
pub fn uptime(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(ctx.now.saturating_sub(ctx.info.start_time)))
}

/// `version`: the JSON-RPC API version under btcd's key.
pub fn version(_: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let (major, minor, patch) = API_VERSION;
    Ok(json!({
        "btcdjsonrpcapi": {
            "versionstring": format!("{major}.{minor}.{patch}"),
            "major": major,
            "minor": minor,
            "patch": patch,
            "prerelease": "",
            "buildmetadata": "",
        }
    }))
}

/// `validateaddress address`: whether it is valid for this network, and what it pays to.
pub fn validate_address(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let s = p.str(0, "address")?;
    let mut m = Map::new();
    let Ok(addr) = Address::from_str_for(s, ctx.chain.params()) else {
        m.insert("isvalid".into(), json!(false));
        return Ok(Value::Object(m));
    };
    m.insert("isvalid".into(), json!(true));
    m.insert("address".into(), json!(addr.to_string()));
    match addr.payload() {
        Payload::PubKeyHash(_) => {
            m.insert("isscript".into(), json!(false));
            m.insert("iswitness".into(), json!(false));
        }
        Payload::ScriptHash(_) => {
            m.insert("isscript".into(), json!(true));
            m.insert("iswitness".into(), json!(false));
        }
        Payload::Witness(w) => {
            // btcd marks P2WSH as a script; taproot and later versions it leaves unmarked.
            if w.version() == 0 {
                m.insert("isscript".into(), json!(w.program().len() == 32));
            }
            m.insert("iswitness".into(), json!(true));
            m.insert("witness_version".into(), json!(w.version()));
            m.insert("witness_program".into(), json!(hex_encode(w.program())));
        }
    }
    Ok(Value::Object(m))
}
