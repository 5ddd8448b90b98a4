//! BATCH's own analytical model, as its solver computes it ("batch-approx").
//!
//! Kept faithful, weaknesses included, so that comparisons are with BATCH as published:
//! - batch sizes from the level-phase chain (`D0` on the diagonal blocks, `D1` above, level
//!   `B` absorbing) started on level 1 in a heuristic phase vector
//!   `g_i = (l_i / w_i) / min(B, floor(l_i T + 1))`, `l_i = D1[i, i]`,
//!   `w_i = -(D0[i, i] + D1[i, i])`, normalised (it reads only the diagonal of `D1`);
//! - waits uniform on `[0, T]` in a timeout batch and on `[0, min(tau, T)]` in a full one,
//!   `tau = (B - 1)(w_1 + w_2) / (l_1 w_2 + l_2 w_1)`;
//! - `F(x) = sum_{j < i} q_j + q_i min(1, (x - s_i) / T_i)` with `i` the largest size with
//!   `s_i <= x` and `q_k = k p_k / E[n]` (right only when the intervals `[s_k, s_k + T]` do
//!   not overlap), its percentile by bisection on `[0, 30 s]` to 0.01 s;
//! - cost per request at the percentile batch size `n*`, without billing rounding:
//!   `(s_{n*} M / 1024 price_gb_s + price_request) / n*`.
//!
//! It is defined for MAPs of one or two phases, the only kind BATCH fits.

use super::AnalyticError;
use super::exact::check_config;
use crate::map::Map;
use crate::pricing::Pricing;
use nalgebra::DMatrix;

/// BATCH's percentile search: bisection on `[0, 30 s]` to this width.
pub const BATCH_TOLERANCE: f64 = 0.01;
/// Upper end of BATCH's percentile search, seconds.
const SEARCH_LIMIT: f64 = 30.0;
/// Most states of the level-phase chain whose exponential the model takes (its cost grows
/// with the cube); BATCH's own grids stop at batch size 20.
pub const MAX_CHAIN_STATES: usize = 512;

/// BATCH's model of one `(B, T)`.
#[derive(Debug, Clone)]
pub struct ApproxModel {
    batch_size: u32,
    timeout: f64,
    alpha: Vec<f64>,
    pmf: Vec<f64>,
    mean_batch: f64,
    /// Wait window of a full batch, `min(tau, T)`.
    full_window: f64,
}

impl ApproxModel {
    /// BATCH's computation for `(batch_size, timeout)`.
    ///
    /// # Errors
    /// A bad configuration, or a MAP of more than two phases.
    pub fn new(map: &Map, batch_size: u32, timeout: f64) -> Result<Self, AnalyticError> {
        check_config(batch_size, timeout)?;
        let m = map.phases();
        if m > 2 {
            return Err(AnalyticError::Unsupported(format!(
                "BATCH's model is defined for MAPs of one or two phases, not {m}"
            )));
        }
        let (d0, d1) = (map.d0(), map.d1());
        let b = batch_size as usize;
        if b.saturating_mul(m) > MAX_CHAIN_STATES {
            return Err(AnalyticError::TooLarge(format!(
                "BATCH's level-phase chain for batch size {b} has {} states; its \
                 approximation is computed for at most {MAX_CHAIN_STATES} (batch size {} \
                 with this MAP)",
                b * m,
                MAX_CHAIN_STATES / m
            )));
        }
        let l: Vec<f64> = (0..m).map(|i| d1[(i, i)]).collect();
        let w: Vec<f64> = (0..m).map(|i| -(d0[(i, i)] + d1[(i, i)])).collect();

        let alpha = heuristic_start(map, &l, &w, batch_size, timeout);
        let pmf = level_phase_pmf(map, &alpha, b, timeout);
        let mean_batch = super::mean_batch(&pmf);
        let tau = if m == 2 {
            (b as f64 - 1.0) * (w[0] + w[1]) / (l[0] * w[1] + l[1] * w[0])
        } else {
            (b as f64 - 1.0) / l[0]
        };
        let full_window = if tau.is_finite() {
            tau.min(timeout)
        } else {
            timeout
        };
        Ok(Self {
            batch_size,
            timeout,
            alpha,
            pmf,
            mean_batch,
            full_window,
        })
    }

