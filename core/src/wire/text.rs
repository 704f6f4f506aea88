//! Free text from peers (user agents, reject reasons).

/// Turns peer-supplied bytes into a string without changing their length: valid UTF-8 is kept,
/// otherwise every non-ASCII byte becomes `?`. btcd accepts any bytes in these fields and the
/// text is only displayed; keeping the length means a decoded message always re-encodes within
/// the same limits.
pub(super) fn text_from_wire(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '?' })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_keeps_its_length() {
        assert_eq!(
            text_from_wire("/Satoshi:0.21.0/ü".as_bytes()),
            "/Satoshi:0.21.0/ü"
        );
        assert_eq!(text_from_wire(&[b'a', 0xff, 0xc3, b'b']), "a??b");
    }
}
