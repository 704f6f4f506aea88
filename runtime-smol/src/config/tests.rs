use super::*;

fn load_in(home: &Path, args: &[&str]) -> Result<Config, ConfigError> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    match load(&args, home)? {
        Startup::Run(c) => Ok(*c),
        other => panic!("expected a config, got {other:?}"),
    }
}

fn temp_home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbtcd-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn regtest_defaults_need_no_config_file() {
    let home = temp_home("regtest");
    let c = load_in(&home, &["--regtest"]).unwrap();
    assert_eq!(c.network, Network::Regtest);
    assert_eq!(c.config_file, None);
    assert!(
        !home.join(CONFIG_FILENAME).exists(),
        "not written on regtest"
    );
    assert_eq!(c.data_dir, home.join("data").join("regtest"));
    assert_eq!(c.listeners, ["0.0.0.0:12008".parse().unwrap()]);
    let rpc = c.rpc.expect("RPC runs without credentials, with a cookie");
    assert_eq!((rpc.admin, rpc.limited), (None, None));
    assert_eq!(rpc.cookie, Some(c.data_dir.join(".cookie")));
    assert_eq!(rpc.listeners, ["127.0.0.1:12009".parse().unwrap()]);
    let c = load_in(
        &home,
        &["--regtest", "--rpclimituser=l", "--rpclimitpass=p"],
    )
    .unwrap();
    assert_eq!(
        c.rpc.unwrap().cookie,
        None,
        "a limited user is a configured user"
    );
    let c = load_in(&home, &["--regtest", "--rpcuser=a", "--rpcpass=p"]).unwrap();
    assert_eq!(c.rpc.unwrap().cookie, None);
    assert_eq!(load_in(&home, &["--regtest", "--norpc"]).unwrap().rpc, None);
    assert_eq!(c.max_peers, 125);
    assert_eq!(c.ban_duration, Duration::from_secs(86_400));
}

#[test]
fn mainnet_writes_a_default_config_with_random_credentials() {
    let home = temp_home("mainnet");
    let c = load_in(&home, &[]).unwrap();
    assert_eq!(c.config_file, Some(home.join(CONFIG_FILENAME)));
    let rpc = c.rpc.expect("credentials from the new file enable RPC");
    let (user, pass) = rpc.admin.unwrap();
    assert_eq!(user.len(), 28);
    assert_ne!(user, pass);
    assert_eq!(rpc.listeners, ["127.0.0.1:12009".parse().unwrap()]);
    let again = load_in(&home, &[]).unwrap();
    assert_eq!(again.rpc.unwrap().admin.unwrap().0, user, "file is reused");
}

