//! Transactions with BIP144 segwit serialization.

use super::encode::{
    compact_size_len, write_compact_size, write_var_bytes, Decodable, DecodeError, Encodable,
    Reader, MAX_COMPACT_SIZE,
};
use super::hash::{sha256d, Hash256, Txid, Wtxid};

/// Satoshis per bitcoin.
pub const COIN: i64 = 100_000_000;
/// The most satoshis that can ever exist; larger values are invalid anywhere.
pub const MAX_MONEY: i64 = 21_000_000 * COIN;

/// The smallest possible serialized input: outpoint, empty script, sequence.
const MIN_TXIN_BYTES: usize = 36 + 1 + 4;
/// The smallest possible serialized output: value and empty script.
const MIN_TXOUT_BYTES: usize = 8 + 1;

/// A reference to one output of an earlier transaction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct OutPoint {
    /// The transaction holding the output.
    pub txid: Txid,
    /// The output's index in that transaction.
    pub vout: u32,
}

impl OutPoint {
    /// The outpoint a coinbase input spends: zero hash, index 0xffffffff.
    pub const NULL: OutPoint = OutPoint {
        txid: Hash256::ZERO,
        vout: u32::MAX,
    };

    /// Creates an outpoint.
    pub fn new(txid: Txid, vout: u32) -> Self {
        OutPoint { txid, vout }
    }

    /// True for the coinbase's null outpoint.
    pub fn is_null(&self) -> bool {
        *self == Self::NULL
    }
}

impl Encodable for OutPoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.txid.0);
        out.extend_from_slice(&self.vout.to_le_bytes());
    }
}

impl Decodable for OutPoint {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(OutPoint {
            txid: r.hash()?,
            vout: r.u32_le()?,
        })
    }
}

/// A transaction input.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TxIn {
    /// The output being spent.
    pub prevout: OutPoint,
    /// The unlocking script.
    pub script_sig: Vec<u8>,
    /// nSequence: relative lock time (BIP68) and replacement signalling.
    pub sequence: u32,
    /// Segregated witness stack items (empty for non-witness spends).
    pub witness: Vec<Vec<u8>>,
}

/// A transaction output.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TxOut {
    /// Amount in satoshis. Signed, as in Bitcoin Core, so that invalid negative values decode and
    /// can be rejected by validation with a precise reason.
    pub value: i64,
    /// The locking script.
    pub script_pubkey: Vec<u8>,
}

impl Encodable for TxOut {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value.to_le_bytes());
        write_var_bytes(out, &self.script_pubkey);
    }
}

impl Decodable for TxOut {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxOut {
            value: r.i64_le()?,
            script_pubkey: r.var_bytes()?,
        })
    }
}

/// A Bitcoin transaction.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Transaction {
    /// Transaction version (2 enables BIP68 sequence locks).
    pub version: i32,
    /// Inputs.
    pub inputs: Vec<TxIn>,
    /// Outputs.
    pub outputs: Vec<TxOut>,
    /// nLockTime.
    pub lock_time: u32,
}

impl Transaction {
    /// True when any input carries witness data, so the BIP144 form is used.
    pub fn has_witness(&self) -> bool {
        self.inputs.iter().any(|i| !i.witness.is_empty())
    }

    /// True for a coinbase: exactly one input spending the null outpoint.
    pub fn is_coinbase(&self) -> bool {
        self.inputs.len() == 1 && self.inputs[0].prevout.is_null()
    }

    /// Appends the serialization without witness data (what the txid commits to).
    pub fn encode_no_witness_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        self.encode_inputs_outputs(out);
        out.extend_from_slice(&self.lock_time.to_le_bytes());
    }

    /// The serialization without witness data.
    pub fn encode_no_witness(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.base_size());
        self.encode_no_witness_to(&mut v);
        v
    }

    fn encode_inputs_outputs(&self, out: &mut Vec<u8>) {
        write_compact_size(out, self.inputs.len() as u64);
        for i in &self.inputs {
            i.prevout.encode_to(out);
            write_var_bytes(out, &i.script_sig);
            out.extend_from_slice(&i.sequence.to_le_bytes());
        }
        write_compact_size(out, self.outputs.len() as u64);
        for o in &self.outputs {
            o.encode_to(out);
        }
    }

    /// The transaction id (hash of the witness-stripped serialization).
    pub fn txid(&self) -> Txid {
        Hash256(sha256d(&self.encode_no_witness()))
    }

    /// The witness transaction id (hash of the full serialization; equals the txid when there
    /// is no witness).
    pub fn wtxid(&self) -> Wtxid {
        Hash256(sha256d(&self.encode()))
    }

    /// Size in bytes without witness data.
    pub fn base_size(&self) -> usize {
        let mut n = 4 + 4 + compact_size_len(self.inputs.len() as u64);
        for i in &self.inputs {
            n += 36 + compact_size_len(i.script_sig.len() as u64) + i.script_sig.len() + 4;
        }
        n += compact_size_len(self.outputs.len() as u64);
        for o in &self.outputs {
            n += 8 + compact_size_len(o.script_pubkey.len() as u64) + o.script_pubkey.len();
        }
        n
    }

    /// Size in bytes of the full serialization.
    pub fn total_size(&self) -> usize {
        if !self.has_witness() {
            return self.base_size();
        }
        let mut n = self.base_size() + 2;
        for i in &self.inputs {
            n += compact_size_len(i.witness.len() as u64);
            for item in &i.witness {
                n += compact_size_len(item.len() as u64) + item.len();
            }
        }
        n
    }

    /// BIP141 weight: base size x 3 + total size.
    pub fn weight(&self) -> usize {
        self.base_size() * 3 + self.total_size()
    }

    /// BIP141 virtual size: weight / 4 rounded up.
    pub fn vsize(&self) -> usize {
        self.weight().div_ceil(4)
    }
}

