//! Signature, lock-time and sequence checks against the spending transaction.

use super::error::ScriptError;
use super::sigcache::SigCache;
use super::sighash::{legacy_sighash, SigVersion, SighashCache, TapscriptCommit, SIGHASH_DEFAULT};
use super::signature::{verify_ecdsa, verify_schnorr};
use crate::primitives::Transaction;

/// Lock times below this are block heights, from it on Unix times.
const LOCKTIME_THRESHOLD: i64 = 500_000_000;
/// BIP68: a sequence with this bit set has no relative lock time.
const SEQUENCE_DISABLE_FLAG: i64 = 1 << 31;
/// BIP68: a sequence with this bit set counts 512-second units, else blocks.
const SEQUENCE_TYPE_FLAG: i64 = 1 << 22;
/// BIP68: the bits of a sequence that hold the relative lock time.
const SEQUENCE_LOCKTIME_MASK: i64 = 0xffff;

/// What a taproot spend commits to besides the transaction: the annex and, for script-path
/// spends, the leaf and the last OP_CODESEPARATOR.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaprootExec {
    /// SHA-256 of the length-prefixed annex, when present.
    pub annex_hash: Option<[u8; 32]>,
    /// The executing leaf; `None` for key-path spends.
    pub tapscript: Option<TapscriptCommit>,
    /// Signature-check budget left (BIP342 validation weight).
    pub weight_left: i64,
}

/// Checks for one input of a transaction.
pub struct InputChecker<'a> {
    /// The spending transaction.
    pub tx: &'a Transaction,
    /// The input being verified.
    pub index: usize,
    /// The amount of the output it spends.
    pub amount: i64,
    /// The transaction's signature-hash midstates.
    pub sighash: &'a SighashCache<'a>,
    /// Optional cache of verified signatures.
    pub sig_cache: Option<&'a SigCache>,
    /// Whether successes are added to the cache (mempool) or only looked up (blocks).
    pub cache_new: bool,
}

/// Tags separating the two signature kinds in the cache.
const CACHE_ECDSA: u8 = 0;
const CACHE_SCHNORR: u8 = 1;

impl InputChecker<'_> {
    fn cached(
        &self,
        kind: u8,
        msg: &[u8; 32],
        sig: &[u8],
        pubkey: &[u8],
        verify: impl FnOnce() -> bool,
    ) -> bool {
        match self.sig_cache {
            Some(c) => c.check(kind, msg, sig, pubkey, self.cache_new, verify),
            None => verify(),
        }
    }

    /// Verifies an ECDSA signature (with hash-type byte) for legacy or segwit v0 code.
    pub fn check_ecdsa(
        &self,
        sig: &[u8],
        pubkey: &[u8],
        script_code: &[u8],
        version: SigVersion,
    ) -> bool {
        let Some((&hash_type, der)) = sig.split_last() else {
            return false;
        };
        let msg = match version {
            SigVersion::WitnessV0 => {
                self.sighash
                    .segwit_v0(self.index, script_code, self.amount, hash_type)
            }
            _ => legacy_sighash(self.tx, self.index, script_code, i32::from(hash_type)),
        };
        self.cached(CACHE_ECDSA, &msg, der, pubkey, || {
            verify_ecdsa(&msg, der, pubkey, self.sig_cache.map(SigCache::keys))
        })
    }

    /// Verifies a BIP340 signature (64 bytes, or 65 with an explicit hash type).
    pub fn check_schnorr(
        &self,
        sig: &[u8],
        pubkey: &[u8],
        exec: &TaprootExec,
    ) -> Result<(), ScriptError> {
        let (sig64, hash_type) = match sig.len() {
            64 => (sig, SIGHASH_DEFAULT),
            // An explicit 0x00 would make two encodings of the same signature.
            65 if sig[64] == SIGHASH_DEFAULT => return Err(ScriptError::SchnorrSigHashType),
            65 => (&sig[..64], sig[64]),
            _ => return Err(ScriptError::SchnorrSigSize),
        };
        let msg = self
            .sighash
            .taproot(
                self.index,
                hash_type,
                exec.annex_hash.as_ref(),
                exec.tapscript.as_ref(),
            )
            .ok_or(ScriptError::SchnorrSigHashType)?;
        if self.cached(CACHE_SCHNORR, &msg, sig64, pubkey, || {
            verify_schnorr(&msg, sig64, pubkey, self.sig_cache.map(SigCache::keys))
        }) {
            Ok(())
        } else {
            Err(ScriptError::SchnorrSig)
        }
    }

    /// BIP65: the transaction's lock time is of the same kind as `lock_time`, at least it, and
    /// enforced (the input's sequence is not final).
    pub fn check_locktime(&self, lock_time: i64) -> bool {
        let tx_lock = i64::from(self.tx.lock_time);
        (tx_lock < LOCKTIME_THRESHOLD) == (lock_time < LOCKTIME_THRESHOLD)
            && lock_time <= tx_lock
            && self.tx.inputs[self.index].sequence != u32::MAX
    }

    /// BIP112: the input's relative lock time is of the same kind as `sequence` and at least it.
    pub fn check_sequence(&self, sequence: i64) -> bool {
        let tx_seq = i64::from(self.tx.inputs[self.index].sequence);
        if (self.tx.version as u32) < 2 || tx_seq & SEQUENCE_DISABLE_FLAG != 0 {
            return false;
        }
        let mask = SEQUENCE_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
        let (tx_masked, masked) = (tx_seq & mask, sequence & mask);
        (tx_masked < SEQUENCE_TYPE_FLAG) == (masked < SEQUENCE_TYPE_FLAG) && masked <= tx_masked
    }
}