#[test]
fn command_line_overrides_file() {
    let home = temp_home("override");
    let file = home.join("my.conf");
    std::fs::write(
        &file,
        "[Application Options]\nmaxpeers=5\nrpcuser=a\nrpcpass=b\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let c = load_in(&home, &["-C", path, "--regtest", "--maxpeers=9"]).unwrap();
    assert_eq!(c.max_peers, 9);
    assert_eq!(c.rpc.unwrap().admin, Some(("a".into(), "b".into())));
}

#[test]
fn ports_and_listeners_are_overridable() {
    let home = temp_home("ports");
    let c = load_in(
        &home,
        &[
            "--regtest",
            "--listen=:18444",
            "--listen=127.0.0.1",
            "--rpcuser=u",
            "--rpcpass=p",
            "--rpclisten=127.0.0.1:18443",
        ],
    )
    .unwrap();
    assert_eq!(
        c.listeners,
        [
            "0.0.0.0:18444".parse().unwrap(),
            "127.0.0.1:12008".parse().unwrap()
        ]
    );
    assert_eq!(
        c.rpc.unwrap().listeners,
        ["127.0.0.1:18443".parse().unwrap()]
    );
}

#[test]
fn connect_implies_nolisten_and_no_dns_seeding() {
    let home = temp_home("connect");
    let c = load_in(&home, &["--regtest", "--connect=10.0.0.1"]).unwrap();
    assert!(c.listeners.is_empty());
    assert!(!c.dns_seed);
}

#[test]
fn btcd_validation_rules() {
    let home = temp_home("rules");
    let cases: &[(&[&str], ConfigError)] = &[
        (&["--regtest", "--testnet"], ConfigError::TooManyNetworks),
        (&["--regtest", "--maxpeers=0"], ConfigError::MaxPeers(0)),
        (
            &["--regtest", "--whitelist=nonsense"],
            ConfigError::Whitelist("nonsense".into()),
        ),
        (
            &["--regtest", "--addpeer=a", "--connect=b"],
            ConfigError::AddPeerWithConnect,
        ),
        (
            &["--regtest", "--rpcuser=x", "--rpclimituser=x"],
            ConfigError::SameRpcUser,
        ),
        (
            &["--regtest", "--rpcpass=x", "--rpclimitpass=x"],
            ConfigError::SameRpcPass,
        ),
        (
            &["--regtest", "--maxorphantx=-1"],
            ConfigError::Negative("maxorphantx", -1),
        ),
        (
            &["--regtest", "--blockmaxweight=10"],
            ConfigError::BlockMaxWeight(10),
        ),
        (
            &["--regtest", "--generate"],
            ConfigError::GenerateWithoutMiningAddr,
        ),
        (
            &["--regtest", "--minrelaytxfee=-1"],
            ConfigError::MinRelayTxFee(-1.0),
        ),
    ];
    for (args, want) in cases {
        assert_eq!(load_in(&home, args).unwrap_err(), *want, "{args:?}");
    }
    let short_ban = load_in(&home, &["--regtest", "--banduration=500ms"]).unwrap_err();
    assert!(matches!(short_ban, ConfigError::BanDuration(_)));
    assert!(matches!(
        load_in(&home, &["--bogus"]).unwrap_err(),
        ConfigError::CommandLine(_)
    ));
}

#[test]
fn bad_config_file_names_file_and_line() {
    let home = temp_home("badfile");
    let file = home.join("bad.conf");
    std::fs::write(&file, "maxpeers=3\nnosuchoption=1\n").unwrap();
    let e = load_in(&home, &["-C", file.to_str().unwrap()]).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("bad.conf") && text.contains("line 2"),
        "{text}"
    );
    assert!(!text.contains('\n'), "one line: {text}");
}

#[test]
fn version_and_show_short_circuit() {
    let home = temp_home("show");
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches!(
        load(&args(&["-V"]), &home),
        Ok(Startup::ShowVersion)
    ));
    assert!(matches!(
        load(&args(&["--regtest", "--debuglevel=show"]), &home),
        Ok(Startup::ShowSubsystems)
    ));
}

#[test]
fn proxies_and_onion_options_as_btcd() {
    use crate::p2p::socks5::Proxy;
    let home = temp_home("proxy");
    let c = load_in(
        &home,
        &[
            "--regtest",
            "--proxy=127.0.0.1:9050",
            "--proxyuser=u",
            "--proxypass=p",
            "--onion=127.0.0.1:9150",
        ],
    )
    .unwrap();
    assert_eq!(
        c.dialer.proxy,
        Some(Proxy {
            addr: "127.0.0.1:9050".parse().unwrap(),
            credentials: Some(("u".into(), "p".into())),
        })
    );
    assert_eq!(c.dialer.onion.as_ref().unwrap().credentials, None);
    assert!(
        c.listeners.is_empty(),
        "a proxy turns listening off, as btcd"
    );
    assert_eq!(c.proxy.as_deref(), Some("127.0.0.1:9050"));

    assert_eq!(
        load_in(&home, &["--regtest", "--onion=127.0.0.1:9150", "--noonion"]),
        Err(ConfigError::OnionWithNoOnion)
    );
    let e = load_in(&home, &["--regtest", "--proxy=127.0.0.1"]).unwrap_err();
    assert!(
        matches!(e, ConfigError::ProxyAddress("proxy", _, _)),
        "{e:?}"
    );
    assert!(e
        .to_string()
        .starts_with("proxy address '127.0.0.1' is invalid"));
    assert_eq!(
        load_in(&home, &["--regtest", "--torisolation"]),
        Err(ConfigError::TorIsolationWithoutProxy)
    );
    let isolated = load_in(
        &home,
        &["--regtest", "--torisolation", "--proxy=127.0.0.1:9050"],
    );
    assert!(isolated.unwrap().dialer.tor_isolation);
}

