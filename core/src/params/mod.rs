//! Network parameters: mainnet, testnet3, testnet4, signet (default or custom), regtest and
//! simnet.

mod genesis;

pub use genesis::{genesis_block, genesis_coinbase, testnet4_genesis_block};

use crate::primitives::{Block, BlockHash, Work, U256};
use std::fmt;
use std::str::FromStr;

/// rbtcd's default P2P port on every network (the operators' choice; override with `listen`).
pub const DEFAULT_P2P_PORT: u16 = 12008;
/// rbtcd's default JSON-RPC port on every network (override with `rpclisten`).
pub const DEFAULT_RPC_PORT: u16 = 12009;
/// BIP94: how much older than its parent a retarget period's first block may be, seconds.
pub const MAX_TIMEWARP: u32 = 600;
/// The default signet's challenge: a 1-of-2 multisig (BIP325).
pub const DEFAULT_SIGNET_CHALLENGE: &str = "512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae";

/// Which Bitcoin network a node is on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Network {
    /// The main network.
    Mainnet,
    /// The public test network, version 3.
    Testnet3,
    /// The public test network, version 4 (BIP94).
    Testnet4,
    /// The default public signet.
    Signet,
    /// Local regression testing: trivial difficulty, no retargeting.
    Regtest,
    /// btcd's simulation network.
    Simnet,
}

impl Network {
    /// All networks.
    pub const ALL: [Network; 6] = [
        Network::Mainnet,
        Network::Testnet3,
        Network::Testnet4,
        Network::Signet,
        Network::Regtest,
        Network::Simnet,
    ];

    /// The name btcd uses (`getcurrentnet`, data directory names).
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet3 => "testnet3",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
            Network::Simnet => "simnet",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A network name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNetwork(pub String);

impl fmt::Display for UnknownNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown network {:?} (expected mainnet, testnet3, testnet4, signet, regtest or simnet)",
            self.0
        )
    }
}

impl std::error::Error for UnknownNetwork {}

impl FromStr for Network {
    type Err = UnknownNetwork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Network::ALL
            .into_iter()
            .find(|n| n.name() == s || (s == "testnet" && *n == Network::Testnet3))
            .ok_or_else(|| UnknownNetwork(s.to_string()))
    }
}

/// A block hash the chain must have at a given height.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Checkpoint {
    /// Height of the checkpointed block.
    pub height: u32,
    /// Its hash.
    pub hash: BlockHash,
}

