//! The CSV formats: Azure Functions per-minute counts and generic CSVs with a timestamp
//! column.
//!
//! An Azure file has the header `HashOwner,HashApp,HashFunction,Trigger,<minute>...`: every
//! column after `Trigger` is one minute, in order, whatever its label. Minute `j` of a file
//! becomes the bucket `[offset + 60 j, offset + 60 (j + 1))`, where `offset` is where the
//! previous file ended; its count (of one function, or of all rows summed) is spread inside.
//! Should several rows carry the requested `HashFunction`, their counts are summed.
//!
//! A generic CSV names its timestamp column and the column's unit. A value `v` stands for
//! the bucket `[v, v + resolution)`: timestamps are truncated, not rounded, by whoever wrote
//! them. The resolution is per file: `10^-d` of the unit for numbers, where `d` is the most
//! decimal places any value of the file has, and one second (or `10^-d` s with fractional
//! seconds) for date-times. Rows that share a value share a bucket. Values must not
//! decrease, across files too, and the first value of the first file is the origin.

use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDateTime;
use rand_pcg::Pcg64;

use super::error::{TraceError, excerpt_bytes};
use super::load::{io_error, open};
use super::spread::spread_uniform;
use super::text::{Decimal, parse_count, require_arrivals, unsorted};

/// Width of one Azure bucket, seconds.
const MINUTE_S: f64 = 60.0;

/// Reads one Azure per-minute count file, appending arrivals from `*next_start` on and
/// moving `*next_start` past the file's last minute.
pub(super) fn read_azure_minute(
    path: &Path,
    function: Option<&str>,
    next_start: &mut f64,
    rng: &mut Pcg64,
    arrivals: &mut Vec<f64>,
) -> Result<(), TraceError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(open(path)?);
    let columns = header(&mut reader, path)?;
    let trigger = find_column(&columns, "Trigger", path)?;
    let function_column = match function {
        Some(_) => Some(find_column(&columns, "HashFunction", path)?),
        None => None,
    };
    let first_minute = trigger + 1;
    let mut totals = vec![0u64; columns.len() - first_minute];

    // Sum the minute columns of every selected row.
    let mut found = false;
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|error| csv_error(path, error))?
    {
        let line = record_line(&record);
        if let (Some(hash), Some(column)) = (function, function_column) {
            if record.get(column).map(<[u8]>::trim_ascii) != Some(hash.as_bytes()) {
                continue;
            }
            found = true;
        }
        for (minute, total) in totals.iter_mut().enumerate() {
            let column = first_minute + minute;
            let field = record.get(column).unwrap_or_default().trim_ascii();
            let count = parse_count(field).ok_or_else(|| TraceError::BadCount {
                path: path.to_path_buf(),
                line,
                field: format!("column {}", columns[column]),
                text: excerpt_bytes(field),
            })?;
            *total = total.checked_add(count).ok_or(TraceError::TooLarge {
                path: path.to_path_buf(),
                line: Some(line),
                count,
            })?;
        }
    }
    if let (Some(function), false) = (function, found) {
        return Err(TraceError::UnknownFunction {
            path: path.to_path_buf(),
            function: function.to_string(),
        });
    }

    // Spread each minute's total inside the minute.
    let before = arrivals.len();
    for (minute, &count) in totals.iter().enumerate() {
        let start = *next_start + MINUTE_S * minute as f64;
        spread_uniform(rng, start, MINUTE_S, count, arrivals).map_err(|count| {
            TraceError::TooLarge {
                path: path.to_path_buf(),
                line: None,
                count,
            }
        })?;
    }
    *next_start += MINUTE_S * totals.len() as f64;
    require_arrivals(path, arrivals.len() - before)
}

/// The unit of a generic CSV's timestamp column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeUnit {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
    /// `YYYY-MM-DD HH:MM:SS[.fff]`, with a space or a `T`, optionally ending in `Z`.
    DateTime,
}

