//! The plain-text formats: inter-arrival gaps, timestamps and per-second counts.
//!
//! Gaps and timestamps are read line by line into one reused buffer. Per-second counts are
//! scanned token by token straight from the reader's buffer, so that a file holding millions
//! of counts on a single line (the Twitter 2021 workload) is never held as one string.
//!
//! Timestamps are parsed as [`Decimal`]s, an exact integer part plus a fraction, and the
//! origin is subtracted before converting to `f64`: epoch times in nanoseconds
//! (about 1.7e18) would otherwise lose their low digits.

use std::io::BufRead;
use std::path::Path;

use rand_pcg::Pcg64;

use super::error::{TraceError, excerpt, excerpt_bytes};
use super::load::{io_error, open};
use super::spread::spread_uniform;

/// Reads inter-arrival times from `path`, appending `clock + running sum` to `arrivals`.
pub(super) fn read_gaps(
    path: &Path,
    clock: &mut f64,
    arrivals: &mut Vec<f64>,
) -> Result<(), TraceError> {
    let before = arrivals.len();
    for_each_line(path, |line, text| {
        let gap: f64 = text.parse().map_err(|_| not_a_number(path, line, text))?;
        if !gap.is_finite() {
            return Err(not_finite(path, line, text));
        }
        if gap < 0.0 {
            return Err(TraceError::NegativeGap {
                path: path.to_path_buf(),
                line,
                text: text.to_string(),
            });
        }
        *clock += gap;
        arrivals.push(*clock);
        Ok(())
    })?;
    require_arrivals(path, arrivals.len() - before)
}

/// What a timestamp file leaves to the next one: the origin and the last timestamp.
#[derive(Debug, Default)]
pub(super) struct TimestampState {
    origin: Option<Decimal>,
    previous: f64,
    previous_text: String,
}

/// Reads one arrival time per line from `path`, appending it, less the origin, to
/// `arrivals`.
pub(super) fn read_timestamps(
    path: &Path,
    state: &mut TimestampState,
    arrivals: &mut Vec<f64>,
) -> Result<(), TraceError> {
    let before = arrivals.len();
    for_each_line(path, |line, text| {
        let timestamp = Decimal::parse(text).map_err(|error| error.at(path, line, text))?;
        let origin = *state.origin.get_or_insert(timestamp);
        let time = timestamp.minus(origin);
        if time < state.previous {
            return Err(unsorted(path, line, text, &state.previous_text));
        }
        state.previous = time;
        state.previous_text.clear();
        state.previous_text.push_str(text);
        arrivals.push(time);
        Ok(())
    })?;
    require_arrivals(path, arrivals.len() - before)
}

/// Reads whitespace-separated per-second counts from `path`; count `i` of the load becomes
/// arrivals spread over `[i, i + 1)`. `next_second` carries `i` over to the next file.
pub(super) fn read_per_second(
    path: &Path,
    next_second: &mut u64,
    rng: &mut Pcg64,
    arrivals: &mut Vec<f64>,
) -> Result<(), TraceError> {
    let before = arrivals.len();
    let mut reader = open(path)?;
    let mut token = Vec::with_capacity(32);
    let mut line = 1u64;
    let mut index_on_line = 0u64;

    // Emits one token: parse the count, spread it over its second, move to the next one.
    let mut emit = |token: &[u8], line: u64, index_on_line: u64| {
        let count = parse_count(token).ok_or_else(|| TraceError::BadCount {
            path: path.to_path_buf(),
            line,
            field: format!("value {index_on_line} of the line"),
            text: excerpt_bytes(token),
        })?;
        let start = *next_second as f64;
        spread_uniform(rng, start, 1.0, count, arrivals).map_err(|count| TraceError::TooLarge {
            path: path.to_path_buf(),
            line: Some(line),
            count,
        })?;
        *next_second += 1;
        Ok::<(), TraceError>(())
    };

    loop {
        let chunk = reader.fill_buf().map_err(|source| io_error(path, source))?;
        if chunk.is_empty() {
            break;
        }
        for &byte in chunk {
            if byte.is_ascii_whitespace() {
                if !token.is_empty() {
                    index_on_line += 1;
                    emit(&token, line, index_on_line)?;
                    token.clear();
                }
                if byte == b'\n' {
                    line += 1;
                    index_on_line = 0;
                }
            } else {
                token.push(byte);
            }
        }
        let consumed = chunk.len();
        reader.consume(consumed);
    }
    if !token.is_empty() {
        emit(&token, line, index_on_line + 1)?;
    }
    require_arrivals(path, arrivals.len() - before)
}

