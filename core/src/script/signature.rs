//! Signature and public-key encoding rules, and ECDSA / Schnorr verification through
//! libsecp256k1.

use super::error::ScriptError;
use super::flags::Flags;
use super::key_cache::KeyCache;
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

/// Half the order of secp256k1's group, big-endian: the largest low S.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];
/// The order of secp256k1's group, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// Whether the S of a strict-DER `sig` (with its hash-type byte) is above half the order.
/// An S of the order or more counts as low, as Core's lax parse turns it into zero.
fn is_high_s(sig: &[u8]) -> bool {
    let len_r = sig[3] as usize;
    let len_s = sig[5 + len_r] as usize;
    let s = &sig[6 + len_r..6 + len_r + len_s];
    let first = s.iter().position(|b| *b != 0).unwrap_or(s.len());
    let s = &s[first..];
    let pad = |v: &[u8]| {
        let mut out = [0u8; 32];
        out[32 - v.len()..].copy_from_slice(v);
        out
    };
    s.len() <= 32 && pad(s) > HALF_ORDER && pad(s) < ORDER
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
    // LOW_S implies strict DER (checked above), so S can be read off the bytes: the
    // signature is parsed only once, when it is verified.
    if flags.contains(Flags::LOW_S) && is_high_s(sig) {
        return Err(ScriptError::SigHighS);
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

/// Verifies an ECDSA signature (DER without hash type) over `msg`, the key parsed through
/// `keys` when given. High-S signatures are normalized first, as consensus has always
/// accepted them.
pub fn verify_ecdsa(msg: &[u8; 32], der: &[u8], pubkey: &[u8], keys: Option<&KeyCache>) -> bool {
    let Some(mut sig) = parse_lax(der) else {
        return false;
    };
    let pk = match keys {
        Some(k) => k.ecdsa(pubkey),
        None => PublicKey::from_slice(pubkey).ok(),
    };
    let Some(pk) = pk else {
        return false;
    };
    sig.normalize_s();
    SECP256K1
        .verify_ecdsa(&Message::from_digest(*msg), &sig, &pk)
        .is_ok()
}

/// Verifies a 64-byte BIP340 signature over `msg` with a 32-byte x-only key, parsed through
/// `keys` when given.
pub fn verify_schnorr(msg: &[u8; 32], sig: &[u8], pubkey: &[u8], keys: Option<&KeyCache>) -> bool {
    let Ok(sig) = schnorr::Signature::from_slice(sig) else {
        return false;
    };
    let pk = match keys {
        Some(k) => k.x_only(pubkey),
        None => XOnlyPublicKey::from_slice(pubkey).ok(),
    };
    let Some(pk) = pk else {
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
    fn high_s_is_read_off_the_bytes_as_the_lax_parse_would() {
        let der = |s: &[u8]| {
            let mut v = vec![0x30, (4 + 1 + s.len()) as u8, 2, 1, 1, 2, s.len() as u8];
            v.extend_from_slice(s);
            v.push(1);
            v
        };
        let mut order_less_one = ORDER;
        order_less_one[31] -= 1;
        for (s, high) in [
            (HALF_ORDER.to_vec(), false),
            ([&[0u8][..], &order_less_one[..]].concat(), true),
            ([&[0u8][..], &ORDER[..]].concat(), false),
            (vec![1], false),
        ] {
            let sig = der(&s);
            assert!(is_valid_der(&sig), "{s:02x?}");
            let lax = parse_lax(&sig[..sig.len() - 1]).map(|p| {
                let mut n = p;
                n.normalize_s();
                n != p
            });
            assert_eq!(is_high_s(&sig), high, "{s:02x?}");
            assert_eq!(lax, Some(high), "{s:02x?}");
        }
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
