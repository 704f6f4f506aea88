//! Standard base64 (RFC 4648, padded): HTTP basic-auth headers, generated RPC credentials and
//! signed-message signatures need nothing more.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `bytes` with `=` padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Why a string is not padded standard base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base64Error {
    /// The length is not a multiple of four.
    Length(usize),
    /// A byte outside the alphabet, or padding before the end.
    IllegalByte(usize),
}

impl std::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Base64Error::Length(n) => write!(f, "length {n} is not a multiple of 4"),
            Base64Error::IllegalByte(at) => write!(f, "illegal base64 data at input byte {at}"),
        }
    }
}

impl std::error::Error for Base64Error {}

/// Decodes padded standard base64.
pub fn decode(s: &str) -> Result<Vec<u8>, Base64Error> {
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return Err(Base64Error::Length(bytes.len()));
    }
    let pad = bytes
        .iter()
        .rev()
        .take(2)
        .take_while(|b| **b == b'=')
        .count();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (c, chunk) in bytes.chunks(4).enumerate() {
        let mut n = 0u32;
        let last = c == bytes.len() / 4 - 1;
        let data = if last { 4 - pad } else { 4 };
        for (k, b) in chunk.iter().enumerate() {
            let v = if k < data {
                ALPHABET
                    .iter()
                    .position(|a| a == b)
                    .ok_or(Base64Error::IllegalByte(4 * c + k))? as u32
            } else {
                0
            };
            n = (n << 6) | v;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..data]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode, Base64Error};

    #[test]
    fn rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(input.as_bytes()), want);
            assert_eq!(decode(want).unwrap(), input.as_bytes());
        }
    }

    #[test]
    fn malformed_input_is_refused_with_its_position() {
        assert_eq!(decode("Zm9"), Err(Base64Error::Length(3)));
        assert_eq!(decode("Zm9v!A=="), Err(Base64Error::IllegalByte(4)));
        assert_eq!(decode("Z=9v"), Err(Base64Error::IllegalByte(1)));
    }
}
