//! Loading a [`Trace`] from files in one of the formats real traces come in.
//!
//! [`load`] reads several files of one [`Format`] as one trace, concatenated in the order
//! given, and decompresses gzip files on the fly (a name ending in `.gz`, or the gzip magic
//! bytes). Per format:
//!
//! - `gaps`: one inter-arrival time in seconds per line; arrivals are the running sum over
//!   all files, the first gap measured from time 0.
//! - `timestamps`: one arrival time in seconds per line, non-decreasing over all files; the
//!   first timestamp is the origin.
//! - `azure-minute`: the Azure Functions 2019 per-minute invocation counts, all functions
//!   summed or the one whose `HashFunction` is given; each file follows the previous in time.
//! - `per-second`: one count per second, one per line or whitespace-separated; each file
//!   follows the previous in time.
//! - `csv`: a CSV with a header and a timestamp column in `s`, `ms`, `us`, `ns` or
//!   `datetime`, non-decreasing over all files; the first timestamp is the origin.
//!
//! Count formats and coarse timestamps only say how many arrivals fell in a time bucket;
//! [`spread_uniform`](super::spread_uniform) places them inside it with the load's seed.
//! Blank lines are skipped everywhere. Every file must yield at least one arrival.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use flate2::bufread::MultiGzDecoder;

use super::error::TraceError;
use super::spread::spreading_rng;
use super::{Trace, table, text};

/// The file formats [`load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// One inter-arrival time in seconds per line.
    Gaps,
    /// One arrival time in seconds per line.
    Timestamps,
    /// Azure Functions 2019 per-minute invocation counts (CSV).
    AzureMinute,
    /// One arrival count per second.
    PerSecond,
    /// A CSV with a header and a named timestamp column.
    Csv,
}

impl Format {
    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: [Format; 5] = [
        Format::Gaps,
        Format::Timestamps,
        Format::AzureMinute,
        Format::PerSecond,
        Format::Csv,
    ];

    /// The names [`FromStr`] accepts.
    pub const NAMES: [&'static str; 5] =
        ["gaps", "timestamps", "azure-minute", "per-second", "csv"];

    /// The name [`FromStr`] accepts for this format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Gaps => "gaps",
            Format::Timestamps => "timestamps",
            Format::AzureMinute => "azure-minute",
            Format::PerSecond => "per-second",
            Format::Csv => "csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = TraceError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| TraceError::UnknownFormat {
                name: name.to_string(),
            })
    }
}

/// How to read a trace: the format and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The files' format.
    pub format: Format,
    /// Seed of the generator that spreads counted arrivals inside their buckets.
    pub seed: u64,
    /// `azure-minute`: the `HashFunction` to keep; `None` sums all functions.
    pub function: Option<String>,
    /// `csv`: the name of the timestamp column (required).
    pub column: Option<String>,
    /// `csv`: the column's unit, `s` (the default), `ms`, `us`, `ns` or `datetime`.
    pub unit: Option<String>,
}

impl LoadOptions {
    /// Options for `format` with seed 0 and no format-specific option set.
    pub fn new(format: Format) -> Self {
        Self {
            format,
            seed: 0,
            function: None,
            column: None,
            unit: None,
        }
    }
}

/// Loads `paths`, in order, as one trace.
///
/// # Errors
///
/// [`TraceError`] naming the file, the line and the offending value: unreadable files,
/// malformed or out-of-order values, missing columns or functions, a file without any
/// arrival, and options the format needs but did not get.
pub fn load(paths: &[PathBuf], options: &LoadOptions) -> Result<Trace, TraceError> {
    if paths.is_empty() {
        return Err(TraceError::NoFiles);
    }
    let mut rng = spreading_rng(options.seed);
    let mut arrivals = Vec::new();

    match options.format {
        Format::Gaps => {
            let mut clock = 0.0;
            for path in paths {
                text::read_gaps(path, &mut clock, &mut arrivals)?;
            }
        }
        Format::Timestamps => {
            let mut state = text::TimestampState::default();
            for path in paths {
                text::read_timestamps(path, &mut state, &mut arrivals)?;
            }
        }
        Format::PerSecond => {
            let mut next_second = 0u64;
            for path in paths {
                text::read_per_second(path, &mut next_second, &mut rng, &mut arrivals)?;
            }
        }
        Format::AzureMinute => {
            let mut next_start = 0.0;
            let function = options.function.as_deref();
            for path in paths {
                table::read_azure_minute(path, function, &mut next_start, &mut rng, &mut arrivals)?;
            }
        }
        Format::Csv => {
            let column = options.column.as_deref().ok_or(TraceError::MissingOption {
                format: Format::Csv,
                option: "column",
            })?;
            let unit = options.unit.as_deref().unwrap_or("s").parse()?;
            let mut state = table::CsvState::new(column, unit);
            for path in paths {
                table::read_csv(path, &mut state, &mut rng, &mut arrivals)?;
            }
        }
    }

    if arrivals.is_empty() {
        return Err(TraceError::NoArrivals { files: paths.len() });
    }
    // Neighbouring buckets can overlap by a rounding error; restore the order if they did.
    if !arrivals.is_sorted() {
        arrivals.sort_unstable_by(f64::total_cmp);
    }
    Ok(Trace::new(arrivals))
}