#[test]
fn onion_peers_become_onioncat_addresses() {
    let addrs = resolve_addrs(
        &[
            "expyuzz4wqqyqhjn.onion".into(),
            "expyuzz4wqqyqhjn.onion:9".into(),
        ],
        18444,
    )
    .unwrap();
    let ip = crate::p2p::onion::to_ip("expyuzz4wqqyqhjn.onion").unwrap();
    assert_eq!(addrs, [SocketAddr::new(ip, 18444), SocketAddr::new(ip, 9)]);
}

#[test]
fn txindex_and_droptxindex_do_not_mix() {
    let home = temp_home("txindex");
    let c = load_in(&home, &["--regtest", "--txindex"]).unwrap();
    assert!(c.tx_index && !c.drop_tx_index);
    assert_eq!(
        load_in(&home, &["--regtest", "--txindex", "--droptxindex"]),
        Err(ConfigError::TxIndexWithDrop)
    );
}

#[test]
fn ibd_options_have_btcds_and_cores_names_and_defaults() {
    let home = temp_home("ibd");
    let c = load_in(&home, &["--regtest"]).unwrap();
    assert_eq!(c.utxo_cache_mib, 250);
    assert_eq!(c.sig_cache_entries, 100_000);
    assert_eq!(c.assume_valid, AssumeValid::NetworkDefault);
    let hash = "000000000000000000026811d149d4d261995ec5b3f64f439a0a10e1a464af9a";
    let c = load_in(
        &home,
        &[
            "--regtest",
            "--utxocachemaxsize=16",
            "--sigcachemaxsize=5",
            &format!("--assumevalid={hash}"),
        ],
    )
    .unwrap();
    assert_eq!((c.utxo_cache_mib, c.sig_cache_entries), (16, 5));
    assert_eq!(c.assume_valid, AssumeValid::Block(hash.parse().unwrap()));
    let c = load_in(&home, &["--regtest", "--assumevalid=0"]).unwrap();
    assert_eq!(c.assume_valid, AssumeValid::Off);
    assert_eq!(
        load_in(&home, &["--regtest", "--assumevalid=zz"]),
        Err(ConfigError::AssumeValid("zz".into()))
    );
    assert_eq!(
        load_in(&home, &["--regtest", "--utxocachemaxsize=-1"]),
        Err(ConfigError::Negative("utxocachemaxsize", -1))
    );
}

#[test]
fn extreme_numbers_and_durations_are_refused_or_saturate_never_panic() {
    let home = temp_home("extremes");
    let params = Params::new(Network::Regtest);
    let numbers = [
        "0",
        "-1",
        "1",
        "4294967295",
        "4294967296",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "99999999999999999999999",
        "1e308",
        "-1e308",
        "NaN",
        "inf",
        "0x10",
        "",
    ];
    let options = [
        "maxpeers",
        "banthreshold",
        "rpcmaxclients",
        "rpcmaxwebsockets",
        "rpcmaxconcurrentreqs",
        "genproclimit",
        "blockmaxweight",
        "minrelaytxfee",
        "maxorphantx",
    ];
    let mut accepted = 0;
    for option in options {
        for value in numbers {
            let arg = format!("--{option}={value}");
            // Refused with a line the user can act on, or taken and turned into node options.
            if let Ok(c) = load_in(&home, &["--regtest", "--rpcuser=u", "--rpcpass=p", &arg]) {
                node::node_config(&c, &params).unwrap();
                accepted += 1;
            }
        }
    }
    assert!(accepted > 0, "some extreme values are valid");
    let durations = [
        "5000000000000000h5000000000000000h",
        "5000000000000000h",
        "99999999999999999999h",
        "1e308h",
        "0.000000001ms",
        "-5s",
    ];
    for value in durations {
        match load_in(&home, &["--regtest", &format!("--banduration={value}")]) {
            Ok(c) => {
                let n = node::node_config(&c, &params).unwrap();
                assert!(n.ban_duration >= Duration::from_secs(1), "{value}");
            }
            Err(e) => assert!(e.to_string().starts_with("invalid banduration"), "{e}"),
        }
    }
    // The longest duration that parses saturates to a ban for good.
    let c = load_in(&home, &["--regtest", "--banduration=5000000000000000h"]).unwrap();
    let ban = node::node_config(&c, &params).unwrap().ban_duration;
    assert_eq!(
        rbtcd_core::time::Time::from_millis(1) + ban,
        rbtcd_core::time::Time::from_millis(u64::MAX)
    );
}

