//! The error type of trace loading.
//!
//! Every variant that comes from a file carries its path, and every variant that comes from a
//! line carries the 1-based line number and the offending text, so that a message alone is
//! enough to find and fix the input: `gaps.txt line 3: gap -0.2 is negative`.

use std::path::PathBuf;

use super::Format;

/// Why a trace could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened, read or decompressed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },

    /// `load` was given no file at all.
    #[error("no trace file given")]
    NoFiles,

    /// A file yielded no arrival (empty, only blank lines, or only zero counts).
    #[error("{}: no arrivals", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// The files together yielded no arrival.
    #[error("no arrivals in {files} trace file(s)")]
    NoArrivals {
        /// How many files were read.
        files: usize,
    },

    /// A field that must be a number is not one.
    #[error("{} line {line}: '{text}' is not a number", .path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The field, shortened if very long.
        text: String,
    },

    /// A number is NaN or infinite.
    #[error("{} line {line}: {text} is not a finite number", .path.display())]
    NotFinite {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The field as written.
        text: String,
    },

    /// An inter-arrival time is below zero.
    #[error("{} line {line}: gap {text} is negative", .path.display())]
    NegativeGap {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The gap as written.
        text: String,
    },

    /// A timestamp is earlier than the one before it (possibly in the previous file).
    #[error(
        "{} line {line}: timestamp {text} is earlier than the previous one ({previous})",
        .path.display()
    )]
    Unsorted {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The timestamp as written.
        text: String,
        /// The previous timestamp as written.
        previous: String,
    },

    /// A count is not a non-negative integer.
    #[error(
        "{} line {line}, {field}: count '{text}' is not a non-negative integer",
        .path.display()
    )]
    BadCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Where on the line: `column 483` or `value 17 of the line`.
        field: String,
        /// The count as written, shortened if very long.
        text: String,
    },

    /// A count is too large to expand into arrivals in memory.
    #[error(
        "{}{}: count {count} is too large to expand into arrivals",
        .path.display(),
        line_suffix(*.line)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// 1-based line number, where the count comes from one line.
        line: Option<u64>,
        /// The count (or the sum of counts) that did not fit.
        count: u64,
    },

    /// A date-time field could not be parsed.
    #[error(
        "{} line {line}: '{text}' is not a date-time like 2024-11-15 16:57:50[.250]",
        .path.display()
    )]
    BadDateTime {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The field, shortened if very long.
        text: String,
    },

    /// A CSV file lacks a column that the format needs.
    #[error("{}: no column '{column}'; the columns are: {columns}", .path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header's columns, comma-separated.
        columns: String,
    },

    /// No row of an Azure file has the requested function hash.
    #[error("{}: no row has HashFunction '{function}'", .path.display())]
    UnknownFunction {
        /// The file.
        path: PathBuf,
        /// The hash asked for.
        function: String,
    },

    /// A CSV file is malformed (for example a row with the wrong number of fields).
    #[error("{}{}: {message}", .path.display(), line_suffix(*.line))]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number, where the CSV reader knows it.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },

    /// The format needs an option that was not given.
    #[error("the {format} format needs the '{option}' option")]
    MissingOption {
        /// The format.
        format: Format,
        /// The option's name.
        option: &'static str,
    },

    /// An unknown format name.
    #[error("unknown trace format '{name}'; the formats are: {}", Format::NAMES.join(", "))]
    UnknownFormat {
        /// The name given.
        name: String,
    },

    /// An unknown time unit for a CSV column.
    #[error("unknown time unit '{unit}'; the units are: s, ms, us, ns, datetime")]
    UnknownUnit {
        /// The unit given.
        unit: String,
    },
}

/// ` line N` when the line is known, nothing otherwise.
fn line_suffix(line: Option<u64>) -> String {
    line.map(|line| format!(" line {line}")).unwrap_or_default()
}

/// Shortens a field for an error message: a wrong format can make one "field" megabytes long.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// [`excerpt`] of raw bytes, replacing invalid UTF-8.
pub(crate) fn excerpt_bytes(bytes: &[u8]) -> String {
    excerpt(&String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_text_and_cuts_long_text() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "9 ".repeat(100);
        let short = excerpt(&long);
        assert_eq!(short.len(), 40 + 3);
        assert!(short.ends_with("..."));
    }

    #[test]
    fn csv_message_names_the_line_only_when_known() {
        let with_line = TraceError::Csv {
            path: "a.csv".into(),
            line: Some(4),
            message: "bad".into(),
        };
        assert_eq!(with_line.to_string(), "a.csv line 4: bad");
        let without = TraceError::Csv {
            path: "a.csv".into(),
            line: None,
            message: "bad".into(),
        };
        assert_eq!(without.to_string(), "a.csv: bad");
    }
}