    /// The heuristic phase vector the chain starts in.
    pub fn alpha(&self) -> &[f64] {
        &self.alpha
    }

    /// `P(batch size = k)` at index `k - 1`.
    pub fn batch_size_pmf(&self) -> &[f64] {
        &self.pmf
    }

    pub fn mean_batch(&self) -> f64 {
        self.mean_batch
    }

    /// BATCH's latency CDF.
    pub fn latency_cdf(&self, x: f64, service: &[f64]) -> f64 {
        let b = self.batch_size as usize;
        let Some(i) = (0..b).rev().find(|&k| service[k] <= x) else {
            return 0.0;
        };
        let share = |k: usize| (k + 1) as f64 * self.pmf[k] / self.mean_batch;
        let below: f64 = (0..i).map(share).sum();
        let window = if i + 1 == b {
            self.full_window
        } else {
            self.timeout
        };
        let inside = if window > 0.0 {
            ((x - service[i]) / window).min(1.0)
        } else {
            1.0
        };
        below + share(i) * inside
    }

    /// BATCH's percentile: bisection on `[0, 30 s]` until the bracket is narrower than
    /// `tolerance` ([`BATCH_TOLERANCE`] as published), returning the bracket's midpoint.
    pub fn latency_quantile(&self, p: f64, service: &[f64], tolerance: f64) -> f64 {
        let (mut low, mut high) = (0.0, SEARCH_LIMIT);
        while high - low > tolerance {
            let mid = 0.5 * (low + high);
            if self.latency_cdf(mid, service) < p {
                low = mid;
            } else {
                high = mid;
            }
        }
        0.5 * (low + high)
    }

    /// The `p`-quantile of the batch-size distribution: the smallest `n` whose cumulative
    /// probability reaches `p`. (BATCH's strict comparison can find none when a cumulative
    /// probability equals `p` exactly; this takes the size where it is reached.)
    pub fn percentile_batch_size(&self, p: f64) -> u32 {
        let mut cumulative = 0.0;
        for (k, q) in self.pmf.iter().enumerate() {
            cumulative += q;
            if cumulative >= p - 1e-12 {
                return k as u32 + 1;
            }
        }
        self.batch_size
    }

    /// BATCH's cost per request: the batch at the percentile size, unrounded duration.
    pub fn cost_per_request(
        &self,
        memory_mb: u32,
        service: &[f64],
        p: f64,
        pricing: &Pricing,
    ) -> f64 {
        let n = self.percentile_batch_size(p);
        let seconds = service[n as usize - 1];
        let gigabytes = f64::from(memory_mb) / 1024.0;
        (seconds * gigabytes * pricing.price_gb_s + pricing.price_request) / f64::from(n)
    }
}

/// BATCH's `initState`, with a fallback to the interval-stationary phase where its ratio is
/// undefined (a phase with no hidden moves, e.g. a Poisson process).
fn heuristic_start(map: &Map, l: &[f64], w: &[f64], batch_size: u32, timeout: f64) -> Vec<f64> {
    let g: Vec<f64> = l
        .iter()
        .zip(w)
        .map(|(&l, &w)| (l / w) / f64::from(batch_size).min((l * timeout + 1.0).floor()))
        .collect();
    let total: f64 = g.iter().sum();
    if g.iter().all(|x| x.is_finite() && *x >= 0.0) && total > 0.0 && total.is_finite() {
        g.iter().map(|x| x / total).collect()
    } else {
        map.interval_stationary().iter().copied().collect()
    }
}