/// Calls `each(line, text)` for every non-blank line of `path`, `text` trimmed.
fn for_each_line(
    path: &Path,
    mut each: impl FnMut(u64, &str) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let mut reader = open(path)?;
    let mut buffer = Vec::with_capacity(64);
    let mut line = 0u64;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| io_error(path, source))?;
        if read == 0 {
            return Ok(());
        }
        line += 1;
        let text = std::str::from_utf8(&buffer)
            .map_err(|_| TraceError::NotANumber {
                path: path.to_path_buf(),
                line,
                text: excerpt_bytes(buffer.trim_ascii()),
            })?
            .trim();
        if !text.is_empty() {
            each(line, text)?;
        }
    }
}

/// A count: ASCII digits only, at most `u64::MAX`.
pub(super) fn parse_count(token: &[u8]) -> Option<u64> {
    if token.is_empty() {
        return None;
    }
    token.iter().try_fold(0u64, |count, &byte| {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit <= 9)?;
        count.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// `Empty` unless the file added at least one arrival.
pub(super) fn require_arrivals(path: &Path, added: usize) -> Result<(), TraceError> {
    if added == 0 {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

pub(super) fn not_a_number(path: &Path, line: u64, text: &str) -> TraceError {
    TraceError::NotANumber {
        path: path.to_path_buf(),
        line,
        text: excerpt(text),
    }
}

fn not_finite(path: &Path, line: u64, text: &str) -> TraceError {
    TraceError::NotFinite {
        path: path.to_path_buf(),
        line,
        text: excerpt(text),
    }
}

pub(super) fn unsorted(path: &Path, line: u64, text: &str, previous: &str) -> TraceError {
    TraceError::Unsorted {
        path: path.to_path_buf(),
        line,
        text: excerpt(text),
        previous: excerpt(previous),
    }
}

/// A decimal number split so that differences between large values stay exact:
/// the value is `whole + fraction`, both carrying the sign.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Decimal {
    whole: i64,
    fraction: f64,
    /// Digits after the decimal point (for `1.5e-3`, the digits the value needs: 4).
    pub(super) decimals: u32,
}

/// Why a field is not a [`Decimal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumberError {
    NotANumber,
    NotFinite,
}

impl NumberError {
    /// The error for `text` at `path` line `line`.
    pub(super) fn at(self, path: &Path, line: u64, text: &str) -> TraceError {
        match self {
            NumberError::NotANumber => not_a_number(path, line, text),
            NumberError::NotFinite => not_finite(path, line, text),
        }
    }
}

impl Decimal {
    /// Parses `[+-]digits[.digits]` exactly, and anything else `f64` accepts (exponents) as
    /// an `f64`.
    pub(super) fn parse(text: &str) -> Result<Self, NumberError> {
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole_digits, fraction_digits) = body.split_once('.').unwrap_or((body, ""));
        let all_digits = |digits: &str| digits.bytes().all(|byte| byte.is_ascii_digit());
        let plain = !(whole_digits.is_empty() && fraction_digits.is_empty())
            && all_digits(whole_digits)
            && all_digits(fraction_digits);
        // `None` when the number is not plain or its integer part does not fit an i64.
        let whole = plain.then(|| {
            whole_digits.bytes().try_fold(0i64, |whole, byte| {
                whole.checked_mul(10)?.checked_add(i64::from(byte - b'0'))
            })
        });

        if let Some(Some(whole)) = whole {
            let fraction = match fraction_digits {
                "" => 0.0,
                _ => body[whole_digits.len()..]
                    .parse::<f64>()
                    .map_err(|_| NumberError::NotANumber)?,
            };
            let (whole, fraction) = if negative {
                (-whole, -fraction)
            } else {
                (whole, fraction)
            };
            return Ok(Self {
                whole,
                fraction,
                decimals: fraction_digits.len() as u32,
            });
        }

        // Exponent forms and very long integers: an f64 is the best we can do.
        let value: f64 = text.parse().map_err(|_| NumberError::NotANumber)?;
        if !value.is_finite() {
            return Err(NumberError::NotFinite);
        }
        Ok(Self {
            whole: 0,
            fraction: value,
            decimals: exponent_decimals(text),
        })
    }

    /// `self - origin` as an `f64`, the integer parts subtracted exactly.
    pub(super) fn minus(self, origin: Decimal) -> f64 {
        let whole = i128::from(self.whole) - i128::from(origin.whole);
        whole as f64 + (self.fraction - origin.fraction)
    }
}

/// Decimal places a number written with an exponent needs: `1.25e1` needs 1, `5e-3` needs 3.
fn exponent_decimals(text: &str) -> u32 {
    let (mantissa, exponent) = text
        .split_once(['e', 'E'])
        .map_or((text, 0), |(mantissa, exponent)| {
            (mantissa, exponent.parse::<i64>().unwrap_or(0))
        });
    let written = mantissa
        .split_once('.')
        .map_or(0, |(_, digits)| digits.len()) as i64;
    (written - exponent).clamp(0, i64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::trace::spread::spreading_rng;
    use crate::trace::test_files::{fixture, write};

    fn gaps(path: &Path) -> Result<Vec<f64>, TraceError> {
        let mut arrivals = Vec::new();
        read_gaps(path, &mut 0.0, &mut arrivals)?;
        Ok(arrivals)
    }

    fn timestamps(path: &Path) -> Result<Vec<f64>, TraceError> {
        let mut arrivals = Vec::new();
        read_timestamps(path, &mut TimestampState::default(), &mut arrivals)?;
        Ok(arrivals)
    }

    fn per_second(path: &Path, seed: u64) -> Result<Vec<f64>, TraceError> {
        let mut arrivals = Vec::new();
        read_per_second(path, &mut 0, &mut spreading_rng(seed), &mut arrivals)?;
        Ok(arrivals)
    }

    #[test]
    fn gaps_are_summed_from_zero_and_blank_lines_skipped() {
        // gaps.txt: 0.5, 0, (blank), 1.25, 0.25 -> 0.5, 0.5, 1.75, 2.0.
        assert_eq!(
            gaps(&fixture("gaps.txt")).unwrap(),
            vec![0.5, 0.5, 1.75, 2.0]
        );
    }

    #[test]
    fn a_negative_gap_names_file_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "gaps.txt", "0.1\n0.3\n-0.2\n");
        let message = gaps(&path).unwrap_err().to_string();
        assert!(
            message.ends_with("gaps.txt line 3: gap -0.2 is negative"),
            "{message}"
        );
    }

    #[test]
    fn text_in_a_number_field_names_file_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.txt", "1\nabc\n");
        let message = gaps(&path).unwrap_err().to_string();
        assert!(
            message.ends_with("x.txt line 2: 'abc' is not a number"),
            "{message}"
        );
        let message = timestamps(&path).unwrap_err().to_string();
        assert!(
            message.ends_with("x.txt line 2: 'abc' is not a number"),
            "{message}"
        );
    }

    #[test]
    fn nan_and_infinity_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let nan = write(dir.path(), "nan.txt", "1\r\nNaN\r\n");
        let message = gaps(&nan).unwrap_err().to_string();
        assert!(
            message.ends_with("nan.txt line 2: NaN is not a finite number"),
            "{message}"
        );
        let infinite = write(dir.path(), "inf.txt", "inf\n");
        let message = timestamps(&infinite).unwrap_err().to_string();
        assert!(
            message.ends_with("inf.txt line 1: inf is not a finite number"),
            "{message}"
        );
    }

    #[test]
    fn invalid_utf8_is_not_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bytes.txt");
        std::fs::write(&path, b"1\n\xff\xfe\n").unwrap();
        let message = gaps(&path).unwrap_err().to_string();
        assert!(message.contains("bytes.txt line 2:"), "{message}");
    }

    #[test]
    fn timestamps_start_at_their_first_value() {
        // timestamps.txt: 1700000000.25, 1700000000.25, 1700000001, 1700000003.5.
        let arrivals = timestamps(&fixture("timestamps.txt")).unwrap();
        assert_eq!(arrivals, vec![0.0, 0.0, 0.75, 3.25]);
    }

    #[test]
    fn unsorted_timestamps_name_file_line_value_and_previous() {
        let dir = tempfile::tempdir().unwrap();
        let lines = "1\n".repeat(15) + "13.0\n12.5\n";
        let path = write(dir.path(), "trace.txt", &lines);
        let message = timestamps(&path).unwrap_err().to_string();
        let expected = "trace.txt line 17: timestamp 12.5 is earlier than the previous one (13.0)";
        assert!(message.ends_with(expected), "{message}");
    }

    #[test]
    fn nanosecond_epochs_keep_their_low_digits() {
        // 1.7e18 needs 61 bits; an f64 keeps 53, so parsing to f64 first would lose the 7.
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "ns.txt",
            "1700000000000000000\n1700000000000000007\n",
        );
        assert_eq!(timestamps(&path).unwrap(), vec![0.0, 7.0]);
    }

    #[test]
    fn per_second_counts_on_one_or_many_lines() {
        // per_second.txt: "3 0 2" then "1": 3 arrivals in [0,1), none in [1,2), 2 in [2,3),
        // 1 in [3,4).
        let arrivals = per_second(&fixture("per_second.txt"), 9).unwrap();
        assert_eq!(arrivals.len(), 6);
        let seconds: Vec<u64> = arrivals.iter().map(|t| t.floor() as u64).collect();
        assert_eq!(seconds, vec![0, 0, 0, 2, 2, 3]);
        assert!(arrivals.is_sorted());
    }

    #[test]
    fn per_second_continues_from_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "counts.txt", "0\t1");
        let mut arrivals = Vec::new();
        let mut next_second = 10;
        read_per_second(
            &path,
            &mut next_second,
            &mut spreading_rng(0),
            &mut arrivals,
        )
        .unwrap();
        assert_eq!(next_second, 12);
        assert_eq!(arrivals.len(), 1);
        assert!((11.0..12.0).contains(&arrivals[0]), "{arrivals:?}");
    }

    #[test]
    fn a_bad_count_names_file_line_position_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "counts.txt", "1 2\n3 4 -5 6\n");
        let message = per_second(&path, 0).unwrap_err().to_string();
        let expected = "counts.txt line 2, value 3 of the line: count '-5' is not a non-negative \
                        integer";
        assert!(message.ends_with(expected), "{message}");
        let path = write(dir.path(), "float.txt", "1.5");
        let message = per_second(&path, 0).unwrap_err().to_string();
        assert!(message.contains("float.txt line 1, value 1 of the line: count '1.5'"));
    }

    #[test]
    fn all_zero_counts_are_no_arrivals() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "zeros.txt", "0 0 0\n");
        let message = per_second(&path, 0).unwrap_err().to_string();
        assert!(message.ends_with("zeros.txt: no arrivals"), "{message}");
    }

    #[test]
    fn counts_parse_digits_only() {
        assert_eq!(parse_count(b"0"), Some(0));
        assert_eq!(parse_count(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_count(b"18446744073709551616"), None);
        assert_eq!(parse_count(b""), None);
        assert_eq!(parse_count(b"+1"), None);
        assert_eq!(parse_count(b"1e3"), None);
    }

    #[test]
    fn decimals_parse_exactly_and_count_their_places() {
        let value = Decimal::parse("-12.250").unwrap();
        assert_eq!(
            (value.whole, value.fraction, value.decimals),
            (-12, -0.25, 3)
        );
        assert_eq!(
            Decimal::parse(".5")
                .unwrap()
                .minus(Decimal::parse("0").unwrap()),
            0.5
        );
        assert_eq!(Decimal::parse("7.").unwrap().decimals, 0);
        // Exponent forms: 1.25e1 = 12.5 needs one place, 5e-3 = 0.005 needs three.
        assert_eq!(Decimal::parse("1.25e1").unwrap().decimals, 1);
        assert_eq!(Decimal::parse("5e-3").unwrap().decimals, 3);
        assert_eq!(Decimal::parse("2E3").unwrap().decimals, 0);
        // 21 digits overflow an i64: parsed as an f64 instead of rejected.
        let huge = Decimal::parse("123456789012345678901").unwrap();
        assert_eq!(
            huge.minus(Decimal::parse("0").unwrap()),
            123456789012345678901.0
        );
        for text in ["", "-", ".", "1.2.3", "12a", "1,5"] {
            assert_eq!(Decimal::parse(text), Err(NumberError::NotANumber), "{text}");
        }
        assert_eq!(Decimal::parse("-inf"), Err(NumberError::NotFinite));
    }
}
