//! The statistics of measured inter-arrival times that a MAP(2) fit needs, and the fit.
//!
//! From gaps `X_1 .. X_n`: the raw moments `e1, e2, e3`, the SCV, the bias-corrected
//! skewness, the lag-`k` autocorrelations `ρ_k`, and the ACF decay rate `γ`. A MAP(2) has a
//! geometric ACF, `ρ_k = ρ_0 γ^k` with `ρ_0 = (1 - 1/SCV) / 2` fixed by the SCV, so `γ` is
//! estimated by least squares of that curve against the measured `ρ_1 .. ρ_L` (KPC-Toolbox
//! uses a robust variant of the same fit); the one-lag estimate `ρ_1 / ρ_0` is kept for
//! comparison. Measured IDC comes in two forms: counts in 1-second windows and the interval
//! form over `k = min(1000, ⌈n / 30⌉)` gaps.

use serde::Serialize;

use super::{Fitted, MapError, fit_map2};
use crate::trace::{index_of_dispersion_counts, index_of_dispersion_intervals};

/// Autocorrelation lags used for the decay rate unless told otherwise.
pub const DEFAULT_MAX_LAG: usize = 100;
/// Window of the count form of the index of dispersion, seconds.
pub const IDC_WINDOW_S: f64 = 1.0;

/// Measured statistics of a set of inter-arrival times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalStatistics {
    /// Number of gaps.
    pub count: usize,
    /// `E[X]`, seconds.
    pub e1: f64,
    /// `E[X²]`.
    pub e2: f64,
    /// `E[X³]`.
    pub e3: f64,
    /// `Var X / E[X]²` (population variance).
    pub scv: f64,
    /// Bias-corrected skewness, `g1 √(n (n - 1)) / (n - 2)`.
    pub skewness: f64,
    /// `ρ_1 .. ρ_L`.
    pub autocorrelations: Vec<f64>,
    /// `γ` by least squares over all lags.
    pub decay_rate: f64,
    /// `γ` from lag 1 alone, `ρ_1 / ρ_0`.
    pub decay_rate_lag1: f64,
    /// IDC of counts in [`IDC_WINDOW_S`] windows (needs the arrival times; NaN when built
    /// from gaps alone with fewer than two windows).
    pub idc_window: f64,
    /// Interval form of the IDC, an estimate of `IDC(∞)`.
    pub idc_intervals: f64,
}

impl IntervalStatistics {
    /// Statistics of the gaps between sorted `arrivals`, with `max_lag` ACF lags.
    ///
    /// # Errors
    /// [`MapError::Infeasible`] with fewer than 4 gaps, a zero mean, or constant gaps.
    pub fn of_arrivals(arrivals: &[f64], max_lag: usize) -> Result<Self, MapError> {
        let gaps: Vec<f64> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
        let mut stats = Self::of_gaps(&gaps, max_lag)?;
        stats.idc_window = index_of_dispersion_counts(arrivals, IDC_WINDOW_S);
        Ok(stats)
    }