/// Batch-size probabilities from the level-phase chain after time `T`.
fn level_phase_pmf(map: &Map, alpha: &[f64], b: usize, timeout: f64) -> Vec<f64> {
    if b == 1 {
        return vec![1.0];
    }
    let m = map.phases();
    let size = b * m;
    let mut generator = DMatrix::zeros(size, size);
    for level in 0..b - 1 {
        let at = level * m;
        generator.view_mut((at, at), (m, m)).copy_from(map.d0());
        generator.view_mut((at, at + m), (m, m)).copy_from(map.d1());
    }
    let transition = (generator * timeout).exp();
    let mut pmf: Vec<f64> = (0..b - 1)
        .map(|level| {
            (0..m)
                .map(|i| {
                    (0..m)
                        .map(|j| alpha[i] * transition[(i, level * m + j)])
                        .sum::<f64>()
                })
                .sum()
        })
        .collect();
    let filled = 1.0 - pmf.iter().sum::<f64>();
    pmf.push(filled);
    pmf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::test_fixtures::mmpp;
    use approx::assert_relative_eq;

    #[test]
    fn the_heuristic_start_of_the_brief() {
        // l = (200, 10), w = (0.5, 2): g = (400 / 5, 5 / 1) = (80, 5).
        let model = ApproxModel::new(&mmpp(), 5, 0.08).unwrap();
        assert_relative_eq!(model.alpha()[0], 80.0 / 85.0, epsilon = 1e-15);
        assert_relative_eq!(model.alpha()[1], 5.0 / 85.0, epsilon = 1e-15);
    }

    #[test]
    fn the_brief_p95_with_a_fine_bisection() {
        // The brief: BATCH-approx p95 = 0.1734 s for the section 2.5 case.
        let service: Vec<f64> = (1..=5).map(|k| 0.05 + 0.02 * f64::from(k)).collect();
        let model = ApproxModel::new(&mmpp(), 5, 0.08).unwrap();
        let fine = model.latency_quantile(0.95, &service, 1e-9);
        assert!((fine - 0.1734).abs() < 5e-5, "{fine}");
        // As published, within the 0.01 s bracket.
        let coarse = model.latency_quantile(0.95, &service, BATCH_TOLERANCE);
        assert!((coarse - fine).abs() <= BATCH_TOLERANCE / 2.0);
    }

    #[test]
    fn poisson_batch_sizes_match_the_exact_model() {
        // One phase: the heuristic start is the only phase, so the chain is exact.
        let map = Map::poisson(40.0).unwrap();
        let approx = ApproxModel::new(&map, 6, 0.05).unwrap();
        let exact = super::super::exact::BatchModel::new(&map, 6, 0.05).unwrap();
        for (a, e) in approx.batch_size_pmf().iter().zip(exact.batch_size_pmf()) {
            assert_relative_eq!(a, e, epsilon = 1e-12);
        }
    }

    #[test]
    fn a_chain_too_large_to_exponentiate_is_an_error() {
        let too_large = ApproxModel::new(&mmpp(), 100_000, 0.2);
        assert!(
            matches!(too_large, Err(AnalyticError::TooLarge(_))),
            "{too_large:?}"
        );
        assert!(ApproxModel::new(&mmpp(), 256, 0.2).is_ok());
    }

    #[test]
    fn cost_at_the_percentile_batch_size() {
        let model = ApproxModel::new(&mmpp(), 5, 0.08).unwrap();
        // p_5 = 0.965: the 95th percentile batch size is 5.
        assert_eq!(model.percentile_batch_size(0.95), 5);
        let service = [0.07, 0.09, 0.11, 0.13, 0.15];
        let cost = model.cost_per_request(2048, &service, 0.95, &Pricing::x86());
        let expected = (0.15 * 2.0 * 0.000_016_666_7 + 2e-7) / 5.0;
        assert_relative_eq!(cost, expected, max_relative = 1e-14);
    }
}