impl Encodable for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        if !self.has_witness() {
            return self.encode_no_witness_to(out);
        }
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&[0x00, 0x01]);
        self.encode_inputs_outputs(out);
        for i in &self.inputs {
            write_compact_size(out, i.witness.len() as u64);
            for item in &i.witness {
                write_var_bytes(out, item);
            }
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
    }
}

fn decode_inputs(r: &mut Reader<'_>) -> Result<Vec<TxIn>, DecodeError> {
    let n = r.count(MIN_TXIN_BYTES, MAX_COMPACT_SIZE)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(TxIn {
            prevout: OutPoint::decode_from(r)?,
            script_sig: r.var_bytes()?,
            sequence: r.u32_le()?,
            witness: Vec::new(),
        });
    }
    Ok(v)
}

fn decode_outputs(r: &mut Reader<'_>) -> Result<Vec<TxOut>, DecodeError> {
    let n = r.count(MIN_TXOUT_BYTES, MAX_COMPACT_SIZE)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(TxOut::decode_from(r)?);
    }
    Ok(v)
}

impl Decodable for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.i32_le()?;
        let mut inputs = decode_inputs(r)?;
        let mut segwit = false;
        // An empty input list followed by 0x01 is the BIP144 marker+flag; a real transaction
        // with zero inputs is invalid anyway.
        if inputs.is_empty() {
            let flag = r.u8()?;
            if flag != 0x01 {
                return Err(DecodeError::BadWitnessFlag(flag));
            }
            segwit = true;
            inputs = decode_inputs(r)?;
        }
        let outputs = decode_outputs(r)?;
        if segwit {
            for input in inputs.iter_mut() {
                let n = r.count(1, MAX_COMPACT_SIZE)?;
                let mut w = Vec::with_capacity(n);
                for _ in 0..n {
                    w.push(r.var_bytes()?);
                }
                input.witness = w;
            }
            if inputs.iter().all(|i| i.witness.is_empty()) {
                return Err(DecodeError::SuperfluousWitness);
            }
        }
        let lock_time = r.u32_le()?;
        Ok(Transaction {
            version,
            inputs,
            outputs,
            lock_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(witness: bool) -> Transaction {
        Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout: OutPoint::new(Hash256([7; 32]), 3),
                script_sig: vec![1, 2, 3],
                sequence: 0xfffffffe,
                witness: if witness {
                    vec![vec![9; 72], vec![]]
                } else {
                    vec![]
                },
            }],
            outputs: vec![TxOut {
                value: 5000,
                script_pubkey: vec![0x51],
            }],
            lock_time: 99,
        }
    }

    #[test]
    fn round_trips_with_and_without_witness() {
        for w in [false, true] {
            let tx = sample(w);
            let bytes = tx.encode();
            assert_eq!(bytes.len(), tx.total_size());
            assert_eq!(Transaction::decode(&bytes).unwrap(), tx);
        }
    }

    #[test]
    fn txid_ignores_witness_but_wtxid_does_not() {
        let (a, b) = (sample(false), sample(true));
        assert_eq!(a.txid(), b.txid());
        assert_eq!(a.txid(), a.wtxid());
        assert_ne!(b.txid(), b.wtxid());
        assert_eq!(b.weight(), b.base_size() * 3 + b.total_size());
    }

    #[test]
    fn witness_flag_without_witness_is_rejected() {
        let mut bytes = sample(false).encode();
        // Rewrite as marker+flag with one empty witness stack.
        let lock = bytes.split_off(bytes.len() - 4);
        bytes.splice(4..4, [0u8, 1u8]);
        bytes.push(0);
        bytes.extend_from_slice(&lock);
        assert_eq!(
            Transaction::decode(&bytes),
            Err(DecodeError::SuperfluousWitness)
        );
        bytes[5] = 2;
        assert_eq!(
            Transaction::decode(&bytes),
            Err(DecodeError::BadWitnessFlag(2))
        );
    }
}