#[test]
fn peer_options_take_btcds_meanings() {
    let home = temp_home("peer-options");
    let c = load_in(
        &home,
        &[
            "--testnet4",
            "--blocksonly",
            "--nostalldetect",
            "--trickleinterval=500ms",
            "--agentblacklist=bad,worse",
            "--agentblacklist=worst",
            "--agentwhitelist=btcd",
            "--uacomment=pool",
            "--uacomment=eu",
        ],
    )
    .unwrap();
    assert_eq!(c.network, Network::Testnet4);
    assert!(c.blocks_only && c.no_stall_detect);
    assert_eq!(c.trickle_interval, Duration::from_millis(500));
    assert_eq!(c.agent_blacklist, ["bad", "worse", "worst"]);
    assert_eq!(c.agent_whitelist, ["btcd"]);
    assert!(c.user_agent.ends_with("(pool; eu)/"), "{}", c.user_agent);
    let default = load_in(&home, &["--regtest"]).unwrap();
    assert_eq!(default.trickle_interval, Duration::from_secs(10));
    assert!(load_in(&home, &["--regtest", "--trickleinterval=0s"]).is_err());
    assert!(matches!(
        load_in(&home, &["--regtest", "--uacomment=a/b"]),
        Err(ConfigError::UserAgent(_))
    ));
}

#[test]
fn non_standard_relay_follows_the_network_unless_told() {
    let home = temp_home("nonstd");
    let accepts = |args: &[&str]| load_in(&home, args).unwrap().accept_non_std;
    assert!(!accepts(&[]), "mainnet refuses them");
    assert!(!accepts(&["--signet"]));
    assert!(accepts(&["--regtest"]));
    assert!(accepts(&["--testnet4"]));
    assert!(!accepts(&["--regtest", "--rejectnonstd"]));
    assert!(accepts(&["--relaynonstd"]));
    assert_eq!(
        load_in(&home, &["--rejectnonstd", "--relaynonstd"]),
        Err(ConfigError::NonStdBoth)
    );
}

#[test]
fn checkpoints_can_be_added_or_dropped() {
    let home = temp_home("checkpoints");
    let hash = "000000000000000000026ad78c4aa7ec7e81dee6d2ae84ddb3d1fc7c0d3b3c3c";
    let added = format!("--addcheckpoint=800000:{hash}");
    let c = load_in(&home, &[added.as_str()]).unwrap();
    let params = c.params();
    let builtin = Params::new(Network::Mainnet).checkpoints.len();
    assert_eq!(params.checkpoints.len(), builtin + 1);
    assert_eq!(params.last_checkpoint().unwrap().height, 800_000);
    let only = load_in(&home, &["--nocheckpoints", added.as_str()]).unwrap();
    assert_eq!(only.params().checkpoints.len(), 1);
    assert!(load_in(&home, &["--nocheckpoints"])
        .unwrap()
        .params()
        .checkpoints
        .is_empty());
    assert!(matches!(
        load_in(&home, &["--addcheckpoint=12"]),
        Err(ConfigError::Checkpoint(_))
    ));
}

#[test]
fn a_custom_signet_is_its_own_network() {
    let home = temp_home("signet");
    let c = load_in(
        &home,
        &[
            "--signet",
            "--signetchallenge=51",
            "--signetseednode=seed.example",
        ],
    )
    .unwrap();
    let params = c.params();
    assert_ne!(params.magic, Params::new(Network::Signet).magic);
    assert_eq!(params.dns_seeds, ["seed.example"]);
    let seeds_only = load_in(&home, &["--signet", "--signetseednode=s.example"]).unwrap();
    assert_eq!(
        seeds_only.params().magic,
        Params::new(Network::Signet).magic
    );
    assert_eq!(seeds_only.params().dns_seeds, ["s.example"]);
    assert!(matches!(
        load_in(&home, &["--signetchallenge=51"]),
        Err(ConfigError::Signet(_))
    ));
    assert!(matches!(
        load_in(&home, &["--signet", "--signetchallenge=zz"]),
        Err(ConfigError::Signet(_))
    ));
}

