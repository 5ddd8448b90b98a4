//! Series over time that show how a trace's load and burstiness change: the arrival rate
//! per minute, and the index of dispersion of each hour.
//!
//! The index of dispersion says how much more clustered arrivals are than a Poisson stream
//! of the same rate (which scores 1). It comes in two forms that agree for long horizons:
//! the count form looks at the number of arrivals in windows of a fixed length, the
//! interval form at sums of consecutive gaps. Each hour is measured alone, on its own
//! arrivals and the gaps between them, as in [`TraceStats`](super::TraceStats).

use serde::Serialize;

use super::Trace;
use super::stats::{index_of_dispersion_counts, index_of_dispersion_intervals};

/// The longest run of gaps the interval form sums (the KPC toolbox's cap).
pub const MAX_INTERVAL_LAG: usize = 1000;

/// Arrivals per second in consecutive buckets of `bucket_s` seconds, the first starting at
/// `origin_s`.
///
/// Buckets run from the origin through the one that holds the last arrival, so quiet
/// buckets inside the trace show as 0; the last bucket is divided by its full width even
/// when the trace ends inside it. Arrivals before the origin are left out. Empty when no
/// arrival is at or after the origin, or `bucket_s` is not positive.
pub fn rate_per_bucket(arrivals: &[f64], origin_s: f64, bucket_s: f64) -> Vec<f64> {
    if bucket_s.is_nan() || bucket_s <= 0.0 {
        return Vec::new();
    }
    let first = arrivals.partition_point(|&t| t < origin_s);
    let arrivals = &arrivals[first..];
    let Some(&last) = arrivals.last() else {
        return Vec::new();
    };

    let bucket_of = |t: f64| ((t - origin_s) / bucket_s).floor() as usize;
    let mut counts = vec![0usize; bucket_of(last) + 1];
    for &t in arrivals {
        counts[bucket_of(t)] += 1;
    }
    counts
        .into_iter()
        .map(|count| count as f64 / bucket_s)
        .collect()
}

/// [`rate_per_bucket`] with one-minute buckets.
pub fn rate_per_minute(arrivals: &[f64], origin_s: f64) -> Vec<f64> {
    rate_per_bucket(arrivals, origin_s, 60.0)
}

/// How many consecutive gaps the interval form sums for a set of `gaps` gaps: enough for
/// about 30 sums per lag-length stretch, `ceil(gaps / 30)`, capped at
/// [`MAX_INTERVAL_LAG`] and at least 1 (the KPC toolbox's default).
pub fn interval_lag(gaps: usize) -> usize {
    gaps.div_ceil(30).clamp(1, MAX_INTERVAL_LAG)
}

/// The index of dispersion of one hour of a trace, in both forms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HourIdc {
    /// Hour from the trace's origin.
    pub hour: u32,
    /// Arrivals in the hour.
    pub arrivals: usize,
    /// Count form: variance over mean of the arrivals in consecutive whole windows of the
    /// requested length, the first starting at the hour's first arrival. NaN with fewer
    /// than two whole windows.
    pub counts: f64,
    /// Interval form over the hour's gaps, summing [`interval_lag`] of them. NaN when the
    /// hour has too few gaps.
    pub intervals: f64,
    /// The number of consecutive gaps the interval form summed.
    pub interval_lag: usize,
}

/// The index of dispersion of every hour of `trace` that has an arrival, ascending, with
/// the count form measured in windows of `window_s` seconds.
pub fn idc_per_hour(trace: &Trace, window_s: f64) -> Vec<HourIdc> {
    trace
        .arrivals
        .chunk_by(|a, b| Trace::hour_of(*a) == Trace::hour_of(*b))
        .map(|arrivals| {
            let gaps: Vec<f64> = arrivals.windows(2).map(|pair| pair[1] - pair[0]).collect();
            let lag = interval_lag(gaps.len());
            HourIdc {
                hour: Trace::hour_of(arrivals[0]),
                arrivals: arrivals.len(),
                counts: index_of_dispersion_counts(arrivals, window_s),
                intervals: index_of_dispersion_intervals(&gaps, lag),
                interval_lag: lag,
            }
        })
        .collect()
}

