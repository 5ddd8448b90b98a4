//! Arrival traces: loading them from the formats real traces come in, and their statistics.
//!
//! A [`Trace`] is a sorted list of arrival times in seconds from the trace's origin (time 0,
//! the start of its first hour for hourly files). Hour `h` of a trace is `[3600 h, 3600 (h + 1))`.
//!
//! [`load`] reads the file formats ([`Format`]); count formats and coarse timestamps only
//! say how many arrivals fell in a time bucket, and one seeded rule, [`spread_uniform`],
//! places them inside it (see the [`spread`] module). [`TraceStats`] summarises the
//! inter-arrival times overall and per hour; [`burstiness`] gives the series over time
//! (rate per minute, index of dispersion per hour) that plots and hourly tables show.

pub mod burstiness;
mod error;
mod load;
pub mod spread;
mod stats;
mod table;
#[cfg(test)]
mod test_files;
mod text;

use serde::Serialize;

pub use error::TraceError;
pub use load::{Format, LoadOptions, load};
pub use spread::{spread_uniform, spreading_rng};
pub use stats::{
    Summary, TraceStats, index_of_dispersion_counts, index_of_dispersion_intervals,
    lag_autocorrelation,
};

/// Sorted arrival times in seconds from the trace's origin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// Arrival times, seconds, sorted ascending, none negative.
    pub arrivals: Vec<f64>,
}

impl Trace {
    /// Wraps arrival times that are already sorted.
    pub fn new(arrivals: Vec<f64>) -> Self {
        debug_assert!(
            arrivals.windows(2).all(|w| w[0] <= w[1]),
            "arrivals must be sorted"
        );
        Self { arrivals }
    }

    /// Builds arrivals from inter-arrival times: the first gap is measured from time 0.
    pub fn from_gaps(gaps: &[f64]) -> Self {
        let mut time = 0.0;
        let arrivals = gaps
            .iter()
            .map(|gap| {
                time += gap;
                time
            })
            .collect();
        Self { arrivals }
    }

    /// Number of arrivals.
    pub fn len(&self) -> usize {
        self.arrivals.len()
    }

    /// Whether the trace has no arrival.
    pub fn is_empty(&self) -> bool {
        self.arrivals.is_empty()
    }

    /// The hour (from the origin) in which time `t` falls.
    pub fn hour_of(t: f64) -> u32 {
        (t / 3600.0).floor().max(0.0) as u32
    }

    /// Index range of the arrivals in hours `first..=last`.
    pub fn hour_range(&self, first: u32, last: u32) -> std::ops::Range<usize> {
        hour_range_of(&self.arrivals, first, last)
    }
}

/// Index range of sorted `arrivals` (seconds from the trace start) in hours `first..=last`.
pub fn hour_range_of(arrivals: &[f64], first: u32, last: u32) -> std::ops::Range<usize> {
    let start = f64::from(first) * 3600.0;
    let end = f64::from(last + 1) * 3600.0;
    let lo = arrivals.partition_point(|&t| t < start);
    let hi = arrivals.partition_point(|&t| t < end);
    lo..hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_gaps_and_hours() {
        // Gaps 1000, 3000, 0, 4000 give arrivals 1000, 4000, 4000, 8000: hours 0, 1, 1, 2.
        let trace = Trace::from_gaps(&[1000.0, 3000.0, 0.0, 4000.0]);
        assert_eq!(trace.arrivals, vec![1000.0, 4000.0, 4000.0, 8000.0]);
        assert_eq!(Trace::hour_of(3599.9), 0);
        assert_eq!(Trace::hour_of(3600.0), 1);
        assert_eq!(trace.hour_range(1, 1), 1..3);
        assert_eq!(trace.hour_range(0, 2), 0..4);
    }

    #[test]
    fn real_traces_load_with_the_published_counts() {
        let Some(shared) = crate::shared_data::shared_dir("trace real-data test") else {
            return;
        };
        let traces = shared.join("traces");

        // PROVENANCE.md of twitter-may25-batch: hour 0-1 holds 126,294 requests, ~3600 s.
        let hour = traces.join("twitter-may25-batch/TW_may25_0-1.gz");
        let trace = load(&[hour], &LoadOptions::new(Format::Gaps)).unwrap();
        assert_eq!(trace.len(), 126_294);
        let end = *trace.arrivals.last().unwrap();
        assert!((3590.0..=3600.5).contains(&end), "hour 0 ends at {end} s");

        // PROVENANCE.md of alibaba-genai-2026: 26,823 requests from 2024-11-15 16:57:50 to
        // 2024-12-08 17:33:57, i.e. 23 days 36 min 7 s = 1,989,367 s, plus at most the one
        // second the last request is spread over.
        let alibaba = traces.join("alibaba-genai-2026/lora_request_trace.csv.gz");
        let options = LoadOptions {
            column: Some("gmt_create".into()),
            unit: Some("datetime".into()),
            ..LoadOptions::new(Format::Csv)
        };
        let trace = load(&[alibaba], &options).unwrap();
        assert_eq!(trace.len(), 26_823);
        let end = *trace.arrivals.last().unwrap();
        assert!(
            (1_989_367.0..1_989_368.0).contains(&end),
            "the last request at {end} s"
        );
    }
}
