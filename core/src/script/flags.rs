//! Script verification flags, with the names Bitcoin Core's test vectors use.

use crate::params::Params;
use std::ops::{BitOr, BitOrAssign};

/// A set of script verification flags.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Flags(pub u32);

macro_rules! flags {
    ($($name:ident = $bit:expr),* $(,)?) => {
        impl Flags {
            /// No flags: the rules of the original release.
            pub const NONE: Flags = Flags(0);
            $(
                #[allow(missing_docs)]
                pub const $name: Flags = Flags(1 << $bit);
            )*
            /// Every flag with its name as written in Core's vectors.
            pub const NAMED: &'static [(&'static str, Flags)] = &[$((stringify!($name), Flags::$name)),*];
        }
    };
}

flags! {
    P2SH = 0,
    STRICTENC = 1,
    DERSIG = 2,
    LOW_S = 3,
    NULLDUMMY = 4,
    SIGPUSHONLY = 5,
    MINIMALDATA = 6,
    DISCOURAGE_UPGRADABLE_NOPS = 7,
    CLEANSTACK = 8,
    CHECKLOCKTIMEVERIFY = 9,
    CHECKSEQUENCEVERIFY = 10,
    WITNESS = 11,
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 12,
    MINIMALIF = 13,
    NULLFAIL = 14,
    WITNESS_PUBKEYTYPE = 15,
    CONST_SCRIPTCODE = 16,
    TAPROOT = 17,
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 18,
    DISCOURAGE_OP_SUCCESS = 19,
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 20,
}

impl Flags {
    /// True when every flag in `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parses a comma-separated list such as `"P2SH,STRICTENC"`; `"NONE"` or `""` is empty.
    pub fn parse_list(s: &str) -> Result<Flags, String> {
        s.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty() && *n != "NONE")
            .try_fold(Flags::NONE, |acc, name| {
                Flags::NAMED
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, f)| acc | *f)
                    .ok_or_else(|| format!("unknown script flag {name}"))
            })
    }
}

/// The flags every relayed transaction must also pass (Core's and btcd's standard script
/// verification flags): all consensus rules plus the policy rules that keep upgrades and
/// malleability in check.
pub const STANDARD_FLAGS: Flags = Flags(
    Flags::P2SH.0
        | Flags::STRICTENC.0
        | Flags::DERSIG.0
        | Flags::LOW_S.0
        | Flags::NULLDUMMY.0
        | Flags::MINIMALDATA.0
        | Flags::DISCOURAGE_UPGRADABLE_NOPS.0
        | Flags::CLEANSTACK.0
        | Flags::CHECKLOCKTIMEVERIFY.0
        | Flags::CHECKSEQUENCEVERIFY.0
        | Flags::WITNESS.0
        | Flags::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM.0
        | Flags::MINIMALIF.0
        | Flags::NULLFAIL.0
        | Flags::WITNESS_PUBKEYTYPE.0
        | Flags::CONST_SCRIPTCODE.0
        | Flags::TAPROOT.0
        | Flags::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION.0
        | Flags::DISCOURAGE_OP_SUCCESS.0
        | Flags::DISCOURAGE_UPGRADABLE_PUBKEYTYPE.0,
);

/// The consensus flags for a block at `height`: each soft fork from its activation height in
/// `params`.
pub fn flags_for_height(params: &Params, height: u32) -> Flags {
    [
        (params.bip16_height, Flags::P2SH),
        (params.bip66_height, Flags::DERSIG),
        (params.bip65_height, Flags::CHECKLOCKTIMEVERIFY),
        (params.csv_height, Flags::CHECKSEQUENCEVERIFY),
        (params.segwit_height, Flags::WITNESS | Flags::NULLDUMMY),
        (params.taproot_height, Flags::TAPROOT),
    ]
    .into_iter()
    .filter(|(activation, _)| height >= *activation)
    .fold(Flags::NONE, |acc, (_, f)| acc | f)
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, o: Flags) {
        self.0 |= o.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vector_flag_lists() {
        let f = Flags::parse_list("P2SH,WITNESS").unwrap();
        assert!(f.contains(Flags::P2SH) && f.contains(Flags::WITNESS));
        assert!(!f.contains(Flags::TAPROOT));
        assert_eq!(Flags::parse_list("NONE").unwrap(), Flags::NONE);
        assert!(Flags::parse_list("BOGUS").is_err());
    }

    #[test]
    fn mainnet_soft_forks_activate_at_their_heights() {
        use crate::params::{Network, Params};
        let p = Params::new(Network::Mainnet);
        assert_eq!(flags_for_height(&p, 1), Flags::NONE);
        assert_eq!(flags_for_height(&p, 173_805), Flags::P2SH);
        let segwit = flags_for_height(&p, 481_824);
        assert!(segwit.contains(
            Flags::WITNESS | Flags::NULLDUMMY | Flags::CHECKSEQUENCEVERIFY | Flags::DERSIG
        ));
        assert!(!segwit.contains(Flags::TAPROOT));
        assert!(flags_for_height(&p, 709_632).contains(Flags::TAPROOT));
        let regtest = flags_for_height(&Params::new(Network::Regtest), 1);
        assert!(regtest.contains(Flags::TAPROOT | Flags::CHECKLOCKTIMEVERIFY));
        assert!(STANDARD_FLAGS.contains(flags_for_height(&p, 800_000)));
    }
}