impl TimeUnit {
    /// Seconds per unit (a date-time difference is already in seconds).
    fn seconds(self) -> f64 {
        match self {
            TimeUnit::Seconds | TimeUnit::DateTime => 1.0,
            TimeUnit::Milliseconds => 1e-3,
            TimeUnit::Microseconds => 1e-6,
            TimeUnit::Nanoseconds => 1e-9,
        }
    }
}

impl FromStr for TimeUnit {
    type Err = TraceError;

    fn from_str(unit: &str) -> Result<Self, Self::Err> {
        match unit {
            "s" => Ok(TimeUnit::Seconds),
            "ms" => Ok(TimeUnit::Milliseconds),
            "us" => Ok(TimeUnit::Microseconds),
            "ns" => Ok(TimeUnit::Nanoseconds),
            "datetime" => Ok(TimeUnit::DateTime),
            _ => Err(TraceError::UnknownUnit {
                unit: unit.to_string(),
            }),
        }
    }
}

/// What a generic CSV file leaves to the next one.
#[derive(Debug)]
pub(super) struct CsvState {
    column: String,
    unit: TimeUnit,
    /// The first value of the load, which all others are measured from (one of the two,
    /// depending on the unit).
    number_origin: Option<Decimal>,
    datetime_origin: Option<NaiveDateTime>,
    /// The last value, in the column's unit from the origin.
    previous: f64,
    previous_text: String,
}

impl CsvState {
    pub(super) fn new(column: &str, unit: TimeUnit) -> Self {
        Self {
            column: column.to_string(),
            unit,
            number_origin: None,
            datetime_origin: None,
            previous: 0.0,
            previous_text: String::new(),
        }
    }
}

/// Reads the timestamp column of one generic CSV file and appends its arrivals.
pub(super) fn read_csv(
    path: &Path,
    state: &mut CsvState,
    rng: &mut Pcg64,
    arrivals: &mut Vec<f64>,
) -> Result<(), TraceError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open(path)?);
    let columns = header(&mut reader, path)?;
    let column = find_column(&columns, &state.column, path)?;

    // First pass over the file: values from the origin, in the column's unit.
    let mut values = Vec::new();
    let mut decimals = 0u32;
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|error| csv_error(path, error))?
    {
        let line = record_line(&record);
        let field = record.get(column).ok_or_else(|| TraceError::Csv {
            path: path.to_path_buf(),
            line: Some(line),
            message: format!("the row has {} fields, no '{}'", record.len(), state.column),
        })?;
        let text = std::str::from_utf8(field.trim_ascii()).map_err(|_| TraceError::NotANumber {
            path: path.to_path_buf(),
            line,
            text: excerpt_bytes(field),
        })?;
        if text.is_empty() && record.iter().all(|field| field.trim_ascii().is_empty()) {
            continue;
        }
        let (value, places) = parse_value(text, state, path, line)?;
        if value < state.previous {
            return Err(unsorted(path, line, text, &state.previous_text));
        }
        state.previous = value;
        state.previous_text.clear();
        state.previous_text.push_str(text);
        decimals = decimals.max(places);
        values.push(value);
    }
    require_arrivals(path, values.len())?;

    // Second pass: each run of equal values is one bucket of the file's resolution.
    let resolution = 10f64.powi(-(decimals.min(300) as i32));
    let seconds = state.unit.seconds();
    for run in values.chunk_by(|a, b| a == b) {
        let count = run.len() as u64;
        spread_uniform(rng, run[0] * seconds, resolution * seconds, count, arrivals).map_err(
            |count| TraceError::TooLarge {
                path: path.to_path_buf(),
                line: None,
                count,
            },
        )?;
    }
    Ok(())
}

