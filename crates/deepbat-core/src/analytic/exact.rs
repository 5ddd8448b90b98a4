//! The exact model of one buffer configuration `(B, T)` under a MAP.
//!
//! A batch opens with the arrival of its first request; `N(t)` counts the further arrivals.
//! It leaves at `T` with `1 + N(T)` requests when fewer than `B` came, or right at the
//! `B`-th arrival. Everything follows from the counting matrices `C_d`, `I_d`
//! ([`super::counting`]):
//!
//! # Formula
//! - Phase at batch opening: `alpha` is the stationary vector of the stochastic matrix
//!   `H = (sum_{d <= B-2} C_d(T) + I_{B-2}(T) D1) P`, `P = (-D0)^-1 D1`.
//! - Batch sizes: `p_k = alpha C_{k-1}(T) 1` for `k < B`, `p_B = alpha I_{B-2}(T) D1 1`.
//! - Waits: `E_k(y)`, the expected number of requests of a batch of size `k` that wait at
//!   most `y`, is for `k < B` and `y < T`
//!   `sum_{d < k} (k-1-d) alpha C_d(T-y) C_{k-1-d}(y) 1` (the opener waits exactly `T`);
//!   for full batches
//!   `B alpha I_{B-2}(min(y, T)) D1 1 + [y < T] sum_{d <= B-2} (B-1-d) alpha I_d(T-y) C_{B-2-d}(y) D1 1`
//!   (the `B`-th request waits 0). For `y >= T`, `E_k(y) = k p_k`.
//! - Latency with deterministic service `s_k` and overhead `delta`:
//!   `F(x) = sum_k E_k(x - delta - s_k) / E[n]`.
//!
//! The split `E_k(y) = alpha . v_k(y)` with phase vectors `v_k` that do not involve
//! `alpha` is what lets the grid solver share work across batch sizes.

use super::AnalyticError;
use super::counting::{Counting, Counts};
use super::small::{Mat, RowVector, Vector, dot};
use crate::map::Map;
use crate::pricing::Pricing;
use nalgebra::{DMatrix, DVector};

/// Bisection stops when the bracket is this narrow, seconds.
pub const QUANTILE_TOLERANCE: f64 = 1e-10;

/// The exact batch-size and wait distributions of one `(B, T)`.
#[derive(Debug, Clone)]
pub struct BatchModel {
    batch_size: u32,
    timeout: f64,
    alpha: Vector,
    pmf: Vec<f64>,
    mean_batch: f64,
    counting: Counting,
    /// `D1 1`.
    arrival_rates: Vector,
}

impl BatchModel {
    /// Solves the batch structure of `(batch_size, timeout)` under `map`.
    ///
    /// # Errors
    /// A zero batch size or a negative or non-finite timeout.
    pub fn new(map: &Map, batch_size: u32, timeout: f64) -> Result<Self, AnalyticError> {
        check_config(batch_size, timeout)?;
        let depth = batch_size.saturating_sub(1).max(1) as usize;
        let counting = Counting::new(map, depth, timeout)?;
        let d1 = Mat::from_dmatrix(map.d1());
        let arrival_rates = d1.row_sums();
        let embedded = Mat::from_dmatrix(&map.embedded());
        let at_timeout = counting.at(timeout);

        let alpha = if batch_size == 1 {
            map.interval_stationary().iter().copied().collect()
        } else {
            let ends = batch_end_phases(&at_timeout, &d1, batch_size);
            stationary_of(&Mat::mul(&ends, &embedded))
        };
        let pmf = batch_size_pmf(&alpha, &at_timeout, &arrival_rates, batch_size);
        let mean_batch = super::mean_batch(&pmf);
        Ok(Self {
            batch_size,
            timeout,
            alpha,
            pmf,
            mean_batch,
            counting,
            arrival_rates,
        })
    }

    pub fn batch_size(&self) -> u32 {
        self.batch_size
    }

