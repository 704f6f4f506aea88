//! Signature and public-key encoding rules, and ECDSA / Schnorr verification through
//! libsecp256k1.

use super::error::ScriptError;
use super::flags::Flags;
use super::sighash::{SigVersion, SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_SINGLE};
use secp256k1::{ecdsa, schnorr, Message, PublicKey, XOnlyPublicKey, SECP256K1};

/// BIP66 strict DER: `0x30 len 0x02 rlen R 0x02 slen S hashtype`, with minimal, positive
/// integers and consistent lengths. `sig` includes the trailing hash-type byte.
pub fn is_valid_der(sig: &[u8]) -> bool {
    let len = sig.len();
    if !(9..=73).contains(&len) || sig[0] != 0x30 || sig[1] as usize != len - 3 {
        return false;
    }
    let len_r = sig[3] as usize;
    if 5 + len_r >= len {
        return false;
    }
    let len_s = sig[5 + len_r] as usize;
    if len_r + len_s + 7 != len {
        return false;
    }
    let int_ok = |tag: usize, n: usize| {
        let v = &sig[tag + 2..tag + 2 + n];
        sig[tag] == 0x02 && n != 0 && v[0] & 0x80 == 0 && !(n > 1 && v[0] == 0 && v[1] & 0x80 == 0)
    };
    int_ok(2, len_r) && int_ok(len_r + 4, len_s)
}

/// True when the hash type (last byte) is ALL, NONE or SINGLE, optionally with ANYONECANPAY.
fn is_defined_hashtype(sig: &[u8]) -> bool {
    sig.last()
        .is_some_and(|h| (SIGHASH_ALL..=SIGHASH_SINGLE).contains(&(h & !SIGHASH_ANYONECANPAY)))
}

/// Parses a DER signature the way OpenSSL-era nodes accepted it (lax), so old blocks verify.
fn parse_lax(der: &[u8]) -> Option<ecdsa::Signature> {
    ecdsa::Signature::from_der_lax(der).ok()
}

/// Applies DERSIG, LOW_S and STRICTENC to a signature (with its hash-type byte). An empty
/// signature always passes: it is a valid way to fail a check.
pub fn check_signature_encoding(sig: &[u8], flags: Flags) -> Result<(), ScriptError> {
    if sig.is_empty() {
        return Ok(());
    }
    let strict = Flags(Flags::DERSIG.0 | Flags::LOW_S.0 | Flags::STRICTENC.0);
    if flags.0 & strict.0 != 0 && !is_valid_der(sig) {
        return Err(ScriptError::SigDer);
    }
    if flags.contains(Flags::LOW_S) {
        let parsed = parse_lax(&sig[..sig.len() - 1]).ok_or(ScriptError::SigDer)?;
        let mut normalized = parsed;
        normalized.normalize_s();
        if normalized != parsed {
            return Err(ScriptError::SigHighS);
        }
    }
    if flags.contains(Flags::STRICTENC) && !is_defined_hashtype(sig) {
        return Err(ScriptError::SigHashType);
    }
    Ok(())
}

/// Applies STRICTENC (SEC encoding) and, in segwit v0, WITNESS_PUBKEYTYPE (compressed only).
pub fn check_pubkey_encoding(
    pubkey: &[u8],
    flags: Flags,
    version: SigVersion,
) -> Result<(), ScriptError> {
    let compressed = pubkey.len() == 33 && matches!(pubkey[0], 2 | 3);
    let uncompressed = pubkey.len() == 65 && pubkey[0] == 4;
    if flags.contains(Flags::STRICTENC) && !compressed && !uncompressed {
        return Err(ScriptError::PubkeyType);
    }
    if flags.contains(Flags::WITNESS_PUBKEYTYPE) && version == SigVersion::WitnessV0 && !compressed
    {
        return Err(ScriptError::WitnessPubkeyType);
    }
    Ok(())
}

/// Verifies an ECDSA signature (DER without hash type) over `msg`. High-S signatures are
/// normalized first, as consensus has always accepted them.
pub fn verify_ecdsa(msg: &[u8; 32], der: &[u8], pubkey: &[u8]) -> bool {
    let (Some(mut sig), Ok(pk)) = (parse_lax(der), PublicKey::from_slice(pubkey)) else {
        return false;
    };
    sig.normalize_s();
    SECP256K1
        .verify_ecdsa(&Message::from_digest(*msg), &sig, &pk)
        .is_ok()
}

/// Verifies a 64-byte BIP340 signature over `msg` with a 32-byte x-only key.
pub fn verify_schnorr(msg: &[u8; 32], sig: &[u8], pubkey: &[u8]) -> bool {
    let (Ok(sig), Ok(pk)) = (
        schnorr::Signature::from_slice(sig),
        XOnlyPublicKey::from_slice(pubkey),
    ) else {
        return false;
    };
    SECP256K1
        .verify_schnorr(&sig, &Message::from_digest(*msg), &pk)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_der_accepts_minimal_and_rejects_padding() {
        // 30 06 02 01 01 02 01 01 + hashtype
        let good = [0x30, 6, 2, 1, 1, 2, 1, 1, 1];
        assert!(is_valid_der(&good));
        let padded = [0x30, 7, 2, 2, 0, 1, 2, 1, 1, 1];
        assert!(!is_valid_der(&padded));
        let negative = [0x30, 6, 2, 1, 0x81, 2, 1, 1, 1];
        assert!(!is_valid_der(&negative));
    }

    #[test]
    fn encoding_checks_follow_flags() {
        let bad = [0x30, 1, 1];
        assert_eq!(check_signature_encoding(&bad, Flags::NONE), Ok(()));
        assert_eq!(
            check_signature_encoding(&bad, Flags::DERSIG),
            Err(ScriptError::SigDer)
        );
        let mut uncompressed = vec![4];
        uncompressed.extend([1u8; 64]);
        assert_eq!(
            check_pubkey_encoding(&uncompressed, Flags::STRICTENC, SigVersion::Base),
            Ok(())
        );
        assert_eq!(
            check_pubkey_encoding(
                &uncompressed,
                Flags::WITNESS_PUBKEYTYPE,
                SigVersion::WitnessV0
            ),
            Err(ScriptError::WitnessPubkeyType)
        );
        assert_eq!(
            check_pubkey_encoding(&[5; 33], Flags::STRICTENC, SigVersion::Base),
            Err(ScriptError::PubkeyType)
        );
    }
}