/// Opens `path` for buffered reading, gunzipping it when its name ends in `.gz` or it starts
/// with the gzip magic bytes.
pub(super) fn open(path: &Path) -> Result<Box<dyn BufRead>, TraceError> {
    const BUFFER_BYTES: usize = 1 << 16;
    const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let mut reader = BufReader::with_capacity(BUFFER_BYTES, file);
    let head = reader.fill_buf().map_err(|source| io_error(path, source))?;
    let named_gz = path.extension().is_some_and(|extension| extension == "gz");
    if named_gz || head.starts_with(&GZIP_MAGIC) {
        let decoder = MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder)))
    } else {
        Ok(Box::new(reader))
    }
}

/// An I/O error on `path`.
pub(super) fn io_error(path: &Path, source: std::io::Error) -> TraceError {
    TraceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::trace::test_files::{fixture, write};

    fn write_gz(dir: &Path, name: &str, contents: &str) -> PathBuf {
        let path = dir.join(name);
        let mut encoder = GzEncoder::new(File::create(&path).unwrap(), Compression::default());
        encoder.write_all(contents.as_bytes()).unwrap();
        encoder.finish().unwrap();
        path
    }

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>().unwrap(), format);
        }
    }

    #[test]
    fn unknown_format_lists_the_valid_names() {
        let message = "minutes".parse::<Format>().unwrap_err().to_string();
        assert!(message.contains("'minutes'"), "{message}");
        for name in Format::NAMES {
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn options_default_to_seed_zero_and_no_extras() {
        let options = LoadOptions::new(Format::Gaps);
        assert_eq!(options.seed, 0);
        assert_eq!(
            (options.function, options.column, options.unit),
            (None, None, None)
        );
    }

    #[test]
    fn every_format_loads_its_fixture() {
        // Arrival counts of the fixtures: gaps.txt 4 lines, timestamps.txt 4, azure.csv
        // 3 + 0 + 4 over its minutes, per_second.txt 3 + 0 + 2 + 1, requests.csv 4 rows.
        // The first arrival lies in the first bucket: the first gap is 0.5 s, the first
        // timestamp is the origin, the first Azure minute holds arrivals, so does the first
        // second, and the first date-time covers 0.1 s (the file has tenths).
        let csv = LoadOptions {
            column: Some("created".into()),
            unit: Some("datetime".into()),
            ..LoadOptions::new(Format::Csv)
        };
        let cases = [
            ("gaps.txt", LoadOptions::new(Format::Gaps), 4, 0.5..=0.5),
            (
                "timestamps.txt",
                LoadOptions::new(Format::Timestamps),
                4,
                0.0..=0.0,
            ),
            (
                "azure.csv",
                LoadOptions::new(Format::AzureMinute),
                7,
                0.0..=60.0,
            ),
            (
                "per_second.txt",
                LoadOptions::new(Format::PerSecond),
                6,
                0.0..=1.0,
            ),
            ("requests.csv", csv, 4, 0.0..=0.1),
        ];
        for (name, options, count, first) in cases {
            let trace = load(&[fixture(name)], &options).unwrap();
            assert_eq!(trace.len(), count, "{name}");
            assert!(
                first.contains(&trace.arrivals[0]),
                "{name}: {:?}",
                trace.arrivals
            );
        }
    }

    #[test]
    fn azure_function_option_reaches_the_parser() {
        let options = LoadOptions {
            function: Some("f2".into()),
            ..LoadOptions::new(Format::AzureMinute)
        };
        // f2 has 3 invocations, all in the third minute.
        let trace = load(&[fixture("azure.csv")], &options).unwrap();
        assert_eq!(trace.len(), 3);
        assert!(trace.arrivals.iter().all(|t| (120.0..180.0).contains(t)));
    }

    #[test]
    fn gzip_is_read_transparently() {
        let dir = tempfile::tempdir().unwrap();
        let plain = write(dir.path(), "gaps.txt", "0.5\n1.5\n");
        let gz = write_gz(dir.path(), "gaps.txt.gz", "0.5\n1.5\n");
        let options = LoadOptions::new(Format::Gaps);
        let expected = vec![0.5, 2.0];
        assert_eq!(load(&[plain], &options).unwrap().arrivals, expected);
        assert_eq!(load(&[gz], &options).unwrap().arrivals, expected);
    }

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes_too() {
        let dir = tempfile::tempdir().unwrap();
        let gz = write_gz(dir.path(), "gaps.compressed", "0.25\n");
        let trace = load(&[gz], &LoadOptions::new(Format::Gaps)).unwrap();
        assert_eq!(trace.arrivals, vec![0.25]);
    }

    #[test]
    fn two_gap_files_continue_the_running_sum() {
        // Fixture gaps.txt holds 0.5, 0, 1.25, 0.25 (with a blank line); the second file
        // 1 and 2: arrivals 0.5, 0.5, 1.75, 2.0, then 3.0 and 5.0.
        let dir = tempfile::tempdir().unwrap();
        let second = write_gz(dir.path(), "more.gz", "1\n2\n");
        let trace = load(
            &[fixture("gaps.txt"), second],
            &LoadOptions::new(Format::Gaps),
        )
        .unwrap();
        assert_eq!(trace.arrivals, vec![0.5, 0.5, 1.75, 2.0, 3.0, 5.0]);
    }

    #[test]
    fn two_timestamp_files_share_one_origin_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "a.txt", "100.5\n101\n");
        let second = write(dir.path(), "b.txt", "101\n103.25\n");
        let trace = load(
            &[first.clone(), second],
            &LoadOptions::new(Format::Timestamps),
        );
        assert_eq!(trace.unwrap().arrivals, vec![0.0, 0.5, 0.5, 2.75]);

        // Going back in time from one file to the next is an error in the second file.
        let late = write(dir.path(), "late.txt", "100.75\n");
        let message = load(&[first, late], &LoadOptions::new(Format::Timestamps))
            .unwrap_err()
            .to_string();
        assert!(message.contains("late.txt line 1"), "{message}");
        assert!(
            message.contains("100.75") && message.contains("(101)"),
            "{message}"
        );
    }

    #[test]
    fn loading_is_reproducible_from_the_seed() {
        let options = LoadOptions::new(Format::PerSecond);
        let path = [fixture("per_second.txt")];
        let first = load(&path, &options).unwrap();
        assert_eq!(first, load(&path, &options).unwrap());
        let other = LoadOptions { seed: 1, ..options };
        assert_ne!(first, load(&path, &other).unwrap());
    }

    #[test]
    fn no_files_is_an_error() {
        let error = load(&[], &LoadOptions::new(Format::Gaps)).unwrap_err();
        assert!(matches!(error, TraceError::NoFiles));
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.txt");
        let message = load(&[path], &LoadOptions::new(Format::Gaps))
            .unwrap_err()
            .to_string();
        assert!(message.contains("absent.txt"), "{message}");
    }

    #[test]
    fn a_corrupt_gzip_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "broken.gz", "not gzip at all\n");
        let message = load(&[path], &LoadOptions::new(Format::Gaps))
            .unwrap_err()
            .to_string();
        assert!(message.contains("broken.gz"), "{message}");
    }

    #[test]
    fn an_empty_file_is_an_error_even_after_a_good_one() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "good.txt", "1\n");
        let empty = write(dir.path(), "empty.txt", "\n  \n");
        for format in [Format::Gaps, Format::Timestamps, Format::PerSecond] {
            let paths = [good.clone(), empty.clone()];
            let message = load(&paths, &LoadOptions::new(format))
                .unwrap_err()
                .to_string();
            assert!(
                message.ends_with("empty.txt: no arrivals"),
                "{format}: {message}"
            );
        }
    }

    #[test]
    fn csv_needs_a_column_and_a_known_unit() {
        let path = [fixture("requests.csv")];
        let error = load(&path, &LoadOptions::new(Format::Csv)).unwrap_err();
        assert!(error.to_string().contains("'column'"), "{error}");

        let options = LoadOptions {
            column: Some("time".into()),
            unit: Some("minutes".into()),
            ..LoadOptions::new(Format::Csv)
        };
        let message = load(&path, &options).unwrap_err().to_string();
        assert!(
            message.contains("'minutes'") && message.contains("datetime"),
            "{message}"
        );
    }
}
