//! Script verification flags, with the names Bitcoin Core's test vectors use.

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
}