#[test]
fn options_with_nothing_to_do_are_refused() {
    let home = temp_home("refusals");
    let refused = |args: &[&str]| load_in(&home, args).unwrap_err().to_string();
    assert!(refused(&["--regtest", "--upnp", "--nolisten"]).contains("--upnp"));
    assert!(refused(&["--regtest", "--upnp", "--externalip=1.2.3.4"]).contains("--upnp"));
    let line = refused(&[
        "--regtest",
        "--rpcuser=u",
        "--rpcpass=p",
        "--notls",
        "--rpclisten=0.0.0.0:1",
    ]);
    assert!(line.contains("--notls"), "{line}");
    assert!(load_in(
        &home,
        &["--regtest", "--rpcuser=u", "--rpcpass=p", "--notls"]
    )
    .is_ok());
    assert!(refused(&["--regtest", "--rpcmaxconcurrentreqs=0"]).contains("rpcmaxconcurrentreqs"));
    assert!(refused(&["--regtest", "--addrindex"]).contains("--addrindex is not supported"));
    let file = home.join("btcd.conf");
    std::fs::write(&file, "[Application Options]\nprune=2000\n").unwrap();
    let from_file = refused(&["--regtest", "-C", file.to_str().unwrap()]);
    assert!(
        from_file.contains("--prune is not supported"),
        "{from_file}"
    );
}

#[test]
fn remaining_btcd_options_resolve() {
    let home = temp_home("remaining");
    let c = load_in(
        &home,
        &[
            "--simnet",
            "--datadir=/tmp/rbtcd-data",
            "--logdir=/tmp/rbtcd-logs",
            "--banthreshold=40",
            "--nobanning",
            "--rpcuser=u",
            "--rpcpass=p",
            "--rpcmaxwebsockets=3",
            "--rpcmaxconcurrentreqs=1",
            "--rejectreplacement",
        ],
    )
    .unwrap();
    assert_eq!(c.network, Network::Simnet);
    assert_eq!(c.data_dir, PathBuf::from("/tmp/rbtcd-data/simnet"));
    assert_eq!(c.log_dir, PathBuf::from("/tmp/rbtcd-logs/simnet"));
    assert_eq!((c.ban_threshold, c.no_banning), (40, true));
    let rpc = c.rpc.unwrap();
    assert_eq!((rpc.max_websockets, rpc.max_concurrent_reqs), (3, 1));
    assert!(!c.dns_seed, "simnet has no seeding");
}

#[test]
fn rpc_certificate_and_key_default_to_the_home_directory() {
    let home = temp_home("rpccert");
    let tls = |args: &[&str]| load_in(&home, args).unwrap().rpc.unwrap().tls;
    assert_eq!(
        tls(&["--regtest"]),
        Some(TlsFiles {
            cert: home.join("rpc.cert"),
            key: home.join("rpc.key"),
        }),
        "btcd's defaults: TLS on, the pair in the home directory for every network"
    );
    assert_eq!(
        tls(&["--regtest", "--rpccert=/etc/a.pem", "--rpckey=~/b.pem"]),
        Some(TlsFiles {
            cert: PathBuf::from("/etc/a.pem"),
            key: home.parent().unwrap().join("b.pem"),
        })
    );
    let file = home.join("tls.conf");
    std::fs::write(&file, "[Application Options]\nrpccert=/x/c\nrpckey=/x/k\n").unwrap();
    let from_file = tls(&["--regtest", "-C", file.to_str().unwrap()]).unwrap();
    assert_eq!(
        (from_file.cert, from_file.key),
        ("/x/c".into(), "/x/k".into())
    );
    assert_eq!(tls(&["--regtest", "--notls"]), None);
}

#[test]
fn persistmempool_is_on_unless_set_to_zero_as_core() {
    let home = temp_home("persistmempool");
    let persist = |args: &[&str]| load_in(&home, args).unwrap().persist_mempool;
    assert!(persist(&["--regtest"]));
    assert!(!persist(&["--regtest", "--persistmempool=0"]));
    assert!(persist(&["--regtest", "--persistmempool=1"]));
    let file = home.join("mempool.conf");
    std::fs::write(&file, "[Application Options]\npersistmempool=0\n").unwrap();
    assert!(!persist(&["--regtest", "-C", file.to_str().unwrap()]));
    // The command line wins over the file.
    assert!(persist(&[
        "--regtest",
        "-C",
        file.to_str().unwrap(),
        "--persistmempool=1"
    ]));
}
