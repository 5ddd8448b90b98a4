//! Human units on the command line: durations such as `100ms`, `0.1s`, `250us`, `2m`.
//!
//! A bare number is read as seconds, so `0.1` and `100ms` mean the same.

use thiserror::Error;

/// A duration string that could not be read.
#[derive(Debug, Error, PartialEq)]
#[error("cannot read duration '{text}': {reason}")]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

/// Parses a duration into seconds.
///
/// # Errors
/// Empty text, an unknown unit, a value that is not a finite number or a negative value.
///
/// # Examples
/// ```
/// assert_eq!(deepbat_core::units::parse_duration("100ms").unwrap(), 0.1);
/// assert_eq!(deepbat_core::units::parse_duration("2s").unwrap(), 2.0);
/// ```
pub fn parse_duration(text: &str) -> Result<f64, DurationError> {
    let fail = |reason| DurationError {
        text: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(fail("empty"));
    }

    // Split the number from its unit at the first letter.
    let split = trimmed
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.trim().parse().map_err(|_| fail("not a number"))?;
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(fail("unknown unit (use ns, us, ms, s, m or h)")),
    };
    if !value.is_finite() {
        return Err(fail("not finite"));
    }
    if value < 0.0 {
        return Err(fail("negative"));
    }
    Ok(value * scale)
}

/// Formats seconds as milliseconds with up to three decimals, e.g. `12.5ms`.
pub fn format_ms(seconds: f64) -> String {
    let ms = seconds * 1e3;
    let text = format!("{ms:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("100ms").unwrap(), 0.1);
        assert_eq!(parse_duration("0.1s").unwrap(), 0.1);
        assert_eq!(parse_duration("0.25").unwrap(), 0.25);
        assert_eq!(parse_duration("5 ms").unwrap(), 0.005);
        assert_eq!(parse_duration("1e-3").unwrap(), 0.001);
        assert_eq!(parse_duration("2m").unwrap(), 120.0);
        assert!((parse_duration("250us").unwrap() - 250e-6).abs() < 1e-18);
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(parse_duration("").unwrap_err().reason, "empty");
        assert_eq!(parse_duration("-5ms").unwrap_err().reason, "negative");
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("NaNms").is_err());
    }

    #[test]
    fn formats_ms() {
        assert_eq!(format_ms(0.0125), "12.5ms");
        assert_eq!(format_ms(0.1), "100ms");
    }
}
