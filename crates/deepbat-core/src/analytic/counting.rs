//! Counting matrices of a MAP, by uniformization.
//!
//! `C_d(t)[i, j]` is the probability of exactly `d` arrivals in `(0, t]` and phase `j` at
//! `t`, given phase `i` at 0; `I_d(t)` is its integral over `[0, t]`.
//!
//! # Formula
//! With `q >= max |D0[i, i]|`, `P0 = I + D0 / q`, `P1 = D1 / q` and the recursion
//! `K(0, 0) = I`, `K(n, d) = K(n-1, d) P0 + K(n-1, d-1) P1`:
//!
//! `C_d(t) = sum_n Pois(n; qt) K(n, d)`, `I_d(t) = (1/q) sum_n P(Pois(qt) > n) K(n, d)`.
//!
//! `K` depends on the MAP alone, so it is computed once, up to the number of terms the
//! longest time needs, and every `t` is a re-weighting. All terms are non-negative, which
//! is what makes uniformization stable where a matrix exponential of the level-phase chain
//! can cancel.

use super::AnalyticError;
use super::small::{Mat, RowVector, Vector};
use crate::map::Map;

/// Poisson weights below this are dropped; the truncated tail is smaller still.
const WEIGHT_FLOOR: f64 = 1e-20;
/// Most uniformization terms a model may need (`q T` of about 10^5).
pub const MAX_TERMS: usize = 100_000;
/// Most `K(n, d)` blocks a model may hold (memory: a few hundred MB for two phases).
pub const MAX_BLOCKS: usize = 4_000_000;

/// `K(n, d)` for `n` up to what a horizon needs and `d` up to a depth.
#[derive(Debug, Clone)]
pub struct Counting {
    phases: usize,
    /// Counts kept: `d = 0..depth`.
    depth: usize,
    /// Uniformization rate `q`.
    rate: f64,
    /// Longest time the terms cover.
    horizon: f64,
    /// `K(n, d)` as row-major `phases x phases` blocks, `n`-major.
    terms: Vec<Mat>,
    n_terms: usize,
}

/// `C_d(t)` and `I_d(t)` for `d = 0..depth` at one `t`; beyond the depth both are zero
/// (to the truncation's precision).
#[derive(Debug, Clone)]
pub struct Counts {
    c: Vec<Mat>,
    i: Vec<Mat>,
    zero: Mat,
}

impl Counting {
    /// The uniformization terms of `map` for counts `0..depth` and times up to `horizon`.
    ///
    /// Counts beyond the number of terms have probability below the truncation error, so
    /// the depth kept is at most that number.
    ///
    /// # Errors
    /// When `q * horizon` needs more than [`MAX_TERMS`] terms, or the terms and depth
    /// more than [`MAX_BLOCKS`] blocks: the rate and timeout are too large for this model.
    pub fn new(map: &Map, depth: usize, horizon: f64) -> Result<Self, AnalyticError> {
        let phases = map.phases();
        let (n_terms, depth) = Self::size(map, depth, horizon)?;
        let rate = uniformization_rate(map);
        let d0 = Mat::from_dmatrix(map.d0());
        let d1 = Mat::from_dmatrix(map.d1());
        let p0 = Mat::identity(phases).add_scaled(&d0, 1.0 / rate);
        let p1 = d1.scaled(1.0 / rate);

        let mut terms = Vec::with_capacity(n_terms * depth);
        for n in 0..n_terms {
            for d in 0..depth {
                let block = if n == 0 {
                    if d == 0 {
                        Mat::identity(phases)
                    } else {
                        Mat::zeros(phases)
                    }
                } else if d > n {
                    Mat::zeros(phases)
                } else {
                    let previous = &terms[(n - 1) * depth + d];
                    let mut block = Mat::mul(previous, &p0);
                    if d > 0 {
                        block.add_product(&terms[(n - 1) * depth + d - 1], &p1);
                    }
                    block
                };
                terms.push(block);
            }
        }
        Ok(Self {
            phases,
            depth,
            rate,
            horizon,
            terms,
            n_terms,
        })
    }