    pub fn timeout(&self) -> f64 {
        self.timeout
    }

    /// Phase distribution right after the opening arrival of a batch.
    pub fn alpha(&self) -> &[f64] {
        &self.alpha
    }

    /// `P(batch size = k)` at index `k - 1`.
    pub fn batch_size_pmf(&self) -> &[f64] {
        &self.pmf
    }

    /// Mean requests per batch (per invocation).
    pub fn mean_batch(&self) -> f64 {
        self.mean_batch
    }

    /// `E_k(y)` for `k = 1..=B` at index `k - 1`, exactly.
    pub fn waits_at_most(&self, y: f64) -> Vec<f64> {
        let b = self.batch_size as usize;
        if y < 0.0 {
            return vec![0.0; b];
        }
        if y >= self.timeout || b == 1 {
            return self.saturated_counts();
        }
        let (before, after) = (self.counting.at(self.timeout - y), self.counting.at(y));
        (0..b)
            .map(|k| self.wait_count_between(k, &before, &after))
            .collect()
    }

    /// `E_k(y)` for the one size `k + 1`, exactly.
    pub fn wait_count(&self, k: usize, y: f64) -> f64 {
        if y < 0.0 {
            return 0.0;
        }
        if y >= self.timeout || self.batch_size == 1 || self.pmf[k] == 0.0 {
            return (k + 1) as f64 * self.pmf[k];
        }
        let (before, after) = (self.counting.at(self.timeout - y), self.counting.at(y));
        self.wait_count_between(k, &before, &after)
    }

    /// `E_{k+1}(y)` for `0 <= y < T` from the counts at `T - y` (`before`) and `y`.
    fn wait_count_between(&self, k: usize, before: &Counts, after: &Counts) -> f64 {
        let b = self.batch_size as usize;
        let depth = after.depth();
        if k + 1 < b {
            // Size k + 1 < B: e further arrivals after T - y, k - e before; counts beyond
            // the depth are zero.
            (k.saturating_sub(depth - 1).max(1)..=k.min(depth - 1))
                .map(|e| {
                    let start = before.row_c(&self.alpha, k - e);
                    e as f64 * dot(&start, &after.c(e).row_sums())
                })
                .sum()
        } else {
            self.full_batch_waits(before, after)
        }
    }

    /// `E_B(y)` for `0 <= y < T`.
    fn full_batch_waits(&self, before: &Counts, after: &Counts) -> f64 {
        let b = self.batch_size as usize;
        let depth = after.depth();
        let rates = &self.arrival_rates;
        let all_inside = b as f64 * dot(&self.alpha.mul_mat(after.i(b - 2)), rates);
        // Only d < depth and b - 2 - d < depth can contribute.
        let partly: f64 = ((b - 2).saturating_sub(depth - 1)..=(b - 2).min(depth - 1))
            .map(|d| {
                let start = self.alpha.mul_mat(before.i(d));
                let rest = after.c(b - 2 - d).mul_vec(rates);
                (b - 1 - d) as f64 * dot(&start, &rest)
            })
            .sum();
        all_inside + partly
    }

    /// `E_k(y)` for `y >= T`: every request of every batch.
    fn saturated_counts(&self) -> Vec<f64> {
        self.pmf
            .iter()
            .enumerate()
            .map(|(k, p)| (k + 1) as f64 * p)
            .collect()
    }

    /// `P(latency <= x)` for a request, with batch service times `service[k - 1]` and a
    /// constant overhead.
    pub fn latency_cdf(&self, x: f64, service: &[f64], overhead: f64) -> f64 {
        let mut total = 0.0;
        for (k, s) in service.iter().enumerate().take(self.batch_size as usize) {
            let y = x - overhead - s;
            if y < 0.0 {
                continue;
            }
            total += self.wait_count(k, y);
        }
        (total / self.mean_batch).min(1.0)
    }