/// Parses one timestamp: its value from the origin, in the column's unit, and its decimal
/// places. The first value parsed becomes the origin.
fn parse_value(
    text: &str,
    state: &mut CsvState,
    path: &Path,
    line: u64,
) -> Result<(f64, u32), TraceError> {
    if state.unit == TimeUnit::DateTime {
        let time = parse_datetime(text).ok_or_else(|| TraceError::BadDateTime {
            path: path.to_path_buf(),
            line,
            text: super::error::excerpt(text),
        })?;
        let origin = *state.datetime_origin.get_or_insert(time);
        let places = fraction_places(text);
        return Ok(((time - origin).as_seconds_f64(), places));
    }

    let number = Decimal::parse(text).map_err(|error| error.at(path, line, text))?;
    let origin = *state.number_origin.get_or_insert(number);
    Ok((number.minus(origin), number.decimals))
}

/// `YYYY-MM-DD HH:MM:SS[.fff]` with a space or a `T` between date and time, and an optional
/// trailing `Z`.
fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
}

/// Digits after the decimal point of a date-time's seconds.
fn fraction_places(text: &str) -> u32 {
    text.rsplit_once('.').map_or(0, |(_, fraction)| {
        fraction.bytes().take_while(u8::is_ascii_digit).count() as u32
    })
}

/// The header's column names, trimmed, without a byte-order mark.
fn header<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    path: &Path,
) -> Result<Vec<String>, TraceError> {
    let header = reader
        .byte_headers()
        .map_err(|error| csv_error(path, error))?;
    if header.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let columns = header
        .iter()
        .map(|name| {
            let name = String::from_utf8_lossy(name);
            name.trim_start_matches('\u{feff}').trim().to_string()
        })
        .collect();
    Ok(columns)
}

/// Index of column `name`, or an error listing the columns there are.
fn find_column(columns: &[String], name: &str, path: &Path) -> Result<usize, TraceError> {
    columns
        .iter()
        .position(|column| column == name)
        .ok_or_else(|| TraceError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            columns: columns.join(", "),
        })
}

