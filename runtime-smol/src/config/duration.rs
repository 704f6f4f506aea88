//! Go-style durations as btcd's options take them: `24h`, `1h30m`, `90s`, `500ms`.

use std::time::Duration;

/// Parses a sequence of number+unit pairs (units h, m, s, ms).
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (examples: 24h, 1h30m, 90s)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        // Go's ParseDuration refuses what overflows its range too, rather than wrapping.
        total = Duration::try_from_secs_f64(number * seconds)
            .ok()
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5_400)));
    }

    #[test]
    fn durations_past_the_range_are_refused_not_wrapped() {
        let huge = "5000000000000000h5000000000000000h";
        assert_eq!(parse(huge), Err(format!("{huge:?} is too long a duration")));
        assert!(parse("1e400h").is_err());
        // Just inside the range (about 1.8e19 s) still parses.
        assert!(parse("5000000000000000h").is_ok());
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "10", "h", "10x", "-1s", "1h-2m"] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
