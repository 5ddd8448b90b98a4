//! Statistics of a trace's inter-arrival times, overall and per hour.
//!
//! Everything here is about the gaps between consecutive arrivals of a set (the whole trace,
//! or one hour of it: the gap from the last arrival of one hour to the first of the next
//! belongs to neither hour). Moments use the population form, dividing by `n`, so a
//! [`Summary`] of gaps `1, 2, 3, 4` has variance 1.25 and SCV 1.25 / 2.5^2 = 0.2.
//! Statistics a set is too small for are NaN, never a panic.

use std::fmt;

use serde::Serialize;

use super::Trace;

/// Inter-arrival statistics of one set of arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of arrivals.
    pub count: usize,
    /// Last arrival minus first, seconds (0 with fewer than two arrivals).
    pub duration_s: f64,
    /// Arrivals per second estimated from the gaps: `(count - 1) / duration_s`, the
    /// reciprocal of `mean_gap`. NaN with fewer than two arrivals.
    pub mean_rate: f64,
    /// Mean inter-arrival time, seconds. NaN with fewer than two arrivals.
    pub mean_gap: f64,
    /// Squared coefficient of variation of the gaps, population variance over squared mean
    /// (1 for a Poisson process). NaN with fewer than three arrivals.
    pub scv: f64,
    /// Skewness of the gaps, `m3 / m2^(3/2)` with population central moments (2 for a
    /// Poisson process). NaN with fewer than three arrivals or constant gaps.
    pub skewness: f64,
    /// Lag-1 autocorrelation of the gaps, see [`lag_autocorrelation`]. NaN with fewer than
    /// three arrivals or constant gaps.
    pub lag1_autocorrelation: f64,
}

impl Summary {
    /// Summarises sorted arrival times.
    pub fn of_arrivals(arrivals: &[f64]) -> Self {
        let count = arrivals.len();
        let gaps: Vec<f64> = arrivals.windows(2).map(|pair| pair[1] - pair[0]).collect();
        let duration_s = match (arrivals.first(), arrivals.last()) {
            (Some(first), Some(last)) => last - first,
            _ => 0.0,
        };
        let mean_gap = mean(&gaps);
        let mut summary = Self {
            count,
            duration_s,
            mean_rate: 1.0 / mean_gap,
            mean_gap,
            scv: f64::NAN,
            skewness: f64::NAN,
            lag1_autocorrelation: f64::NAN,
        };
        if gaps.len() < 2 {
            return summary;
        }

        let (m2, m3) = central_moments(&gaps, mean_gap);
        summary.scv = m2 / (mean_gap * mean_gap);
        summary.skewness = m3 / m2.powf(1.5);
        summary.lag1_autocorrelation = lag_autocorrelation(&gaps, 1);
        summary
    }
}

/// Statistics of a whole trace and of each of its hours that has arrivals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStats {
    /// The whole trace.
    pub overall: Summary,
    /// `(hour, summary)` for every hour from the origin with at least one arrival, ascending.
    pub hours: Vec<(u32, Summary)>,
}

impl TraceStats {
    /// Statistics of `trace`, overall and per hour.
    pub fn compute(trace: &Trace) -> Self {
        let arrivals = &trace.arrivals;
        let hours = arrivals
            .chunk_by(|a, b| Trace::hour_of(*a) == Trace::hour_of(*b))
            .map(|hour| (Trace::hour_of(hour[0]), Summary::of_arrivals(hour)))
            .collect();
        Self {
            overall: Summary::of_arrivals(arrivals),
            hours,
        }
    }
}

impl fmt::Display for TraceStats {
    /// One aligned row for the whole trace, then one per hour; `-` stands for NaN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<8} {:>9} {:>11} {:>10} {:>11} {:>9} {:>9} {:>9}",
            "scope",
            "count",
            "duration_s",
            "rate_per_s",
            "mean_gap_s",
            "scv",
            "skewness",
            "lag1_acf"
        )?;
        write_row(f, "all", &self.overall)?;
        for (hour, summary) in &self.hours {
            write_row(f, &format!("hour {hour}"), summary)?;
        }
        Ok(())
    }
}

