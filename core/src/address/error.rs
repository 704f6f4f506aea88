//! Why an address string was rejected.

use super::base58::Base58Error;
use super::bech32::{Bech32Error, Variant};
use crate::params::Network;
use std::fmt;

/// Why a string is not an address for the network asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Longer than any address; rejected before decoding.
    TooLong(usize),
    /// Neither valid Bech32 for this network nor valid Base58Check.
    Base58(Base58Error),
    /// Starts like this network's segwit address but is not valid Bech32/Bech32m.
    Bech32(Bech32Error),
    /// A Base58Check payload that is not one version byte and a 20-byte hash.
    Base58Length(usize),
    /// A Base58Check version byte that is neither this network's P2PKH nor its P2SH byte.
    WrongVersionByte {
        /// The version byte found.
        version: u8,
        /// The network asked about.
        network: Network,
    },
    /// A segwit address for another network (its human-readable part is not ours).
    WrongHrp {
        /// The human-readable part found.
        found: String,
        /// This network's.
        expected: &'static str,
    },
    /// A Bech32 string with no data at all, so no witness version.
    MissingWitnessVersion,
    /// A witness version above 16.
    InvalidWitnessVersion(u8),
    /// A witness program of a length its version does not allow (2..=40 bytes; 20 or 32 for
    /// version 0).
    InvalidProgramLength {
        /// The witness version.
        version: u8,
        /// The program length in bytes.
        len: usize,
    },
    /// The checksum variant does not match the version: version 0 uses Bech32, later versions
    /// Bech32m (BIP350).
    WrongChecksumVariant {
        /// The witness version.
        version: u8,
        /// The variant found.
        variant: Variant,
    },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::TooLong(n) => write!(f, "address is {n} characters, too long"),
            AddressError::Base58(e) => write!(f, "invalid address: {e}"),
            AddressError::Bech32(e) => write!(f, "invalid segwit address: {e}"),
            AddressError::Base58Length(n) => {
                write!(f, "base58 address holds {n} bytes, expected 21")
            }
            AddressError::WrongVersionByte { version, network } => write!(
                f,
                "address version byte {version:#04x} is not a {network} address"
            ),
            AddressError::WrongHrp { found, expected } => write!(
                f,
                "segwit address prefix {found:?} is for another network (expected {expected:?})"
            ),
            AddressError::MissingWitnessVersion => {
                f.write_str("segwit address has no witness version")
            }
            AddressError::InvalidWitnessVersion(v) => {
                write!(f, "witness version {v} is above 16")
            }
            AddressError::InvalidProgramLength { version, len } => write!(
                f,
                "witness version {version} program of {len} bytes is not allowed"
            ),
            AddressError::WrongChecksumVariant { version, variant } => write!(
                f,
                "witness version {version} address uses {variant:?}; version 0 needs Bech32, \
                 later versions Bech32m"
            ),
        }
    }
}

impl std::error::Error for AddressError {}

impl From<Base58Error> for AddressError {
    fn from(e: Base58Error) -> Self {
        AddressError::Base58(e)
    }
}

impl From<Bech32Error> for AddressError {
    fn from(e: Bech32Error) -> Self {
        AddressError::Bech32(e)
    }
}
