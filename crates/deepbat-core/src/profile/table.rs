//! Measured service times, interpolated.
//!
//! A table holds, per measured memory size, the service time of some batch sizes. A
//! query `(M, b)` first finds the value at `b` in the two measured memories around `M`
//! (linear in `b` between the measured sizes around it), then interpolates linearly in `M`
//! between those two. Outside the measured range the table answers only when its
//! `extrapolate` flag is set: it continues the line through the two nearest points of each
//! axis, and never returns less than [`MIN_SERVICE_S`].
//!
//! The valid batch range is the one every memory row covers, so that a query inside the
//! [`Domain`] never extrapolates in either row it reads.

use super::{Domain, MIN_SERVICE_S, ProfileError, ServiceProfile};
use serde::{Deserialize, Serialize};

/// One measured point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    pub memory_mb: u32,
    pub batch_size: u32,
    pub seconds: f64,
}

/// The measurements at one memory size, sorted by batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub memory_mb: u32,
    pub batch_sizes: Vec<u32>,
    pub seconds: Vec<f64>,
}

/// A table-backed profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Where the measurements came from (a file name and, for class tables, the class).
    pub source: String,
    /// Rows sorted by memory.
    pub rows: Vec<TableRow>,
    /// Answer outside the measured range by linear continuation.
    #[serde(default)]
    pub extrapolate: bool,
}

impl Table {
    /// Builds a table from measurements in any order. Duplicates must have been rejected
    /// by the caller (the CSV reader names their lines); here the later one wins.
    pub fn from_measurements(source: String, measurements: &[Measurement]) -> Self {
        let mut sorted = measurements.to_vec();
        sorted.sort_by_key(|m| (m.memory_mb, m.batch_size));
        sorted.dedup_by_key(|m| (m.memory_mb, m.batch_size));
        let mut rows: Vec<TableRow> = Vec::new();
        for m in sorted {
            match rows.last_mut() {
                Some(row) if row.memory_mb == m.memory_mb => {
                    row.batch_sizes.push(m.batch_size);
                    row.seconds.push(m.seconds);
                }
                _ => rows.push(TableRow {
                    memory_mb: m.memory_mb,
                    batch_sizes: vec![m.batch_size],
                    seconds: vec![m.seconds],
                }),
            }
        }
        Self {
            source,
            rows,
            extrapolate: false,
        }
    }

    pub(super) fn domain(&self) -> Domain {
        let first = self.rows.first().map_or(0, |r| r.memory_mb);
        let last = self.rows.last().map_or(0, |r| r.memory_mb);
        let low = self
            .rows
            .iter()
            .filter_map(|r| r.batch_sizes.first())
            .copied()
            .max()
            .unwrap_or(0);
        let high = self
            .rows
            .iter()
            .filter_map(|r| r.batch_sizes.last())
            .copied()
            .min()
            .unwrap_or(0);
        Domain {
            memory_mb: (first, last),
            batch_size: (low, high),
        }
    }

    pub(super) fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        let shape = |message: String| ProfileError::Shape {
            path: origin.to_string(),
            message,
        };
        if self.rows.is_empty() {
            return Err(shape("the table has no measurements".into()));
        }
        for pair in self.rows.windows(2) {
            if pair[0].memory_mb >= pair[1].memory_mb {
                return Err(shape(format!(
                    "table rows must be sorted by memory without repeats ({} MB then {} MB)",
                    pair[0].memory_mb, pair[1].memory_mb
                )));
            }
        }
        for row in &self.rows {
            let m = row.memory_mb;
            if row.batch_sizes.is_empty() || row.batch_sizes.len() != row.seconds.len() {
                return Err(shape(format!(
                    "{m} MB: {} batch sizes but {} times",
                    row.batch_sizes.len(),
                    row.seconds.len()
                )));
            }
            if row.batch_sizes[0] == 0 || row.batch_sizes.windows(2).any(|w| w[0] >= w[1]) {
                return Err(shape(format!(
                    "{m} MB: batch sizes must be at least 1, sorted, without repeats"
                )));
            }
            if let Some(s) = row.seconds.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
                return Err(shape(format!(
                    "{m} MB: service time {s} s is not a positive number"
                )));
            }
        }
        let domain = self.domain();
        if domain.batch_size.0 > domain.batch_size.1 {
            return Err(shape(format!(
                "no batch size is measured at every memory (rows cover {}..={} in common)",
                domain.batch_size.0, domain.batch_size.1
            )));
        }
        Ok(())
    }
}