fn write_row(f: &mut fmt::Formatter<'_>, scope: &str, summary: &Summary) -> fmt::Result {
    writeln!(
        f,
        "{:<8} {:>9} {:>11} {:>10} {:>11} {:>9} {:>9} {:>9}",
        scope,
        summary.count,
        cell(summary.duration_s, 1, 11),
        cell(summary.mean_rate, 3, 10),
        cell(summary.mean_gap, 6, 11),
        cell(summary.scv, 3, 9),
        cell(summary.skewness, 3, 9),
        cell(summary.lag1_autocorrelation, 3, 9),
    )
}

/// `value` with `decimals` places, in scientific notation if that would not fit `width`;
/// `-` for NaN.
fn cell(value: f64, decimals: usize, width: usize) -> String {
    if value.is_nan() {
        return "-".to_string();
    }
    let fixed = format!("{value:.decimals$}");
    if fixed.len() <= width {
        fixed
    } else {
        format!("{value:.2e}")
    }
}

/// Lag-`lag` autocorrelation of `gaps`, the usual sample estimator
///
/// # Formula
///
/// `r_k = sum_{i < n - k} (x_i - m)(x_{i+k} - m) / sum_i (x_i - m)^2`, with `m` the mean of
/// all `n` gaps: both sums are scaled alike, so `|r_k| <= 1`.
///
/// NaN when `lag >= n` or the gaps are constant.
pub fn lag_autocorrelation(gaps: &[f64], lag: usize) -> f64 {
    if lag >= gaps.len() {
        return f64::NAN;
    }
    let m = mean(gaps);
    let denominator: f64 = gaps.iter().map(|x| (x - m) * (x - m)).sum();
    if denominator == 0.0 {
        return f64::NAN;
    }
    let numerator: f64 = gaps
        .iter()
        .zip(&gaps[lag..])
        .map(|(x, y)| (x - m) * (y - m))
        .sum();
    numerator / denominator
}

/// Index of dispersion for counts: variance over mean of the number of arrivals in
/// consecutive windows of `window_s` seconds, the first starting at the first arrival. Only
/// whole windows count. 1 for a Poisson process, above 1 for a bursty one.
///
/// NaN with fewer than two whole windows, a non-positive window or no arrival in them.
pub fn index_of_dispersion_counts(arrivals: &[f64], window_s: f64) -> f64 {
    let (Some(&first), Some(&last)) = (arrivals.first(), arrivals.last()) else {
        return f64::NAN;
    };
    if window_s.is_nan() || window_s <= 0.0 {
        return f64::NAN;
    }
    let windows = ((last - first) / window_s).floor();
    if !(2.0..=1e9).contains(&windows) {
        return f64::NAN;
    }
    let mut counts = vec![0.0; windows as usize];
    for &t in arrivals {
        let window = ((t - first) / window_s).floor() as usize;
        if let Some(count) = counts.get_mut(window) {
            *count += 1.0;
        }
    }
    let m = mean(&counts);
    let (variance, _) = central_moments(&counts, m);
    variance / m
}

/// Index of dispersion for intervals: `Var(S_k) / (k m^2)`, where `S_k` runs over the sums
/// of `k` consecutive gaps (overlapping) and `m` is the mean gap. Equals the SCV for
/// `k = 1`; for large `k` it approaches the limiting index of dispersion of the process.
///
/// NaN when `k` is 0 or there are fewer than `k + 1` gaps.
pub fn index_of_dispersion_intervals(gaps: &[f64], k: usize) -> f64 {
    if k == 0 || gaps.len() < k + 1 {
        return f64::NAN;
    }
    let mut sums = Vec::with_capacity(gaps.len() - k + 1);
    let mut running: f64 = gaps[..k].iter().sum();
    sums.push(running);
    for i in k..gaps.len() {
        running += gaps[i] - gaps[i - k];
        sums.push(running);
    }
    let m = mean(gaps);
    let (variance, _) = central_moments(&sums, mean(&sums));
    variance / (k as f64 * m * m)
}