    /// Statistics of `gaps` in order, with `max_lag` ACF lags (fewer for short inputs).
    ///
    /// # Errors
    /// [`MapError::Infeasible`] with fewer than 4 gaps, a zero mean, or constant gaps.
    pub fn of_gaps(gaps: &[f64], max_lag: usize) -> Result<Self, MapError> {
        let count = gaps.len();
        if count < 4 {
            return Err(MapError::Infeasible {
                what: "number of gaps",
                value: count as f64,
                why: "at least 4 are needed".into(),
            });
        }
        let n = count as f64;
        let raw = |k: i32| gaps.iter().map(|x| x.powi(k)).sum::<f64>() / n;
        let (e1, e2, e3) = (raw(1), raw(2), raw(3));
        let m2 = gaps.iter().map(|x| (x - e1).powi(2)).sum::<f64>() / n;
        let m3 = gaps.iter().map(|x| (x - e1).powi(3)).sum::<f64>() / n;
        if !(e1 > 0.0 && m2 > 0.0) {
            return Err(MapError::Infeasible {
                what: "variance of the gaps",
                value: m2,
                why: "gaps must have a positive mean and must not all be equal".into(),
            });
        }
        let scv = m2 / (e1 * e1);
        let skewness = m3 / m2.powf(1.5) * (n * (n - 1.0)).sqrt() / (n - 2.0);

        let lags = max_lag.min(count / 2);
        let autocorrelations = autocorrelations(gaps, e1, m2, lags);
        let start = (1.0 - 1.0 / scv) / 2.0;
        let decay_rate = least_squares_decay(&autocorrelations, start);
        let decay_rate_lag1 = match autocorrelations.first() {
            Some(rho1) if start != 0.0 => rho1 / start,
            _ => 0.0,
        };
        let k = 1000.min(count.div_ceil(30)).max(1);
        Ok(Self {
            count,
            e1,
            e2,
            e3,
            scv,
            skewness,
            autocorrelations,
            decay_rate,
            decay_rate_lag1,
            idc_window: f64::NAN,
            idc_intervals: index_of_dispersion_intervals(gaps, k),
        })
    }

    /// Mean arrivals per second, `1 / e1`.
    pub fn rate(&self) -> f64 {
        1.0 / self.e1
    }

    /// The lag-1 autocorrelation (NaN when none was computed).
    pub fn lag1(&self) -> f64 {
        self.autocorrelations.first().copied().unwrap_or(f64::NAN)
    }

    /// The MAP(2) fit of these statistics, through the fallback ladder of [`fit_map2`].
    ///
    /// # Errors
    /// When the moments are not finite.
    pub fn fit(&self) -> Result<Fitted, MapError> {
        fit_map2(self.e1, self.e2, Some(self.e3), self.decay_rate)
    }
}

/// `ρ_1 .. ρ_lags` with the mean and population variance of all gaps (the usual estimator).
fn autocorrelations(gaps: &[f64], mean: f64, variance: f64, lags: usize) -> Vec<f64> {
    let centred: Vec<f64> = gaps.iter().map(|x| x - mean).collect();
    let denominator = variance * gaps.len() as f64;
    (1..=lags)
        .map(|lag| {
            let sum: f64 = centred
                .iter()
                .zip(&centred[lag..])
                .map(|(a, b)| a * b)
                .sum();
            sum / denominator
        })
        .collect()
}

