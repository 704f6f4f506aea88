//! Amounts as btcd prints them (`btcutil.Amount`'s `String`).

/// Satoshis as BTC with as few decimals as needed: `50 BTC`, `12.5 BTC`, `0.00000001 BTC`.
pub fn format_btc(sats: i64) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    let abs = sats.unsigned_abs();
    let (whole, frac) = (abs / 100_000_000, abs % 100_000_000);
    if frac == 0 {
        format!("{sign}{whole} BTC")
    } else {
        let digits = format!("{frac:08}");
        format!("{sign}{whole}.{} BTC", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_as_btcd_does() {
        assert_eq!(format_btc(50 * 100_000_000), "50 BTC");
        assert_eq!(format_btc(1_250_000_000), "12.5 BTC");
        assert_eq!(format_btc(1), "0.00000001 BTC");
        assert_eq!(format_btc(-150_000_000), "-1.5 BTC");
    }
}