/// Smallest, median and largest of a set of hourly values, ignoring NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// How many values were finite.
    pub count: usize,
    /// The smallest.
    pub min: f64,
    /// The middle value; with an even count, the mean of the two middle values.
    pub median: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The spread of the finite `values`; `None` when there is none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        finite.sort_by(f64::total_cmp);
        let n = finite.len();
        let median = if n % 2 == 1 {
            finite[n / 2]
        } else {
            (finite[n / 2 - 1] + finite[n / 2]) / 2.0
        };
        Some(Self {
            count: n,
            min: finite[0],
            median,
            max: finite[n - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::close;

    #[test]
    fn rate_per_minute_counts_every_minute_up_to_the_last_arrival() {
        // Minute 0 holds 0.5, 1.0 and 59.9; minute 1 holds 60.0 (a bucket includes its
        // start); minute 2 is quiet; minute 3 holds 200.0. Rates are counts over 60 s.
        let arrivals = [0.5, 1.0, 59.9, 60.0, 200.0];
        let rates = rate_per_minute(&arrivals, 0.0);
        assert_eq!(rates, vec![3.0 / 60.0, 1.0 / 60.0, 0.0, 1.0 / 60.0]);

        // From an origin of 60 s the first three arrivals are left out: 60.0 opens bucket
        // 0 and 200.0 falls in bucket 2 ([180, 240)).
        let rates = rate_per_minute(&arrivals, 60.0);
        assert_eq!(rates, vec![1.0 / 60.0, 0.0, 1.0 / 60.0]);
    }

    #[test]
    fn rate_per_bucket_of_other_widths_and_degenerate_input() {
        // Two-second buckets: [0, 2) holds 0.5 and 1.5, [2, 4) holds 3.0. Per second: 1, 0.5.
        assert_eq!(rate_per_bucket(&[0.5, 1.5, 3.0], 0.0, 2.0), vec![1.0, 0.5]);
        assert!(rate_per_bucket(&[], 0.0, 60.0).is_empty());
        assert!(rate_per_bucket(&[1.0, 2.0], 5.0, 60.0).is_empty());
        assert!(rate_per_bucket(&[1.0], 0.0, 0.0).is_empty());
        assert!(rate_per_bucket(&[1.0], 0.0, f64::NAN).is_empty());
    }

    #[test]
    fn interval_lag_follows_the_thirty_sums_rule() {
        assert_eq!(interval_lag(0), 1);
        assert_eq!(interval_lag(1), 1);
        assert_eq!(interval_lag(30), 1);
        assert_eq!(interval_lag(31), 2);
        assert_eq!(interval_lag(60), 2);
        assert_eq!(interval_lag(29_970), 999);
        assert_eq!(interval_lag(30_000), 1000);
        assert_eq!(interval_lag(5_000_000), 1000);
    }

    #[test]
    fn idc_per_hour_by_hand() {
        // Hour 0: arrivals 0.0, 0.5, 1.5, 2.1, 2.2, 2.3, 3.0.
        //   Counts, 1 s windows from 0.0: three whole windows hold 2, 1, 3 (3.0 opens a
        //   window that is not whole): mean 2, variance 2/3, index 1/3.
        //   Intervals: 6 gaps, so the lag is 1 and the index is the SCV of the gaps 0.5,
        //   1.0, 0.6, 0.1, 0.1, 0.7: mean 0.5, squared deviations 0, 0.25, 0.01, 0.16, 0.16,
        //   0.04 sum to 0.62, variance 0.62 / 6, SCV (0.62 / 6) / 0.25 = 31/75.
        // Hour 1: nothing. Hour 2: 7200, 7201, 7203, 7206, 7210 (gaps 1, 2, 3, 4).
        //   Counts: ten whole windows from 7200 hold 1, 1, 0, 1, 0, 0, 1, 0, 0, 0 (7210 opens
        //   the eleventh): mean 0.4, variance 0.4 - 0.16 = 0.24, index 0.6.
        //   Intervals: SCV of 1, 2, 3, 4 = 1.25 / 6.25 = 0.2.
        let mut arrivals = vec![0.0, 0.5, 1.5, 2.1, 2.2, 2.3, 3.0];
        arrivals.extend([7200.0, 7201.0, 7203.0, 7206.0, 7210.0]);
        let hours = idc_per_hour(&Trace::new(arrivals), 1.0);

        assert_eq!(hours.len(), 2);
        assert_eq!((hours[0].hour, hours[0].arrivals), (0, 7));
        assert!(close(hours[0].counts, 1.0 / 3.0), "{}", hours[0].counts);
        assert!(
            close(hours[0].intervals, 31.0 / 75.0),
            "{}",
            hours[0].intervals
        );
        assert_eq!(hours[0].interval_lag, 1);
        assert_eq!((hours[1].hour, hours[1].arrivals), (2, 5));
        assert!(close(hours[1].counts, 0.6), "{}", hours[1].counts);
        assert!(close(hours[1].intervals, 0.2), "{}", hours[1].intervals);
    }

    #[test]
    fn idc_per_hour_sums_gaps_once_an_hour_has_more_than_thirty() {
        // 62 arrivals alternating gaps of 1 s and 3 s: 61 gaps, lag ceil(61 / 30) = 3.
        // Sums of three consecutive gaps are 1+3+1 = 5 or 3+1+3 = 7, alternating over 59
        // sums (30 fives, 29 sevens). Mean gap (31 + 30 * 3) / 61 = 121/61.
        let mut arrivals = vec![0.0];
        for i in 0..61 {
            let gap = if i % 2 == 0 { 1.0 } else { 3.0 };
            arrivals.push(arrivals[i] + gap);
        }
        let hours = idc_per_hour(&Trace::new(arrivals), 1.0);
        assert_eq!(hours[0].interval_lag, 3);

        let sums_mean: f64 = (30.0 * 5.0 + 29.0 * 7.0) / 59.0;
        let sums_variance =
            (30.0 * (5.0 - sums_mean).powi(2) + 29.0 * (7.0 - sums_mean).powi(2)) / 59.0;
        let mean_gap: f64 = 121.0 / 61.0;
        let expected = sums_variance / (3.0 * mean_gap * mean_gap);
        assert!(
            close(hours[0].intervals, expected),
            "{}",
            hours[0].intervals
        );
    }

    #[test]
    fn hours_too_small_give_nan() {
        // One arrival: no whole window and no gap.
        let hours = idc_per_hour(&Trace::new(vec![10.0]), 1.0);
        assert_eq!(hours.len(), 1);
        assert!(hours[0].counts.is_nan() && hours[0].intervals.is_nan());
        assert!(idc_per_hour(&Trace::new(Vec::new()), 1.0).is_empty());
    }

    #[test]
    fn spread_ignores_nan_and_takes_the_middle() {
        let odd = Spread::of([3.0, 1.0, f64::NAN, 2.0]).unwrap();
        assert_eq!(
            (odd.count, odd.min, odd.median, odd.max),
            (3, 1.0, 2.0, 3.0)
        );
        let even = Spread::of([10.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((even.count, even.median), (4, 2.5));
        assert_eq!(Spread::of([f64::NAN]), None);
        assert_eq!(Spread::of([]), None);
    }
}
