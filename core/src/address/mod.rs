//! Bitcoin addresses: Base58Check P2PKH/P2SH and Bech32/Bech32m segwit, per network.

pub mod base58;
pub mod bech32;
mod error;

pub use error::AddressError;

use crate::params::{Network, Params};
use crate::script::opcodes::{
    OP_0, OP_1, OP_CHECKSIG, OP_DUP, OP_EQUAL, OP_EQUALVERIFY, OP_HASH160,
};
use crate::script::sigops::{is_p2sh, witness_program};
use bech32::Variant;
use std::fmt;

/// No address is longer than the longest Bech32 string; longer input is rejected before any
/// (quadratic) Base58 work.
const MAX_ADDRESS_LEN: usize = bech32::MAX_LEN;

/// A segwit output's version and program, checked against BIP141's length rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WitnessProgram {
    version: u8,
    program: Vec<u8>,
}

impl WitnessProgram {
    /// Checks `version` (0..=16) and the program length (2..=40 bytes; 20 or 32 for v0).
    pub fn new(version: u8, program: Vec<u8>) -> Result<WitnessProgram, AddressError> {
        if version > 16 {
            return Err(AddressError::InvalidWitnessVersion(version));
        }
        let len = program.len();
        if !(2..=40).contains(&len) || (version == 0 && len != 20 && len != 32) {
            return Err(AddressError::InvalidProgramLength { version, len });
        }
        Ok(WitnessProgram { version, program })
    }

    /// The witness version.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The program bytes.
    pub fn program(&self) -> &[u8] {
        &self.program
    }

    /// The checksum this version's addresses use (BIP350).
    fn variant(&self) -> Variant {
        if self.version == 0 {
            Variant::Bech32
        } else {
            Variant::Bech32m
        }
    }
}

/// What an address pays to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Payload {
    /// Pay to public key hash (HASH160 of the key).
    PubKeyHash([u8; 20]),
    /// Pay to script hash (HASH160 of the redeem script).
    ScriptHash([u8; 20]),
    /// A segwit output: P2WPKH, P2WSH, P2TR or a future version.
    Witness(WitnessProgram),
}

/// The per-network prefixes an address is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Prefixes {
    network: Network,
    bech32_hrp: &'static str,
    pubkey_hash: u8,
    script_hash: u8,
}

impl Prefixes {
    fn of(params: &Params) -> Prefixes {
        Prefixes {
            network: params.network,
            bech32_hrp: params.bech32_hrp,
            pubkey_hash: params.pubkey_hash_addr_id,
            script_hash: params.script_hash_addr_id,
        }
    }
}

/// An address on one network.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address {
    payload: Payload,
    prefixes: Prefixes,
}

impl Address {
    /// The address paying to `payload` on `params`' network.
    pub fn new(payload: Payload, params: &Params) -> Address {
        Address {
            payload,
            prefixes: Prefixes::of(params),
        }
    }

    /// Parses an address, accepting only those of `params`' network.
    pub fn from_str_for(s: &str, params: &Params) -> Result<Address, AddressError> {
        if s.len() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong(s.len()));
        }
        let prefixes = Prefixes::of(params);
        let payload = match bech32::decode(s) {
            Ok(decoded) => segwit_payload(decoded, prefixes.bech32_hrp)?,
            Err(e) if looks_segwit(s, prefixes.bech32_hrp) => return Err(e.into()),
            Err(_) => base58_payload(s, &prefixes)?,
        };
        Ok(Address { payload, prefixes })
    }

    /// The address an output script pays to, for the standard kinds that have one.
    pub fn from_script_pubkey(script: &[u8], params: &Params) -> Option<Address> {
        let payload = if let Some((version, program)) = witness_program(script) {
            Payload::Witness(WitnessProgram::new(version, program.to_vec()).ok()?)
        } else if is_p2sh(script) {
            Payload::ScriptHash(script[2..22].try_into().expect("20 bytes"))
        } else if script.len() == 25
            && script[..3] == [OP_DUP, OP_HASH160, 20]
            && script[23..] == [OP_EQUALVERIFY, OP_CHECKSIG]
        {
            Payload::PubKeyHash(script[3..23].try_into().expect("20 bytes"))
        } else {
            return None;
        };
        Some(Address::new(payload, params))
    }

    /// What the address pays to.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The network the address is for.
    pub fn network(&self) -> Network {
        self.prefixes.network
    }

    /// True when the address is written the way `params`' network writes addresses (testnet3
    /// and signet share prefixes, so their addresses are valid on both).
    pub fn is_for(&self, params: &Params) -> bool {
        let ours = Prefixes::of(params);
        Prefixes {
            network: self.prefixes.network,
            ..ours
        } == self.prefixes
    }

    /// The output script paying to this address.
    pub fn script_pubkey(&self) -> Vec<u8> {
        match &self.payload {
            Payload::PubKeyHash(h) => [
                &[OP_DUP, OP_HASH160, 20][..],
                h,
                &[OP_EQUALVERIFY, OP_CHECKSIG],
            ]
            .concat(),
            Payload::ScriptHash(h) => [&[OP_HASH160, 20][..], h, &[OP_EQUAL]].concat(),
            Payload::Witness(w) => {
                let op = if w.version == 0 {
                    OP_0
                } else {
                    OP_1 + w.version - 1
                };
                [&[op, w.program.len() as u8][..], &w.program].concat()
            }
        }
    }
}

/// Whether `s` starts with this network's segwit prefix, so a Bech32 error is the one to report.
fn looks_segwit(s: &str, hrp: &str) -> bool {
    let prefix = format!("{hrp}1");
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn segwit_payload(
    decoded: bech32::Decoded<'_>,
    hrp: &'static str,
) -> Result<Payload, AddressError> {
    if decoded.hrp != hrp {
        return Err(AddressError::WrongHrp {
            found: decoded.hrp,
            expected: hrp,
        });
    }
    let version = decoded
        .version()
        .ok_or(AddressError::MissingWitnessVersion)?;
    let variant = decoded.variant;
    // A version above 16 has no program to speak of.
    let program = match version {
        0..=16 => decoded.program()?,
        _ => Vec::new(),
    };
    let program = WitnessProgram::new(version, program)?;
    if program.variant() != variant {
        return Err(AddressError::WrongChecksumVariant { version, variant });
    }
    Ok(Payload::Witness(program))
}

fn base58_payload(s: &str, prefixes: &Prefixes) -> Result<Payload, AddressError> {
    let data = base58::decode_check(s)?;
    let (&version, hash) = data
        .split_first()
        .filter(|(_, h)| h.len() == 20)
        .ok_or(AddressError::Base58Length(data.len()))?;
    let hash: [u8; 20] = hash.try_into().expect("length checked");
    if version == prefixes.pubkey_hash {
        Ok(Payload::PubKeyHash(hash))
    } else if version == prefixes.script_hash {
        Ok(Payload::ScriptHash(hash))
    } else {
        Err(AddressError::WrongVersionByte {
            version,
            network: prefixes.network,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base58 =
            |version: u8, hash: &[u8; 20]| base58::encode_check(&[&[version][..], hash].concat());
        match &self.payload {
            Payload::PubKeyHash(h) => f.write_str(&base58(self.prefixes.pubkey_hash, h)),
            Payload::ScriptHash(h) => f.write_str(&base58(self.prefixes.script_hash, h)),
            Payload::Witness(w) => {
                bech32::write_segwit(f, self.prefixes.bech32_hrp, w.version, &w.program)
            }
        }
    }
}

#[cfg(test)]
mod tests;
