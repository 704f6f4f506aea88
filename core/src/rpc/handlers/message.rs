//! `signmessagewithprivkey` and `verifymessage`: Bitcoin's signed-message format (a compact,
//! key-recoverable ECDSA signature over the double SHA-256 of a magic prefix and the message).

use super::Context;
use crate::address::{base58, Address, Payload};
use crate::base64;
use crate::primitives::encode::write_compact_size;
use crate::primitives::hash::sha256d;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::script::hashes::hash160;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, SecretKey, SECP256K1};
use serde_json::Value;

/// The prefix that keeps a signed message from ever being a valid transaction signature.
const MAGIC: &str = "Bitcoin Signed Message:\n";

/// The digest a message signature commits to.
fn message_digest(message: &str) -> [u8; 32] {
    let mut buf = Vec::with_capacity(MAGIC.len() + message.len() + 10);
    for part in [MAGIC, message] {
        write_compact_size(&mut buf, part.len() as u64);
        buf.extend_from_slice(part.as_bytes());
    }
    sha256d(&buf)
}

/// A WIF private key: the secret and whether its public key is used compressed.
fn decode_wif(wif: &str, params: &crate::params::Params) -> Result<(SecretKey, bool), RpcError> {
    let bad = |m: &str| RpcError::new(code::INVALID_ADDRESS_OR_KEY, m);
    let payload = base58::decode_check(wif).map_err(|e| match e {
        base58::Base58Error::BadChecksum => bad("Private key checksum mismatch"),
        _ => bad("Invalid private key"),
    })?;
    let compressed = match payload.len() {
        33 => false,
        34 if payload[33] == 1 => true,
        _ => return Err(bad("Malformed private key")),
    };
    if payload[0] != params.private_key_id {
        return Err(bad("Private key for wrong network"));
    }
    let key = SecretKey::from_slice(&payload[1..33]).map_err(|_| bad("Malformed private key"))?;
    Ok((key, compressed))
}

/// `signmessagewithprivkey "privkey" "message"`: the base64 compact signature.
pub fn sign_message_with_priv_key(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(2, 2)?;
    let (key, compressed) = decode_wif(p.str(0, "privkey")?, ctx.chain.params())?;
    let message = p.str(1, "message")?;
    let digest = Message::from_digest(message_digest(message));
    let (recid, rs) = SECP256K1
        .sign_ecdsa_recoverable(&digest, &key)
        .serialize_compact();
    let mut sig = Vec::with_capacity(65);
    sig.push(27 + recid.to_i32() as u8 + if compressed { 4 } else { 0 });
    sig.extend_from_slice(&rs);
    Ok(Value::String(base64::encode(&sig)))
}

/// `verifymessage "address" "signature" "message"`: whether the signature's recovered key hashes
/// to the P2PKH address. Signatures that recover no key are `false`, as in Core.
pub fn verify_message(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(3, 3)?;
    let address = Address::from_str_for(p.str(0, "address")?, ctx.chain.params()).map_err(|e| {
        RpcError::new(
            code::INVALID_ADDRESS_OR_KEY,
            format!("Invalid address or key: {e}"),
        )
    })?;
    let Payload::PubKeyHash(want) = address.payload() else {
        return Err(RpcError::new(
            code::TYPE,
            "Address is not a pay-to-pubkey-hash address",
        ));
    };
    let sig = base64::decode(p.str(1, "signature")?)
        .map_err(|e| RpcError::new(code::PARSE, format!("Malformed base64 encoding: {e}")))?;
    let message = p.str(2, "message")?;
    Ok(Value::Bool(
        recover(&sig, message).is_some_and(|h| h == *want),
    ))
}

/// HASH160 of the key a 65-byte compact signature over `message` recovers, serialized as the
/// signature's header says.
fn recover(sig: &[u8], message: &str) -> Option<[u8; 20]> {
    let (&header, rs) = sig.split_first().filter(|(_, rs)| rs.len() == 64)?;
    let flag = header.checked_sub(27).filter(|f| *f < 8)?;
    let recid = RecoveryId::from_i32(i32::from(flag & 3)).ok()?;
    let sig = RecoverableSignature::from_compact(rs, recid).ok()?;
    let key = SECP256K1
        .recover_ecdsa(&Message::from_digest(message_digest(message)), &sig)
        .ok()?;
    Some(if flag & 4 != 0 {
        hash160(&key.serialize())
    } else {
        hash160(&key.serialize_uncompressed())
    })
}