/// The `γ` in `[-0.999, 0.999]` minimising `Σ_k (ρ_k - start γ^k)²`; 0 when `start` is 0 or
/// there are no lags.
///
/// A grid of 0.001 locates the basin, then golden-section search refines it to 1e-10.
pub fn least_squares_decay(autocorrelations: &[f64], start: f64) -> f64 {
    if autocorrelations.is_empty() || start == 0.0 || !start.is_finite() {
        return 0.0;
    }
    let loss = |gamma: f64| {
        let mut power = 1.0;
        autocorrelations
            .iter()
            .map(|rho| {
                power *= gamma;
                (rho - start * power).powi(2)
            })
            .sum::<f64>()
    };

    let limit: f64 = 0.999;
    let step = 0.001;
    let mut best = 0.0;
    let mut best_loss = loss(0.0);
    let steps = (2.0 * limit / step).round() as i32;
    for i in 0..=steps {
        let gamma = -limit + f64::from(i) * step;
        let value = loss(gamma);
        if value < best_loss {
            best = gamma;
            best_loss = value;
        }
    }

    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut low, mut high) = ((best - step).max(-limit), (best + step).min(limit));
    while high - low > 1e-10 {
        let left = high - ratio * (high - low);
        let right = low + ratio * (high - low);
        if loss(left) < loss(right) {
            high = right;
        } else {
            low = left;
        }
    }
    (low + high) / 2.0
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    use super::*;
    use crate::map::tests::nys_hour_7;
    use crate::map::{Map, Start};

    #[test]
    fn least_squares_recovers_an_exact_geometric_acf() {
        for gamma in [-0.5, 0.0, 0.3, 0.9] {
            let acf: Vec<f64> = (1..=50).map(|k| 0.2 * f64::powi(gamma, k)).collect();
            let estimate = least_squares_decay(&acf, 0.2);
            assert!((estimate - gamma).abs() < 1e-6, "{gamma}: {estimate}");
        }
        assert_eq!(least_squares_decay(&[0.1, 0.05], 0.0), 0.0);
        assert_eq!(least_squares_decay(&[], 0.3), 0.0);
    }

    #[test]
    fn skewness_is_bias_corrected() {
        // Gaps 1, 2, 6, 3: mean 3, deviations -2, -1, 3, 0, so m2 = 14/4 = 3.5 and
        // m3 = 18/4 = 4.5; g1 = m3 / m2^1.5, corrected by sqrt(n (n - 1)) / (n - 2).
        let stats = IntervalStatistics::of_gaps(&[1.0, 2.0, 6.0, 3.0], 10).unwrap();
        let g1 = 4.5 / 3.5f64.powf(1.5);
        let corrected = g1 * (4.0f64 * 3.0).sqrt() / 2.0;
        assert!(
            (stats.skewness - corrected).abs() < 1e-12,
            "{}",
            stats.skewness
        );
        assert!((stats.scv - 3.5 / 9.0).abs() < 1e-12);
        assert_eq!(stats.autocorrelations.len(), 2);
    }

    #[test]
    fn too_few_or_constant_gaps_are_errors() {
        assert!(IntervalStatistics::of_gaps(&[1.0, 2.0], 5).is_err());
        assert!(IntervalStatistics::of_gaps(&[0.5; 10], 5).is_err());
        assert!(IntervalStatistics::of_gaps(&[0.0; 10], 5).is_err());
    }

    #[test]
    fn a_sampled_map_is_fitted_back() {
        // 10^6 intervals of a strongly correlated MAP(2): the fit recovers its statistics
        // within sampling error (a few percent).
        let original = Map::mmpp2(200.0, 10.0, 0.5, 2.0).unwrap();
        let mut rng = Pcg64::seed_from_u64(3);
        let gaps = original.sample_intervals(1_000_000, Start::AfterArrival, &mut rng);
        let stats = IntervalStatistics::of_gaps(&gaps, DEFAULT_MAX_LAG).unwrap();
        let fitted = stats.fit().unwrap().map;
        let close = |what: &str, got: f64, want: f64, tolerance: f64| {
            assert!(
                (got - want).abs() <= tolerance * want.abs(),
                "{what}: {got} vs {want}"
            );
        };
        close("rate", fitted.rate(), original.rate(), 1e-9 + 0.01);
        close("scv", fitted.scv(), original.scv(), 0.05);
        let gamma = original.decay_rate().unwrap();
        close("gamma", fitted.decay_rate().unwrap(), gamma, 0.05);
        close(
            "idc",
            fitted.idc_asymptotic(),
            original.idc_asymptotic(),
            0.15,
        );
        // The fit keeps the measured mean exactly.
        assert!((fitted.mean_interval() - stats.e1).abs() < 1e-12 * stats.e1);
    }

    #[test]
    fn near_poisson_hours_fit_near_poisson() {
        let original = nys_hour_7();
        let mut rng = Pcg64::seed_from_u64(8);
        let mut arrivals = Vec::new();
        original.sample_arrivals(0.0, 3600.0, &mut rng, &mut arrivals);
        let stats = IntervalStatistics::of_arrivals(&arrivals, DEFAULT_MAX_LAG).unwrap();
        let fitted = stats.fit().unwrap().map;
        assert!((fitted.scv() - 1.2).abs() < 0.03, "scv {}", fitted.scv());
        assert!(
            (stats.idc_window - original.idc(1.0)).abs() < 0.1,
            "{}",
            stats.idc_window
        );
    }
}