impl ServiceProfile for Table {
    fn service_time(&self, memory_mb: u32, batch_size: u32) -> f64 {
        let (i, j, weight) = bracket(&self.rows, |r| r.memory_mb, memory_mb);
        let at = |row: &TableRow| {
            let (k, l, w) = bracket(&row.batch_sizes, |&b| b, batch_size);
            row.seconds[k] + w * (row.seconds[l] - row.seconds[k])
        };
        let low = at(&self.rows[i]);
        let s = if i == j {
            low
        } else {
            low + weight * (at(&self.rows[j]) - low)
        };
        s.max(MIN_SERVICE_S)
    }
}

/// The two items of `items` (sorted by `key`) to interpolate `x` between, and the weight of
/// the second: the items around `x` inside the range, the two nearest ends outside it (the
/// weight is then below 0 or above 1, which extrapolates). One item gives itself, weight 0.
fn bracket<T>(items: &[T], key: impl Fn(&T) -> u32, x: u32) -> (usize, usize, f64) {
    let n = items.len();
    if n == 1 {
        return (0, 0, 0.0);
    }
    let upper = items.partition_point(|v| key(v) < x).clamp(1, n - 1);
    let lower = upper - 1;
    let (a, b) = (f64::from(key(&items[lower])), f64::from(key(&items[upper])));
    (lower, upper, (f64::from(x) - a) / (b - a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(memory_mb: u32, batch_size: u32, seconds: f64) -> Measurement {
        Measurement {
            memory_mb,
            batch_size,
            seconds,
        }
    }

    fn sample() -> Table {
        // 1024 MB: b 1 -> 2 s, b 3 -> 4 s, b 5 -> 8 s; 2048 MB: b 1 -> 1 s, b 5 -> 3 s.
        Table::from_measurements(
            "test".into(),
            &[
                point(2048, 5, 3.0),
                point(1024, 1, 2.0),
                point(1024, 3, 4.0),
                point(1024, 5, 8.0),
                point(2048, 1, 1.0),
            ],
        )
    }

    #[test]
    fn exact_points_come_back() {
        let t = sample();
        t.validate("test").unwrap();
        assert_eq!(t.service_time(1024, 3), 4.0);
        assert_eq!(t.service_time(2048, 5), 3.0);
        assert_eq!(
            t.domain(),
            Domain {
                memory_mb: (1024, 2048),
                batch_size: (1, 5)
            }
        );
    }

    #[test]
    fn interpolates_by_hand() {
        let t = sample();
        // 1024 MB, b = 2: halfway between 2 and 4.
        assert!((t.service_time(1024, 2) - 3.0).abs() < 1e-12);
        // 2048 MB, b = 3: halfway between 1 and 3 (b = 3 is missing there).
        assert!((t.service_time(2048, 3) - 2.0).abs() < 1e-12);
        // 1536 MB, b = 3: halfway between 4 (1024) and 2 (2048).
        assert!((t.service_time(1536, 3) - 3.0).abs() < 1e-12);
        // 1280 MB, b = 4: 1024 gives 6, 2048 gives 2.5; a quarter of the way: 6 - 3.5 / 4.
        assert!((t.service_time(1280, 4) - 5.125).abs() < 1e-12);
    }

    #[test]
    fn extrapolates_along_the_nearest_line() {
        let t = sample();
        // 1024 MB, b = 7: the line through (3, 4) and (5, 8) gives 12.
        assert!((t.service_time(1024, 7) - 12.0).abs() < 1e-12);
        // 3072 MB, b = 1: the line through (1024, 2) and (2048, 1) gives 0, floored.
        assert_eq!(t.service_time(3072, 1), MIN_SERVICE_S);
        // 512 MB, b = 1: the same line gives 2.5.
        assert!((t.service_time(512, 1) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn one_row_is_flat_over_memory() {
        let t = Table::from_measurements("one".into(), &[point(1024, 1, 1.0), point(1024, 2, 1.5)]);
        t.validate("one").unwrap();
        assert_eq!(t.service_time(4096, 2), 1.5);
    }

    #[test]
    fn malformed_tables_are_refused() {
        let mut t = sample();
        t.rows[0].seconds[1] = -1.0;
        let err = t.validate("t.json").unwrap_err().to_string();
        assert!(err.contains("t.json") && err.contains("-1"), "{err}");
        let disjoint =
            Table::from_measurements("d".into(), &[point(1024, 1, 1.0), point(2048, 5, 1.0)]);
        assert!(disjoint.validate("d").is_err());
    }
}