    /// The number of terms and the depth [`Counting::new`] would use, or why it cannot.
    ///
    /// # Errors
    /// As [`Counting::new`].
    pub fn size(map: &Map, depth: usize, horizon: f64) -> Result<(usize, usize), AnalyticError> {
        let rate = uniformization_rate(map);
        let mean_events = rate * horizon;
        // Written so that a NaN product is refused too.
        if mean_events.is_nan() || mean_events > MAX_TERMS as f64 * 0.8 {
            return Err(AnalyticError::TooLarge(format!(
                "timeout {horizon} s at uniformization rate {rate:.4}/s means about \
                 {mean_events:.3e} events per batch window; the exact model handles up to {}",
                MAX_TERMS * 4 / 5
            )));
        }
        let n_terms = poisson_weights(mean_events).len();
        let depth = depth.clamp(1, n_terms);
        if n_terms * depth > MAX_BLOCKS {
            return Err(AnalyticError::TooLarge(format!(
                "{n_terms} uniformization terms x {depth} batch sizes exceed the model's \
                 limit of {MAX_BLOCKS} blocks; use a shorter timeout or a smaller batch"
            )));
        }
        Ok((n_terms, depth))
    }

    pub fn phases(&self) -> usize {
        self.phases
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// `C_d(t)` and `I_d(t)` for every kept `d`.
    ///
    /// # Panics
    /// If `t` is negative or beyond the horizon the terms were computed for.
    pub fn at(&self, t: f64) -> Counts {
        assert!(
            t >= 0.0 && t <= self.horizon * (1.0 + 1e-12) + 1e-15,
            "time {t} outside the counting horizon [0, {}]",
            self.horizon
        );
        let weights = poisson_weights(self.rate * t);
        let n_used = weights.len().min(self.n_terms);
        let tails = upper_tails(&weights);
        let mut c = vec![Mat::zeros(self.phases); self.depth];
        let mut i = vec![Mat::zeros(self.phases); self.depth];
        for n in 0..n_used {
            let (w, tail) = (weights[n], tails[n] / self.rate);
            // Only d <= n can be non-zero.
            for d in 0..self.depth.min(n + 1) {
                let block = &self.terms[n * self.depth + d];
                if w > 0.0 {
                    c[d].add_assign_scaled(block, w);
                }
                if tail > 0.0 {
                    i[d].add_assign_scaled(block, tail);
                }
            }
        }
        Counts {
            c,
            i,
            zero: Mat::zeros(self.phases),
        }
    }
}

impl Counts {
    /// `C_d(t)`.
    pub fn c(&self, d: usize) -> &Mat {
        self.c.get(d).unwrap_or(&self.zero)
    }

    /// `I_d(t)`.
    pub fn i(&self, d: usize) -> &Mat {
        self.i.get(d).unwrap_or(&self.zero)
    }

    /// The counts held; every `d` from here on is zero.
    pub fn depth(&self) -> usize {
        self.c.len()
    }

    /// `row * C_d`.
    pub fn row_c(&self, row: &Vector, d: usize) -> Vector {
        row.mul_mat(self.c(d))
    }
}

/// `q = max_i |D0[i, i]|`, kept positive.
fn uniformization_rate(map: &Map) -> f64 {
    (0..map.phases())
        .map(|i| -map.d0()[(i, i)])
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE)
}

/// Poisson probabilities `P(N = n)` for `n = 0..len`, `N ~ Pois(mean)`, cut where they
/// fall below [`WEIGHT_FLOOR`] past the mode.
///
/// Computed outward from the mode by the ratio `w(n+1) / w(n) = mean / (n+1)` and then
/// normalised, which stays accurate for large means where `exp(-mean)` underflows.
pub fn poisson_weights(mean: f64) -> Vec<f64> {
    if mean <= 0.0 {
        return vec![1.0];
    }
    let mode = mean.floor() as usize;
    let mut right = vec![1.0];
    let mut w = 1.0;
    let mut n = mode;
    loop {
        w *= mean / (n + 1) as f64;
        n += 1;
        right.push(w);
        if w < WEIGHT_FLOOR {
            break;
        }
    }
    let mut left = Vec::new();
    w = 1.0;
    for n in (1..=mode).rev() {
        w *= n as f64 / mean;
        if w < WEIGHT_FLOOR {
            break;
        }
        left.push(w);
    }
    let first = mode - left.len();
    let mut weights = vec![0.0; first];
    weights.extend(left.iter().rev());
    weights.extend(right);
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|x| *x /= total);
    weights
}

