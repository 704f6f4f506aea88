//! Typed access to positional JSON-RPC parameters, with btcd's errors for wrong types.

use super::error::{code, RpcError};
use crate::primitives::hash::{hex_decode, Hash256};
use serde_json::Value;

/// The positional parameters of one call.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    method: &'a str,
    values: &'a [Value],
}

impl<'a> Params<'a> {
    /// Wraps the parameters of `method`.
    pub fn new(method: &'a str, values: &'a [Value]) -> Self {
        Params { method, values }
    }

    /// Fails with -32602 when more than `max` or fewer than `min` parameters were given.
    pub fn expect_count(&self, min: usize, max: usize) -> Result<(), RpcError> {
        let n = self.values.len();
        if n < min || n > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(RpcError::invalid_params(format!(
                "wrong number of params (expected {want}, received {n}) for method {}",
                self.method
            )));
        }
        Ok(())
    }

    /// The parameter at `i`, or `None` when absent or null.
    pub fn get(&self, i: usize) -> Option<&'a Value> {
        self.values.get(i).filter(|v| !v.is_null())
    }

    fn type_error(&self, i: usize, name: &str, want: &str) -> RpcError {
        RpcError::invalid_params(format!(
            "parameter #{} '{name}' must be type {want} for method {}",
            i + 1,
            self.method
        ))
    }

    fn missing(&self, i: usize, name: &str) -> RpcError {
        RpcError::invalid_params(format!(
            "missing required parameter #{} '{name}' for method {}",
            i + 1,
            self.method
        ))
    }

    /// A required string.
    pub fn str(&self, i: usize, name: &str) -> Result<&'a str, RpcError> {
        self.opt_str(i, name)?.ok_or_else(|| self.missing(i, name))
    }

    /// An optional string.
    pub fn opt_str(&self, i: usize, name: &str) -> Result<Option<&'a str>, RpcError> {
        self.get(i)
            .map(|v| v.as_str().ok_or_else(|| self.type_error(i, name, "string")))
            .transpose()
    }

    /// A required integer.
    pub fn i64(&self, i: usize, name: &str) -> Result<i64, RpcError> {
        self.opt_i64(i, name)?.ok_or_else(|| self.missing(i, name))
    }

    /// An optional integer.
    pub fn opt_i64(&self, i: usize, name: &str) -> Result<Option<i64>, RpcError> {
        self.get(i)
            .map(|v| v.as_i64().ok_or_else(|| self.type_error(i, name, "int64")))
            .transpose()
    }

    /// An optional boolean; btcd also accepts 0/1 for some verbosity flags, handled by callers.
    pub fn opt_bool(&self, i: usize, name: &str) -> Result<Option<bool>, RpcError> {
        self.get(i)
            .map(|v| v.as_bool().ok_or_else(|| self.type_error(i, name, "bool")))
            .transpose()
    }

    /// An optional number (fee rates, amounts).
    pub fn opt_f64(&self, i: usize, name: &str) -> Result<Option<f64>, RpcError> {
        self.get(i)
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| self.type_error(i, name, "float64"))
            })
            .transpose()
    }

    /// A required array.
    pub fn array(&self, i: usize, name: &str) -> Result<&'a [Value], RpcError> {
        self.get(i)
            .ok_or_else(|| self.missing(i, name))?
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.type_error(i, name, "array"))
    }

    /// A required hash in display hex; malformed is -22, as btcd's `rpcDecodeHexError`.
    pub fn hash(&self, i: usize, name: &str) -> Result<Hash256, RpcError> {
        let s = self.str(i, name)?;
        s.parse().map_err(|_| decode_hex_error(s))
    }

    /// Required hex bytes; malformed hex is -22 (btcd's `ErrRPCDecodeHexString`).
    pub fn hex(&self, i: usize, name: &str) -> Result<Vec<u8>, RpcError> {
        hex_arg(self.str(i, name)?)
    }
}

/// Hex bytes given as (part of) an argument; malformed hex is -22. btcd pads an odd-length
/// string with a leading zero before decoding.
pub fn hex_arg(s: &str) -> Result<Vec<u8>, RpcError> {
    let padded;
    let s = if !s.len().is_multiple_of(2) {
        padded = format!("0{s}");
        &padded
    } else {
        s
    };
    hex_decode(s).map_err(|_| decode_hex_error(s))
}

/// btcd's error for a string that should have been hex.
pub fn decode_hex_error(got: &str) -> RpcError {
    RpcError::new(
        code::DESERIALIZATION,
        format!("Argument must be hexadecimal string (not {got:?})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_and_counts_are_invalid_params() {
        let v = [json!("abc"), json!(5)];
        let p = Params::new("getblock", &v);
        assert_eq!(p.str(0, "hash").unwrap(), "abc");
        assert_eq!(p.i64(0, "x").unwrap_err().code, code::INVALID_PARAMS);
        assert_eq!(p.i64(1, "n").unwrap(), 5);
        assert_eq!(p.str(2, "missing").unwrap_err().code, code::INVALID_PARAMS);
        assert!(p.expect_count(1, 2).is_ok());
        assert_eq!(p.expect_count(0, 1).unwrap_err().code, code::INVALID_PARAMS);
    }

    #[test]
    fn hex_and_hash_errors_use_btcd_codes() {
        let v = [json!("zz"), json!("abc")];
        let p = Params::new("x", &v);
        assert_eq!(p.hex(0, "hex").unwrap_err().code, code::DESERIALIZATION);
        assert_eq!(p.hex(1, "hex").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(p.hash(1, "hash").unwrap_err().code, code::DESERIALIZATION);
    }
}
