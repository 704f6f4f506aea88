//! btcd options rbtcd does not honour. Each is refused at start with one line saying why,
//! rather than taken and ignored, or reported as an unknown option a btcd user would not
//! expect.

/// btcd's option name and why rbtcd refuses it.
pub const REFUSED: &[(&str, &str)] = &[
    (
        "addrindex",
        "rbtcd keeps no address index, so searchrawtransactions is not served",
    ),
    ("dropaddrindex", "rbtcd keeps no address index to drop"),
    (
        "dropcfindex",
        "rbtcd keeps no committed filter index to drop",
    ),
    (
        "nocfilters",
        "rbtcd serves no committed filters (BIP157/158) to disable",
    ),
    (
        "blockmaxsize",
        "rbtcd limits generated blocks by weight only: use --blockmaxweight",
    ),
    (
        "blockminsize",
        "rbtcd does not pad generated blocks to a minimum size",
    ),
    (
        "blockminweight",
        "rbtcd does not pad generated blocks to a minimum weight",
    ),
    (
        "blockprioritysize",
        "rbtcd has no priority area in generated blocks: transactions go by fee rate",
    ),
    (
        "limitfreerelay",
        "rbtcd relays no transaction below --minrelaytxfee, so there is no free relay to limit",
    ),
    (
        "norelaypriority",
        "rbtcd never relays low-fee transactions for their priority; the fee rule always applies",
    ),
    (
        "nopeerbloomfilters",
        "rbtcd serves no BIP37 bloom filters to disable",
    ),
    (
        "cpuprofile",
        "profiling is Go runtime tooling; profile rbtcd with perf or similar",
    ),
    (
        "memprofile",
        "profiling is Go runtime tooling; profile rbtcd with heaptrack or similar",
    ),
    ("traceprofile", "execution traces are Go runtime tooling"),
    ("profile", "rbtcd has no HTTP profiling server"),
    ("dbtype", "rbtcd has one block database backend (LMDB)"),
    ("prune", "rbtcd does not prune blocks yet"),
    ("nowinservice", "rbtcd does not run as a Windows service"),
    (
        "rpcquirks",
        "rbtcd does not mirror Bitcoin Core's JSON-RPC quirks",
    ),
    (
        "v2transport",
        "rbtcd speaks the v1 P2P transport only (BIP324 peers fall back to it)",
    ),
];

/// The refusal line for `arg` when it names a refused option (`--name`, `--name=value`).
pub fn check(arg: &str) -> Option<String> {
    let name = arg.strip_prefix("--")?;
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    REFUSED
        .iter()
        .find(|(refused, _)| *refused == name)
        .map(|(_, why)| format!("--{name} is not supported: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_options_name_themselves_and_why() {
        assert_eq!(
            check("--prune=2000").as_deref(),
            Some("--prune is not supported: rbtcd does not prune blocks yet")
        );
        assert!(check("--addrindex")
            .unwrap()
            .contains("searchrawtransactions"));
        assert_eq!(check("--txindex"), None);
        assert_eq!(check("prune"), None);
    }
}