    /// The smallest latency `x` with `P(latency <= x) >= p` (`p` in (0, 1)), by bisection.
    pub fn latency_quantile(&self, p: f64, service: &[f64], overhead: f64) -> f64 {
        quantile_by_bisection(p, service, overhead, self.timeout, |x| {
            self.latency_cdf(x, service, overhead)
        })
    }

    /// Long-run cost per request: `sum_k p_k c(M, k) / E[n]`.
    pub fn cost_per_request(
        &self,
        memory_mb: u32,
        service: &[f64],
        billed_overhead: f64,
        pricing: &Pricing,
    ) -> f64 {
        let per_batch: f64 = self
            .pmf
            .iter()
            .zip(service)
            .map(|(p, s)| p * pricing.invocation_cost(memory_mb, s + billed_overhead))
            .sum();
        per_batch / self.mean_batch
    }
}

/// Rejects configurations no model can describe.
pub(super) fn check_config(batch_size: u32, timeout: f64) -> Result<(), AnalyticError> {
    if batch_size == 0 {
        return Err(AnalyticError::Config(
            "batch size must be at least 1".into(),
        ));
    }
    if !(timeout.is_finite() && timeout >= 0.0) {
        return Err(AnalyticError::Config(format!(
            "timeout {timeout} s must be finite and not negative"
        )));
    }
    Ok(())
}

/// `sum_{d <= B-2} C_d(T) + I_{B-2}(T) D1`: phase at batch end given phase at opening.
pub(super) fn batch_end_phases(at_timeout: &Counts, d1: &Mat, batch_size: u32) -> Mat {
    let b = batch_size as usize;
    let mut ends = Mat::mul(at_timeout.i(b - 2), d1);
    for d in 0..=(b - 2).min(at_timeout.depth() - 1) {
        ends.add_assign_scaled(at_timeout.c(d), 1.0);
    }
    ends
}

/// `p_k` for `k = 1..=B` from the opening phase `alpha`.
pub(super) fn batch_size_pmf(
    alpha: &Vector,
    at_timeout: &Counts,
    arrival_rates: &[f64],
    batch_size: u32,
) -> Vec<f64> {
    let b = batch_size as usize;
    if b == 1 {
        return vec![1.0];
    }
    let mut pmf: Vec<f64> = (0..b - 1)
        .map(|d| {
            if d < at_timeout.depth() {
                alpha.mul_mat(at_timeout.c(d)).iter().sum()
            } else {
                0.0
            }
        })
        .collect();
    pmf.push(dot(&alpha.mul_mat(at_timeout.i(b - 2)), arrival_rates));
    pmf
}

/// The stationary vector of a stochastic matrix: `x H = x`, `x 1 = 1`.
pub(super) fn stationary_of(h: &Mat) -> Vector {
    let n = h.size();
    // Solve (H^T - I) x = 0 with the last equation replaced by sum(x) = 1.
    let mut a = h.to_dmatrix().transpose() - DMatrix::identity(n, n);
    let mut rhs = DVector::zeros(n);
    for j in 0..n {
        a[(n - 1, j)] = 1.0;
    }
    rhs[n - 1] = 1.0;
    let x = a
        .lu()
        .solve(&rhs)
        .unwrap_or_else(|| DVector::from_element(n, 1.0 / n as f64));
    // Clean rounding: no negative mass, total one.
    let clipped: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
    let total: f64 = clipped.iter().sum();
    clipped.iter().map(|v| v / total).collect()
}