/// Arithmetic mean; NaN when empty.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Second and third central moments about `m`, dividing by `n`.
fn central_moments(values: &[f64], m: f64) -> (f64, f64) {
    let n = values.len() as f64;
    let (m2, m3) = values.iter().fold((0.0, 0.0), |(m2, m3), x| {
        let d = x - m;
        (m2 + d * d, m3 + d * d * d)
    });
    (m2 / n, m3 / n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::close;

    #[test]
    fn summary_of_gaps_one_to_four() {
        // Arrivals 0, 1, 3, 6, 10 have gaps 1, 2, 3, 4: mean 2.5, deviations -1.5, -0.5,
        // 0.5, 1.5. Population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, so
        // SCV = 1.25 / 6.25 = 0.2. The deviations are symmetric: skewness 0. Lag 1:
        // (-1.5)(-0.5) + (-0.5)(0.5) + (0.5)(1.5) = 1.25 over 5 = 0.25. Rate 4 / 10.
        let summary = Summary::of_arrivals(&[0.0, 1.0, 3.0, 6.0, 10.0]);
        assert_eq!(summary.count, 5);
        assert_eq!(summary.duration_s, 10.0);
        assert!(close(summary.mean_gap, 2.5));
        assert!(close(summary.mean_rate, 0.4));
        assert!(close(summary.scv, 0.2), "{}", summary.scv);
        assert!(close(summary.skewness, 0.0), "{}", summary.skewness);
        assert!(close(summary.lag1_autocorrelation, 0.25));
    }

    #[test]
    fn summary_of_a_skewed_set() {
        // Gaps 1, 1, 1, 5: mean 2, deviations -1, -1, -1, 3. m2 = (1 + 1 + 1 + 9) / 4 = 3,
        // m3 = (-1 - 1 - 1 + 27) / 4 = 6, skewness 6 / 3^1.5 = 2 / sqrt(3), SCV 3 / 4.
        // Lag 1: (-1)(-1) + (-1)(-1) + (-1)(3) = -1 over 12.
        let summary = Summary::of_arrivals(&[0.0, 1.0, 2.0, 3.0, 8.0]);
        assert!(close(summary.scv, 0.75));
        assert!(close(summary.skewness, 2.0 / 3f64.sqrt()));
        assert!(close(summary.lag1_autocorrelation, -1.0 / 12.0));
    }

    #[test]
    fn small_sets_report_nan_instead_of_panicking() {
        let none = Summary::of_arrivals(&[]);
        assert_eq!((none.count, none.duration_s), (0, 0.0));
        assert!(none.mean_gap.is_nan() && none.mean_rate.is_nan() && none.scv.is_nan());

        let one = Summary::of_arrivals(&[5.0]);
        assert_eq!((one.count, one.duration_s), (1, 0.0));
        assert!(one.mean_gap.is_nan() && one.lag1_autocorrelation.is_nan());

        let two = Summary::of_arrivals(&[5.0, 7.0]);
        assert_eq!(two.mean_gap, 2.0);
        assert_eq!(two.mean_rate, 0.5);
        assert!(two.scv.is_nan() && two.skewness.is_nan() && two.lag1_autocorrelation.is_nan());
    }

    #[test]
    fn constant_gaps_have_zero_scv_and_undefined_shape() {
        let summary = Summary::of_arrivals(&[0.0, 2.0, 4.0, 6.0]);
        assert_eq!(summary.scv, 0.0);
        assert!(summary.skewness.is_nan() && summary.lag1_autocorrelation.is_nan());
    }

    #[test]
    fn lag_autocorrelation_at_several_lags() {
        // Gaps 1, 2, 3, 4 (deviations -1.5, -0.5, 0.5, 1.5, squares summing to 5).
        // Lag 0 is 1; lag 2: (-1.5)(0.5) + (-0.5)(1.5) = -1.5 over 5 = -0.3;
        // lag 3: (-1.5)(1.5) = -2.25 over 5 = -0.45; lag 4 has no pair.
        let gaps = [1.0, 2.0, 3.0, 4.0];
        assert!(close(lag_autocorrelation(&gaps, 0), 1.0));
        assert!(close(lag_autocorrelation(&gaps, 2), -0.3));
        assert!(close(lag_autocorrelation(&gaps, 3), -0.45));
        assert!(lag_autocorrelation(&gaps, 4).is_nan());
        assert!(lag_autocorrelation(&[], 0).is_nan());
    }

    #[test]
    fn index_of_dispersion_for_counts() {
        // One-second windows from 0: [0,1) holds 0.0, 0.5; [1,2) holds 1.5; [2,3) holds
        // 2.1, 2.2, 2.3; the arrival at 3.0 opens a window that is not whole. Counts 2, 1, 3:
        // mean 2, population variance (0 + 1 + 1) / 3 = 2/3, index 1/3.
        let arrivals = [0.0, 0.5, 1.5, 2.1, 2.2, 2.3, 3.0];
        assert!(close(index_of_dispersion_counts(&arrivals, 1.0), 1.0 / 3.0));
        assert!(index_of_dispersion_counts(&arrivals, 2.0).is_nan());
        assert!(index_of_dispersion_counts(&arrivals, 0.0).is_nan());
        assert!(index_of_dispersion_counts(&[], 1.0).is_nan());
    }

    #[test]
    fn index_of_dispersion_for_intervals() {
        // Gaps 1, 2, 3, 4. k = 1 is the SCV, 0.2. k = 2: sums 3, 5, 7 with mean 5 and
        // population variance 8/3; divided by 2 * 2.5^2 = 12.5 gives 8/37.5.
        let gaps = [1.0, 2.0, 3.0, 4.0];
        assert!(close(index_of_dispersion_intervals(&gaps, 1), 0.2));
        assert!(close(index_of_dispersion_intervals(&gaps, 2), 8.0 / 37.5));
        assert!(index_of_dispersion_intervals(&gaps, 4).is_nan());
        assert!(index_of_dispersion_intervals(&gaps, 0).is_nan());
    }

    #[test]
    fn hours_hold_their_own_gaps_and_empty_hours_are_omitted() {
        // Hour 0: 10, 20. Hour 1: nothing. Hour 2: 7201, 7205, 7206 (gaps 4, 1; the
        // 7181 s between the hours belongs to neither).
        let trace = Trace::new(vec![10.0, 20.0, 7201.0, 7205.0, 7206.0]);
        let stats = TraceStats::compute(&trace);
        assert_eq!(stats.overall.count, 5);
        let hours: Vec<(u32, usize)> = stats.hours.iter().map(|(h, s)| (*h, s.count)).collect();
        assert_eq!(hours, vec![(0, 2), (2, 3)]);
        assert_eq!(stats.hours[0].1.mean_gap, 10.0);
        assert_eq!(stats.hours[1].1.mean_gap, 2.5);
        assert_eq!(stats.hours[1].1.duration_s, 5.0);
    }

    #[test]
    fn display_is_an_aligned_table() {
        let trace = Trace::new(vec![10.0, 20.0, 7201.0, 7205.0, 7206.0]);
        let table = TraceStats::compute(&trace).to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + 1 + 2, "{table}");
        assert!(lines[0].starts_with("scope"));
        assert!(lines[1].starts_with("all "));
        assert!(lines[2].starts_with("hour 0 ") && lines[3].starts_with("hour 2 "));
        assert!(
            lines.iter().all(|line| line.len() == lines[0].len()),
            "{table}"
        );
        // Hour 0 has two arrivals: its SCV is unknown and shown as '-'.
        assert!(lines[2].trim_end().ends_with('-'), "{table}");
    }

    #[test]
    fn cells_too_wide_switch_to_scientific_notation() {
        assert_eq!(cell(74.169234, 6, 11), "74.169234");
        assert_eq!(cell(123456.5, 6, 11), "1.23e5");
        assert_eq!(cell(f64::NAN, 3, 9), "-");
        assert_eq!(cell(f64::INFINITY, 3, 9), "inf");
    }

    #[test]
    fn stats_serialize_with_nan_as_null() {
        let trace = Trace::new(vec![1.0, 2.0]);
        let json = serde_json::to_string(&TraceStats::compute(&trace)).unwrap();
        assert!(json.contains("\"count\":2"), "{json}");
        assert!(json.contains("\"scv\":null"), "{json}");
    }
}