/// 1-based line on which `record` starts.
fn record_line(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

/// A CSV reader error as a [`TraceError`] naming the file and, where known, the line.
fn csv_error(path: &Path, error: csv::Error) -> TraceError {
    let line = error.position().map(csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields but the header has {expected_len}"),
        _ => error.to_string(),
    };
    match error.into_kind() {
        csv::ErrorKind::Io(source) => io_error(path, source),
        _ => TraceError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::trace::spread::spreading_rng;
    use crate::trace::test_files::{fixture, write};

    fn azure(paths: &[PathBuf], function: Option<&str>) -> Result<Vec<f64>, TraceError> {
        let mut rng = spreading_rng(4);
        let mut arrivals = Vec::new();
        let mut next_start = 0.0;
        for path in paths {
            read_azure_minute(path, function, &mut next_start, &mut rng, &mut arrivals)?;
        }
        Ok(arrivals)
    }

    fn csv(paths: &[PathBuf], column: &str, unit: TimeUnit) -> Result<Vec<f64>, TraceError> {
        let mut rng = spreading_rng(4);
        let mut arrivals = Vec::new();
        let mut state = CsvState::new(column, unit);
        for path in paths {
            read_csv(path, &mut state, &mut rng, &mut arrivals)?;
        }
        Ok(arrivals)
    }

    /// How many arrivals fall in each of `buckets` consecutive buckets of `width` from 0.
    fn histogram(arrivals: &[f64], width: f64, buckets: usize) -> Vec<usize> {
        let mut counts = vec![0; buckets];
        for t in arrivals {
            counts[(t / width).floor() as usize] += 1;
        }
        counts
    }

    #[test]
    fn azure_sums_all_functions_per_minute() {
        // azure.csv minutes 480, 481, 482: f1 2 0 1, f2 0 0 3, f3 1 0 0 -> totals 3, 0, 4.
        let arrivals = azure(&[fixture("azure.csv")], None).unwrap();
        assert_eq!(histogram(&arrivals, 60.0, 3), vec![3, 0, 4]);
        assert!(arrivals.is_sorted());
    }

    #[test]
    fn azure_selects_one_function() {
        let arrivals = azure(&[fixture("azure.csv")], Some("f2")).unwrap();
        assert_eq!(histogram(&arrivals, 60.0, 3), vec![0, 0, 3]);
    }

    #[test]
    fn azure_files_follow_each_other() {
        // Two copies of a three-minute file: the second starts at 180 s.
        let arrivals = azure(&[fixture("azure.csv"), fixture("azure.csv")], Some("f1")).unwrap();
        assert_eq!(histogram(&arrivals, 60.0, 6), vec![2, 0, 1, 2, 0, 1]);
    }

    #[test]
    fn an_unknown_function_is_named_with_the_file() {
        let message = azure(&[fixture("azure.csv")], Some("f9"))
            .unwrap_err()
            .to_string();
        assert!(
            message.ends_with("azure.csv: no row has HashFunction 'f9'"),
            "{message}"
        );
    }

    #[test]
    fn azure_needs_the_trigger_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "minutes.csv", "HashFunction,1,2\nf1,1,1\n");
        let message = azure(&[path], None).unwrap_err().to_string();
        let expected = "minutes.csv: no column 'Trigger'; the columns are: HashFunction, 1, 2";
        assert!(message.ends_with(expected), "{message}");
    }

    #[test]
    fn an_azure_bad_count_names_line_column_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let contents = "HashOwner,HashApp,HashFunction,Trigger,480,481\n\
                        o,a,f1,http,1,2\n\
                        o,a,f2,http,3,x7\n";
        let path = write(dir.path(), "counts.csv", contents);
        let message = azure(&[path], None).unwrap_err().to_string();
        let expected = "counts.csv line 3, column 481: count 'x7' is not a non-negative integer";
        assert!(message.ends_with(expected), "{message}");
    }

    #[test]
    fn an_azure_row_of_the_wrong_length_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let contents = "HashOwner,HashApp,HashFunction,Trigger,480\no,a,f1,http,1,2\n";
        let path = write(dir.path(), "ragged.csv", contents);
        let message = azure(&[path], None).unwrap_err().to_string();
        assert!(
            message.contains("ragged.csv line 2: the row has 6 fields"),
            "{message}"
        );
    }

    #[test]
    fn an_azure_file_of_zeros_has_no_arrivals() {
        let dir = tempfile::tempdir().unwrap();
        let contents = "HashOwner,HashApp,HashFunction,Trigger,480\no,a,f1,http,0\n";
        let path = write(dir.path(), "quiet.csv", contents);
        let message = azure(&[path], None).unwrap_err().to_string();
        assert!(message.ends_with("quiet.csv: no arrivals"), "{message}");
    }

    #[test]
    fn numeric_csv_spreads_inside_the_finest_written_resolution() {
        // time_ms: 1000.5, 1000.5, 1002.25, 1010. Two decimals at most, so each value v
        // covers [v, v + 0.01) ms. From the origin 1000.5 ms: two arrivals in
        // [0, 1e-5) s, one in [1.75e-3, 1.76e-3) s, one in [9.5e-3, 9.51e-3) s.
        let arrivals = csv(
            &[fixture("requests.csv")],
            "time_ms",
            TimeUnit::Milliseconds,
        );
        let arrivals = arrivals.unwrap();
        let buckets = [
            (0.0, 1e-5),
            (0.0, 1e-5),
            (1.75e-3, 1.76e-3),
            (9.5e-3, 9.51e-3),
        ];
        assert_eq!(arrivals.len(), buckets.len());
        for (t, (start, end)) in arrivals.iter().zip(buckets) {
            assert!(
                start - 1e-15 <= *t && *t < end + 1e-15,
                "{t} outside [{start}, {end})"
            );
        }
        assert_ne!(
            arrivals[0], arrivals[1],
            "rows sharing a value are spread apart"
        );
    }

    #[test]
    fn datetime_csv_spreads_inside_seconds_or_finer() {
        // created: 16:57:50 twice, 16:57:52, 16:58:00.5. One fractional digit in the file,
        // so each value covers 0.1 s: [0, 0.1) twice, [2, 2.1), [10.5, 10.6).
        let arrivals = csv(&[fixture("requests.csv")], "created", TimeUnit::DateTime).unwrap();
        let buckets = [(0.0, 0.1), (0.0, 0.1), (2.0, 2.1), (10.5, 10.6)];
        assert_eq!(arrivals.len(), buckets.len());
        for (t, (start, end)) in arrivals.iter().zip(buckets) {
            assert!(start <= *t && *t < end, "{t} outside [{start}, {end})");
        }
    }

    #[test]
    fn whole_second_datetimes_cover_one_second() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "log.csv",
            "at\n2024-01-01 00:00:00\n2024-01-01 00:00:03Z\n",
        );
        let arrivals = csv(&[path], "at", TimeUnit::DateTime).unwrap();
        assert!((0.0..1.0).contains(&arrivals[0]) && (3.0..4.0).contains(&arrivals[1]));
    }

    #[test]
    fn csv_files_share_one_origin_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "a.csv", "t\n10\n12\n");
        let second = write(dir.path(), "b.csv", "t\n15\n");
        let arrivals = csv(&[first.clone(), second], "t", TimeUnit::Seconds).unwrap();
        assert_eq!(histogram(&arrivals, 1.0, 6), vec![1, 0, 1, 0, 0, 1]);

        let earlier = write(dir.path(), "c.csv", "t\n11\n");
        let message = csv(&[first, earlier], "t", TimeUnit::Seconds)
            .unwrap_err()
            .to_string();
        let expected = "c.csv line 2: timestamp 11 is earlier than the previous one (12)";
        assert!(message.ends_with(expected), "{message}");
    }

    #[test]
    fn a_missing_csv_column_lists_the_columns() {
        let message = csv(&[fixture("requests.csv")], "gmt_create", TimeUnit::DateTime)
            .unwrap_err()
            .to_string();
        let expected =
            "requests.csv: no column 'gmt_create'; the columns are: id, time_ms, created";
        assert!(message.ends_with(expected), "{message}");
    }

    #[test]
    fn bad_csv_values_name_file_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "bad.csv", "id,t\n1,5\n2,five\n");
        let message = csv(&[path], "t", TimeUnit::Seconds)
            .unwrap_err()
            .to_string();
        assert!(
            message.ends_with("bad.csv line 3: 'five' is not a number"),
            "{message}"
        );

        let path = write(
            dir.path(),
            "when.csv",
            "t\n2024-01-01 00:00:00\n2024-13-01 00:00:00\n",
        );
        let message = csv(&[path], "t", TimeUnit::DateTime)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("when.csv line 3: '2024-13-01 00:00:00'"),
            "{message}"
        );

        let path = write(dir.path(), "short.csv", "id,t\n1,5\n2\n");
        let message = csv(&[path], "t", TimeUnit::Seconds)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("short.csv line 3: the row has 1 fields"),
            "{message}"
        );
    }

    #[test]
    fn a_csv_with_a_header_only_has_no_arrivals() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "header.csv", "id,t\n");
        let message = csv(&[path], "t", TimeUnit::Seconds)
            .unwrap_err()
            .to_string();
        assert!(message.ends_with("header.csv: no arrivals"), "{message}");
        let path = write(dir.path(), "nothing.csv", "");
        let message = csv(&[path], "t", TimeUnit::Seconds)
            .unwrap_err()
            .to_string();
        assert!(message.ends_with("nothing.csv: no arrivals"), "{message}");
    }

    #[test]
    fn units_parse_and_scale() {
        assert_eq!("us".parse::<TimeUnit>().unwrap().seconds(), 1e-6);
        assert_eq!("datetime".parse::<TimeUnit>().unwrap(), TimeUnit::DateTime);
        assert!("sec".parse::<TimeUnit>().is_err());
    }
}