/// Consensus and network parameters of one network.
#[derive(Clone, Debug)]
pub struct Params {
    /// Which network.
    pub network: Network,
    /// Message start bytes.
    pub magic: [u8; 4],
    /// Default P2P listen port (rbtcd's own, the same on every network).
    pub default_port: u16,
    /// The network's standard P2P port (8333 on mainnet): the port of an address that carries
    /// none of its own, such as a DNS seed's answers or a `connect` peer given without one.
    pub standard_port: u16,
    /// Default RPC port.
    pub rpc_port: u16,
    /// The genesis block.
    pub genesis: Block,
    /// The genesis block's hash.
    pub genesis_hash: BlockHash,
    /// The easiest target allowed.
    pub pow_limit: U256,
    /// `pow_limit` in compact form.
    pub pow_limit_bits: u32,
    /// Seconds a retarget period should take (two weeks).
    pub target_timespan: u32,
    /// Seconds between blocks the network aims for.
    pub target_spacing: u32,
    /// Largest factor difficulty may change by at one retarget.
    pub retarget_adjustment_factor: u32,
    /// Testnet rule: a block more than `min_diff_reduction_time` after its parent may use
    /// `pow_limit`.
    pub reduce_min_difficulty: bool,
    /// Seconds after which the minimum-difficulty rule applies.
    pub min_diff_reduction_time: u32,
    /// Regtest rule: difficulty never changes.
    pub no_retargeting: bool,
    /// Blocks between subsidy halvings.
    pub subsidy_halving_interval: u32,
    /// Confirmations before a coinbase output may be spent.
    pub coinbase_maturity: u32,
    /// Height from which pay-to-script-hash is enforced (BIP16).
    pub bip16_height: u32,
    /// Height from which the coinbase must start with the height (BIP34).
    pub bip34_height: u32,
    /// The block at `bip34_height` on this network's real chain, when it has one: a chain
    /// through it cannot repeat a coinbase, so BIP30 need not be checked (Core's `BIP34Hash`).
    pub bip34_hash: Option<BlockHash>,
    /// Height from which OP_CHECKLOCKTIMEVERIFY is enforced (BIP65).
    pub bip65_height: u32,
    /// Height from which strict DER signatures are enforced (BIP66).
    pub bip66_height: u32,
    /// Height from which BIP68/112/113 (CSV) are enforced.
    pub csv_height: u32,
    /// Height from which segregated witness (BIP141/143/147) is enforced.
    pub segwit_height: u32,
    /// Height from which taproot (BIP341/342) is enforced.
    pub taproot_height: u32,
    /// Known-good blocks.
    pub checkpoints: Vec<Checkpoint>,
    /// The block whose ancestors' scripts are assumed valid by default (Core's
    /// `defaultAssumeValid`, from Bitcoin Core 27's published parameters).
    pub default_assume_valid: Option<BlockHash>,
    /// The least work a best header chain must have for assumevalid to apply (Core's
    /// `nMinimumChainWork`, same release).
    pub min_chain_work: Work,
    /// DNS seeds queried for peer addresses (`signetseednode` replaces signet's).
    pub dns_seeds: Vec<String>,
    /// BIP94 (testnet4): retargets start from the period's first block's difficulty, and a
    /// period's first block may not be more than [`MAX_TIMEWARP`] seconds older than its parent.
    pub enforce_bip94: bool,
    /// The signet block challenge (BIP325), set for signet only. rbtcd, like btcd, does not
    /// check block solutions against it; it names the network (the message start).
    pub signet_challenge: Option<Vec<u8>>,
    /// Bech32 human-readable part for segwit addresses.
    pub bech32_hrp: &'static str,
    /// Base58 version byte of pay-to-pubkey-hash addresses.
    pub pubkey_hash_addr_id: u8,
    /// Base58 version byte of pay-to-script-hash addresses.
    pub script_hash_addr_id: u8,
    /// Base58 version byte of WIF private keys.
    pub private_key_id: u8,
    /// Whether `generate` is allowed (regtest and simnet only, as in btcd).
    pub generate_supported: bool,
}

fn checkpoints(list: &[(u32, &str)]) -> Vec<Checkpoint> {
    list.iter()
        .map(|(h, s)| Checkpoint {
            height: *h,
            hash: s.parse().expect("constant checkpoint hash"),
        })
        .collect()
}

fn work(hex: &str) -> Work {
    Work(U256::from_hex(hex).expect("constant chain work"))
}

fn hash(hex: &str) -> BlockHash {
    hex.parse().expect("constant block hash")
}