/// The smallest `x` with `cdf(x) >= p`, searched between the fastest possible latency and
/// the slowest (`max s_k + T + overhead`).
pub(super) fn quantile_by_bisection(
    p: f64,
    service: &[f64],
    overhead: f64,
    timeout: f64,
    cdf: impl Fn(f64) -> f64,
) -> f64 {
    let fastest = service.iter().copied().fold(f64::INFINITY, f64::min);
    let slowest = service.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut low = overhead + fastest - QUANTILE_TOLERANCE;
    let mut high = overhead + slowest + timeout;
    if cdf(low) >= p {
        return low;
    }
    while high - low > QUANTILE_TOLERANCE * high.abs().max(1.0) {
        let mid = 0.5 * (low + high);
        if cdf(mid) >= p {
            high = mid;
        } else {
            low = mid;
        }
    }
    high
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// The MMPP(2) of section 2.5 of the BATCH brief: D0 = [[-200.5, 0.5], [2, -12]],
    /// D1 = diag(200, 10), B = 5, T = 80 ms, s_k = 0.05 + 0.02 k s.
    fn fixture() -> (Map, BatchModel, Vec<f64>) {
        let map = crate::analytic::test_fixtures::mmpp();
        let model = BatchModel::new(&map, 5, 0.08).unwrap();
        let service = (1..=5).map(|k| 0.05 + 0.02 * f64::from(k)).collect();
        (map, model, service)
    }

    /// Asserts `value` rounds to `printed` at the digits printed.
    fn assert_printed(value: f64, printed: &str) {
        let decimals = printed.split('.').nth(1).map_or(0, str::len);
        let expected: f64 = printed.parse().unwrap();
        let half_unit = 0.5 * 10f64.powi(-(decimals as i32));
        assert!(
            (value - expected).abs() <= half_unit * (1.0 + 1e-9),
            "{value} does not print as {printed}"
        );
    }

    #[test]
    fn the_brief_fixture_to_the_printed_digits() {
        let (_, model, service) = fixture();
        assert_printed(model.alpha()[0], "0.968477");
        assert_printed(model.alpha()[1], "0.031523");
        let expected_pmf = ["0.013198", "0.011706", "0.006320", "0.003684", "0.965092"];
        for (p, printed) in model.batch_size_pmf().iter().zip(expected_pmf) {
            assert_printed(*p, printed);
        }
        assert_printed(model.mean_batch(), "4.895766");
        for (p, printed) in [
            (0.50, "0.15765"),
            (0.90, "0.174226"),
            (0.95, "0.18022"),
            (0.99, "0.193573"),
        ] {
            assert_printed(model.latency_quantile(p, &service, 0.0), printed);
        }
        let cost = model.cost_per_request(2048, &service, 0.0, &Pricing::x86());
        assert_relative_eq!(cost, 1.04795e-6, max_relative = 5e-6);
    }

    #[test]
    fn the_brief_cdf_spot_checks() {
        let (_, model, service) = fixture();
        for (x, printed) in [
            (0.1499, "0.00309"),
            (0.1501, "0.20688"),
            (0.155, "0.39966"),
            (0.2, "0.99481"),
        ] {
            assert_printed(model.latency_cdf(x, &service, 0.0), printed);
        }
    }

    #[test]
    fn wait_counts_reach_k_p_k_and_never_fall() {
        let (_, model, _) = fixture();
        let saturated = model.waits_at_most(model.timeout());
        let mut previous = vec![0.0; 5];
        for step in 0..=80 {
            let y = f64::from(step) * 0.001 - 1e-12;
            let counts = model.waits_at_most(y.max(0.0));
            for k in 0..5 {
                assert!(counts[k] + 1e-12 >= previous[k], "E_{} falls at {y}", k + 1);
                assert!(counts[k] <= saturated[k] + 1e-12);
            }
            previous = counts;
        }
        // The B-th request of a full batch waits 0: an atom of p_B at y = 0.
        assert_relative_eq!(
            model.waits_at_most(0.0)[4],
            model.batch_size_pmf()[4],
            epsilon = 1e-12
        );
        let total: f64 = saturated.iter().sum();
        assert_relative_eq!(total, model.mean_batch(), epsilon = 1e-12);
    }

    #[test]
    fn poisson_batch_sizes_are_poisson_counts() {
        // Poisson arrivals: p_k = Pois(k - 1; lambda T) for k < B.
        let map = Map::poisson(40.0).unwrap();
        let model = BatchModel::new(&map, 6, 0.05).unwrap();
        let a: f64 = 2.0;
        let mut factorial = 1.0;
        for k in 1..6 {
            if k > 1 {
                factorial *= (k - 1) as f64;
            }
            let expected = (-a).exp() * a.powi(k - 1) / factorial;
            assert_relative_eq!(
                model.batch_size_pmf()[k as usize - 1],
                expected,
                epsilon = 1e-13
            );
        }
        let total: f64 = model.batch_size_pmf().iter().sum();
        assert_relative_eq!(total, 1.0, epsilon = 1e-13);
    }

    #[test]
    fn poisson_wait_of_a_non_opener_is_uniform() {
        // Poisson, B large enough never to fill: given k - 1 further arrivals in (0, T],
        // they are uniform, so E_k(y) = (k - 1) p_k y / T for y < T.
        let map = Map::poisson(10.0).unwrap();
        let model = BatchModel::new(&map, 30, 0.1).unwrap();
        let y = 0.037;
        let counts = model.waits_at_most(y);
        for (k, count) in counts.iter().enumerate().take(6).skip(1) {
            let expected = (k as f64) * model.batch_size_pmf()[k] * y / 0.1;
            assert_relative_eq!(*count, expected, epsilon = 1e-13);
        }
    }

    #[test]
    fn batch_size_one_never_waits() {
        let (map, _, _) = fixture();
        let model = BatchModel::new(&map, 1, 0.05).unwrap();
        assert_eq!(model.batch_size_pmf(), &[1.0]);
        let q = model.latency_quantile(0.95, &[0.07], 0.0);
        assert_relative_eq!(q, 0.07, epsilon = 1e-9);
    }

    #[test]
    fn zero_timeout_sends_every_request_alone() {
        let (map, _, _) = fixture();
        let model = BatchModel::new(&map, 8, 0.0).unwrap();
        assert_relative_eq!(model.batch_size_pmf()[0], 1.0, epsilon = 1e-15);
        assert_relative_eq!(model.mean_batch(), 1.0, epsilon = 1e-15);
    }

    #[test]
    fn a_batch_limit_far_beyond_reach_costs_nothing_extra() {
        // Poisson 64/s, T = 50 ms: about 3.2 further arrivals per batch, so a limit of
        // 100,000 is never reached; sizes follow Pois(k - 1; 3.2) and p_B is 0.
        let map = Map::poisson(64.0).unwrap();
        let model = BatchModel::new(&map, 100_000, 0.05).unwrap();
        let pmf = model.batch_size_pmf();
        assert_eq!(pmf.len(), 100_000);
        assert_eq!(pmf[99_999], 0.0);
        assert_relative_eq!(pmf[0], (-3.2_f64).exp(), epsilon = 1e-14);
        assert_relative_eq!(model.mean_batch(), 4.2, epsilon = 1e-12);
        let service = vec![0.01; 100_000];
        let p95 = model.latency_quantile(0.95, &service, 0.0);
        assert!(p95 > 0.01 && p95 <= 0.06 + 1e-9, "{p95}");
    }

    #[test]
    fn timeouts_beyond_the_model_are_errors() {
        let map = Map::poisson(100.0).unwrap();
        let too_long = BatchModel::new(&map, 8, 1e9);
        assert!(
            matches!(too_long, Err(AnalyticError::TooLarge(_))),
            "{too_long:?}"
        );
    }

    #[test]
    fn bad_configurations_are_errors() {
        let (map, _, _) = fixture();
        assert!(BatchModel::new(&map, 0, 0.1).is_err());
        assert!(BatchModel::new(&map, 4, -0.1).is_err());
        assert!(BatchModel::new(&map, 4, f64::NAN).is_err());
    }
}