/// `P(N > n)` for every `n` of `weights`, summed from the far end so small tails keep
/// their precision.
fn upper_tails(weights: &[f64]) -> Vec<f64> {
    let mut tails = vec![0.0; weights.len()];
    let mut sum = 0.0;
    for n in (0..weights.len()).rev() {
        tails[n] = sum;
        sum += weights[n];
    }
    tails
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::test_fixtures::mmpp;
    use nalgebra::DMatrix;

    #[test]
    fn poisson_weights_match_the_closed_form() {
        for mean in [0.0, 0.3, 4.0, 37.5, 800.0] {
            let w = poisson_weights(mean);
            let total: f64 = w.iter().sum();
            assert!((total - 1.0).abs() < 1e-14);
            let m: f64 = w.iter().enumerate().map(|(n, x)| n as f64 * x).sum();
            assert!((m - mean).abs() < 1e-9 * mean.max(1.0), "{m} vs {mean}");
        }
        // Pois(3; 4) = e^-4 4^3 / 3!.
        let w = poisson_weights(4.0);
        let expected = (-4.0_f64).exp() * 64.0 / 6.0;
        assert!((w[3] - expected).abs() < 1e-15);
    }

    /// `C_d(t)` is block `(0, d)` of `exp(A t)`, `A` the level-phase generator with `D0`
    /// on the diagonal and `D1` above; `I_d(t)` is the matching block of the Van Loan
    /// exponential `exp([[A, I], [0, 0]] t)`.
    fn by_matrix_exponential(
        map: &Map,
        depth: usize,
        t: f64,
    ) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        let m = map.phases();
        let size = m * depth;
        let mut a = DMatrix::zeros(2 * size, 2 * size);
        for level in 0..depth {
            let at = level * m;
            a.view_mut((at, at), (m, m)).copy_from(map.d0());
            if level + 1 < depth {
                a.view_mut((at, at + m), (m, m)).copy_from(map.d1());
            }
        }
        for k in 0..size {
            a[(k, size + k)] = 1.0;
        }
        let e = (a * t).exp();
        let c = (0..depth)
            .map(|d| e.view((0, d * m), (m, m)).into_owned())
            .collect();
        let i = (0..depth)
            .map(|d| e.view((0, size + d * m), (m, m)).into_owned())
            .collect();
        (c, i)
    }

    #[test]
    fn uniformization_agrees_with_the_matrix_exponential() {
        let map = mmpp();
        let depth = 6;
        let counting = Counting::new(&map, depth, 0.2).unwrap();
        for t in [0.0, 0.003, 0.02, 0.08, 0.2] {
            let counts = counting.at(t);
            let (c, i) = by_matrix_exponential(&map, depth, t);
            for d in 0..depth {
                for r in 0..2 {
                    for s in 0..2 {
                        let (uc, ec) = (counts.c(d).get(r, s), c[d][(r, s)]);
                        let (ui, ei) = (counts.i(d).get(r, s), i[d][(r, s)]);
                        assert!((uc - ec).abs() < 1e-12, "C_{d}({t})[{r},{s}] {uc} vs {ec}");
                        assert!((ui - ei).abs() < 1e-12, "I_{d}({t})[{r},{s}] {ui} vs {ei}");
                    }
                }
            }
        }
    }

    #[test]
    fn poisson_counts_are_poisson() {
        // One phase at rate 50: C_d(t) = Pois(d; 50 t), I_d(t) = P(Gamma(d+1, 50) <= t) / 50.
        let map = Map::poisson(50.0).unwrap();
        let counting = Counting::new(&map, 8, 0.1).unwrap();
        let t = 0.07;
        let counts = counting.at(t);
        let a: f64 = 50.0 * t;
        let mut factorial = 1.0;
        let mut cdf_below = 0.0;
        for d in 0..8 {
            if d > 0 {
                factorial *= d as f64;
            }
            let pois = (-a).exp() * a.powi(d as i32) / factorial;
            assert!((counts.c(d).get(0, 0) - pois).abs() < 1e-14);
            cdf_below += pois;
            // P(Gamma(d+1) <= t) = P(Pois(a) > d).
            let expected_integral = (1.0 - cdf_below) / 50.0;
            assert!((counts.i(d).get(0, 0) - expected_integral).abs() < 1e-14);
        }
    }
}