fn seeds(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn pow_limit(hex: &str) -> U256 {
    U256::from_hex(hex).expect("constant pow limit")
}

impl Params {
    /// The parameters of `network`.
    pub fn new(network: Network) -> Params {
        match network {
            Network::Mainnet => Self::mainnet(),
            Network::Testnet3 => Self::testnet3(),
            Network::Testnet4 => Self::testnet4(),
            Network::Signet => Self::signet(),
            Network::Regtest => Self::regtest(),
            Network::Simnet => Self::simnet(),
        }
    }

    fn base(network: Network, magic: [u8; 4], genesis: Block, limit: &str, bits: u32) -> Params {
        let genesis_hash = genesis.block_hash();
        let standard_port = match network {
            Network::Mainnet => 8333,
            Network::Testnet3 => 18333,
            Network::Testnet4 => 48333,
            Network::Signet => 38333,
            Network::Regtest => 18444,
            Network::Simnet => 18555,
        };
        Params {
            network,
            magic,
            default_port: DEFAULT_P2P_PORT,
            standard_port,
            rpc_port: DEFAULT_RPC_PORT,
            genesis,
            genesis_hash,
            pow_limit: pow_limit(limit),
            pow_limit_bits: bits,
            target_timespan: 14 * 24 * 60 * 60,
            target_spacing: 10 * 60,
            retarget_adjustment_factor: 4,
            reduce_min_difficulty: false,
            min_diff_reduction_time: 20 * 60,
            no_retargeting: false,
            subsidy_halving_interval: 210_000,
            coinbase_maturity: 100,
            bip16_height: 0,
            bip34_height: 1,
            bip34_hash: None,
            bip65_height: 1,
            bip66_height: 1,
            csv_height: 1,
            segwit_height: 0,
            taproot_height: 0,
            checkpoints: Vec::new(),
            default_assume_valid: None,
            min_chain_work: Work::ZERO,
            dns_seeds: Vec::new(),
            enforce_bip94: false,
            signet_challenge: None,
            bech32_hrp: "tb",
            pubkey_hash_addr_id: 0x6f,
            script_hash_addr_id: 0xc4,
            private_key_id: 0xef,
            generate_supported: false,
        }
    }

    fn mainnet() -> Params {
        Params {
            // The first block after BIP16's switch time (April 1, 2012).
            bip16_height: 173_805,
            bip34_height: 227_931,
            bip34_hash: Some(hash(
                "000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8",
            )),
            // Height 824,000.
            default_assume_valid: Some(hash(
                "000000000000000000026811d149d4d261995ec5b3f64f439a0a10e1a464af9a",
            )),
            min_chain_work: work("63c4ebd298db40af57541800"),
            bip65_height: 388_381,
            bip66_height: 363_725,
            csv_height: 419_328,
            segwit_height: 481_824,
            taproot_height: 709_632,
            checkpoints: checkpoints(&[
                (
                    11111,
                    "0000000069e244f73d78e8fd29ba2fd2ed618bd6fa2ee92559f542fdb26e7c1d",
                ),
                (
                    33333,
                    "000000002dd5588a74784eaa7ab0507a18ad16a236e7b1ce69f00d7ddfb5d0a6",
                ),
                (
                    74000,
                    "0000000000573993a3c9e41ce34471c079dcf5f52a0e824a81e7f953b8661a20",
                ),
                (
                    105000,
                    "00000000000291ce28027faea320c8d2b054b2e0fe44a773f3eefb151d6bdc97",
                ),
                (
                    134444,
                    "00000000000005b12ffd4cd315cd34ffd4a594f430ac814c91184a0d42d2b0fe",
                ),
                (
                    168000,
                    "000000000000099e61ea72015e79632f216fe6cb33d7899acb35b75c8303b763",
                ),
                (
                    193000,
                    "000000000000059f452a5f7340de6682a977387c17010ff6e6c3bd83ca8b1317",
                ),
                (
                    210000,
                    "000000000000048b95347e83192f69cf0366076336c639f9b7228e9ba171342e",
                ),
                (
                    216116,
                    "00000000000001b4f4b433e81ee46494af945cf96014816a4e2370f11b23df4e",
                ),
                (
                    225430,
                    "00000000000001c108384350f74090433e7fcf79a606b8e797f065b130575932",
                ),
                (
                    250000,
                    "000000000000003887df1f29024b06fc2200b55f8af8f35453d7be294df2d214",
                ),
                (
                    267300,
                    "000000000000000a83fbd660e918f218bf37edd92b748ad940483c7c116179ac",
                ),
                (
                    279000,
                    "0000000000000001ae8c72a0b0c301f67e3afca10e819efa9041e458e9bd7e40",
                ),
                (
                    295000,
                    "00000000000000004d9b4ef50f0f9d686fd69db2e03af35a100370c64632a983",
                ),
            ]),
            dns_seeds: seeds(&[
                "seed.bitcoin.sipa.be",
                "dnsseed.bluematt.me",
                "dnsseed.bitcoin.dashjr-list-of-p2p-nodes.us",
                "seed.bitcoinstats.com",
                "seed.bitcoin.jonasschnelli.ch",
                "seed.btc.petertodd.net",
                "seed.bitcoin.sprovoost.nl",
                "dnsseed.emzy.de",
                "seed.bitcoin.wiz.biz",
            ]),
            bech32_hrp: "bc",
            pubkey_hash_addr_id: 0x00,
            script_hash_addr_id: 0x05,
            private_key_id: 0x80,
            ..Self::base(
                Network::Mainnet,
                [0xf9, 0xbe, 0xb4, 0xd9],
                genesis_block(1231006505, 2083236893, 0x1d00ffff),
                "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                0x1d00ffff,
            )
        }
    }

    fn testnet3() -> Params {
        Params {
            reduce_min_difficulty: true,
            bip16_height: 514,
            bip34_height: 21_111,
            bip34_hash: Some(hash(
                "0000000023b3a96d3484e5abb3755c413e7d41500f8e2a5c3f0dd01299cd8ef8",
            )),
            // Height 2,550,000.
            default_assume_valid: Some(hash(
                "000000000001323071f38f21ea5aae529ece491eadaccce506a59bcc2d968917",
            )),
            min_chain_work: work("0c59b14e264ba6c15db9"),
            bip65_height: 581_885,
            bip66_height: 330_776,
            csv_height: 770_112,
            segwit_height: 834_624,
            taproot_height: 2_011_968,
            checkpoints: checkpoints(&[(
                546,
                "000000002a936ca763904c3c35fce2f3556c559c0214345d31b1bcebf76acb70",
            )]),
            dns_seeds: seeds(&[
                "testnet-seed.bitcoin.jonasschnelli.ch",
                "seed.tbtc.petertodd.net",
                "seed.testnet.bitcoin.sprovoost.nl",
                "testnet-seed.bluematt.me",
            ]),
            ..Self::base(
                Network::Testnet3,
                [0x0b, 0x11, 0x09, 0x07],
                genesis_block(1296688602, 414098458, 0x1d00ffff),
                "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                0x1d00ffff,
            )
        }
    }

    fn testnet4() -> Params {
        Params {
            reduce_min_difficulty: true,
            enforce_bip94: true,
            dns_seeds: seeds(&[
                "seed.testnet4.bitcoin.sprovoost.nl",
                "seed.testnet4.wiz.biz",
            ]),
            ..Self::base(
                Network::Testnet4,
                [0x1c, 0x16, 0x3f, 0x28],
                testnet4_genesis_block(),
                "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                0x1d00ffff,
            )
        }
    }

    fn signet() -> Params {
        let challenge = crate::primitives::hash::hex_decode(DEFAULT_SIGNET_CHALLENGE)
            .expect("constant signet challenge");
        // The default signet's assumed block (height 180,000) and work; a custom signet has
        // neither, as in Core.
        Params {
            default_assume_valid: Some(hash(
                "0000000870f15246ba23c16e370a7ffb1fc8a3dcf8cb4492882ed4b0e3d4cd26",
            )),
            min_chain_work: work("0206e86f08e8"),
            ..Self::custom_signet(challenge, seeds(&["seed.signet.bitcoin.sprovoost.nl"]))
        }
    }

    /// A signet defined by its block `challenge` (`signetchallenge`), found through `seeds`
    /// (`signetseednode`): the default signet's rules and genesis, with the message start
    /// taken from the challenge as BIP325 defines it.
    pub fn custom_signet(challenge: Vec<u8>, seeds: Vec<String>) -> Params {
        let mut pushed = Vec::with_capacity(challenge.len() + 9);
        crate::primitives::encode::write_compact_size(&mut pushed, challenge.len() as u64);
        pushed.extend_from_slice(&challenge);
        let digest = crate::primitives::hash::sha256d(&pushed);
        let magic = [digest[0], digest[1], digest[2], digest[3]];
        Params {
            dns_seeds: seeds,
            signet_challenge: Some(challenge),
            ..Self::base(
                Network::Signet,
                magic,
                genesis_block(1598918400, 52613770, 0x1e0377ae),
                "00000377ae000000000000000000000000000000000000000000000000000000",
                0x1e0377ae,
            )
        }
    }

    fn regtest() -> Params {
        Params {
            reduce_min_difficulty: true,
            no_retargeting: true,
            subsidy_halving_interval: 150,
            bech32_hrp: "bcrt",
            generate_supported: true,
            ..Self::base(
                Network::Regtest,
                [0xfa, 0xbf, 0xb5, 0xda],
                genesis_block(1296688602, 2, 0x207fffff),
                "7fffff0000000000000000000000000000000000000000000000000000000000",
                0x207fffff,
            )
        }
    }

    fn simnet() -> Params {
        Params {
            reduce_min_difficulty: true,
            bech32_hrp: "sb",
            pubkey_hash_addr_id: 0x3f,
            script_hash_addr_id: 0x7b,
            private_key_id: 0x64,
            generate_supported: true,
            ..Self::base(
                Network::Simnet,
                [0x16, 0x1c, 0x14, 0x12],
                genesis_block(1401292357, 2, 0x207fffff),
                "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                0x207fffff,
            )
        }
    }

    /// The block subsidy at `height` in satoshis.
    pub fn subsidy(&self, height: u32) -> i64 {
        let halvings = height / self.subsidy_halving_interval;
        if halvings >= 64 {
            return 0;
        }
        (50 * crate::primitives::transaction::COIN) >> halvings
    }

    /// Blocks between difficulty retargets.
    pub fn retarget_interval(&self) -> u32 {
        self.target_timespan / self.target_spacing
    }

    /// The checkpoint at `height`, if any.
    pub fn checkpoint_at(&self, height: u32) -> Option<&Checkpoint> {
        self.checkpoints.iter().find(|c| c.height == height)
    }

    /// The highest checkpoint.
    pub fn last_checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoints.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_hashes_match_published_values() {
        let expect = [
            (
                Network::Mainnet,
                "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
            ),
            (
                Network::Testnet3,
                "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
            ),
            (
                Network::Testnet4,
                "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
            ),
            (
                Network::Signet,
                "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
            ),
            (
                Network::Regtest,
                "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
            ),
            (
                Network::Simnet,
                "683e86bd5c6d110d91b94b97137ba6bfe02dbbdb8e3dff722a669b5d69d77af6",
            ),
        ];
        for (net, hash) in expect {
            let p = Params::new(net);
            assert_eq!(p.genesis_hash.to_string(), hash, "{net}");
            assert!(p.genesis.header.check_proof_of_work(&p.pow_limit), "{net}");
            let merkle = match net {
                Network::Testnet4 => {
                    "7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e"
                }
                _ => "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
            };
            assert_eq!(p.genesis.header.merkle_root.to_string(), merkle, "{net}");
        }
    }

    #[test]
    fn listen_ports_are_ours_and_peer_ports_the_networks() {
        let standard = [
            (Network::Mainnet, 8333),
            (Network::Testnet3, 18333),
            (Network::Testnet4, 48333),
            (Network::Signet, 38333),
            (Network::Regtest, 18444),
            (Network::Simnet, 18555),
        ];
        for (net, port) in standard {
            let p = Params::new(net);
            assert_eq!((p.default_port, p.rpc_port), (12008, 12009));
            assert_eq!(p.standard_port, port, "{net}");
        }
    }

    #[test]
    fn testnet4_is_core_and_btcds() {
        let p = Params::new(Network::Testnet4);
        assert_eq!(p.magic, [0x1c, 0x16, 0x3f, 0x28]);
        assert!(p.enforce_bip94 && p.reduce_min_difficulty);
        assert_eq!(
            p.dns_seeds,
            [
                "seed.testnet4.bitcoin.sprovoost.nl",
                "seed.testnet4.wiz.biz"
            ]
        );
    }

    #[test]
    fn signet_magic_comes_from_the_challenge() {
        let default = Params::new(Network::Signet);
        assert_eq!(default.magic, [0x0a, 0x03, 0xcf, 0x40]);
        // OP_TRUE: a signet anyone can mine on, named by its own message start.
        let custom = Params::custom_signet(vec![0x51], vec!["seed.example".into()]);
        assert_ne!(custom.magic, default.magic);
        assert_eq!(custom.genesis_hash, default.genesis_hash);
        assert_eq!(custom.dns_seeds, ["seed.example"]);
    }

    #[test]
    fn subsidy_halves() {
        let p = Params::new(Network::Mainnet);
        assert_eq!(p.subsidy(0), 50 * 100_000_000);
        assert_eq!(p.subsidy(210_000), 25 * 100_000_000);
        assert_eq!(p.subsidy(64 * 210_000), 0);
        assert_eq!(Params::new(Network::Regtest).subsidy(150), 25 * 100_000_000);
    }

    #[test]
    fn network_names_parse() {
        for n in Network::ALL {
            assert_eq!(n.name().parse::<Network>().unwrap(), n);
        }
        assert!("bogus".parse::<Network>().is_err());
    }
}
