//! Fitting a two-phase MAP to four numbers: three interval moments and the ACF decay rate.
//!
//! A MAP(2) has exactly four degrees of freedom once the phase labels are fixed, and Heindl,
//! Horváth and Gross showed that `(E[X], E[X²], E[X³], γ)` pins it down in closed form
//! whenever such a MAP exists. This is how BATCH's hourly fits were made (KPC-Toolbox's
//! `map2_fit`); porting it lets us regenerate and extend them.
//!
//! # Formula
//! Reduced moments `r1 = e1`, `r2 = e2 / 2`, `r3 = e3 / 6`; `h2 = (r2 - r1²) / r1²`
//! (`= (SCV - 1) / 2`), `h3 = (r3 r1 - r2²) / r1⁴`, `b = h3 + h2² - h2`, `c = √(b² + 4 h2³)`.
//! - `h2 = 0`: only the Poisson process, with `γ = 0`.
//! - hyper-exponential side (`h2 > 0`, `h3 > 0`): `γ` must lie in `[(b - c)/(b + c), 1)`
//!   when `b ≥ 0`, in `[-(h3 + h2²)/h2, 1)` when `b < 0`. With `γ ≥ 0` or `b ≥ 0` the fit has
//!   a diagonal `D0 = -diag(2h2 + b - c, 2h2 + b + c) / (2 r1 h3)` and a full `D1`; otherwise
//!   `D0` gains an upper off-diagonal entry set by `a = (h3 + h2²) / h2`.
//! - hypo-exponential side (`-1/4 ≤ h2 < 0`, `h2 (1 - h2 - 2√-h2) ≤ h3 ≤ -h2²`): `γ` is
//!   bounded above by `-(h2 + √-h3)² / h2` and below by `-(h3 + h2²) / h2`; the fit uses the
//!   same triangular form with `c` negated.
//!
//! SCV below 1/2 (`h2 < -1/4`) is out of reach of any MAP(2). [`fit_map2`] wraps the exact
//! solution in the fallback ladder a fitting tool needs for noisy trace statistics.

use nalgebra::DMatrix;

use super::{Map, MapError};

/// `|h2|` below this counts as an exponential interval (SCV = 1).
const EXPONENTIAL_TOLERANCE: f64 = 1e-12;
/// How far inside the open end `γ < 1` a clamped decay rate is placed.
const DECAY_MARGIN: f64 = 1e-6;

/// The reduced quantities of the module formula.
#[derive(Debug, Clone, Copy)]
struct Reduced {
    r1: f64,
    h2: f64,
    h3: f64,
    b: f64,
    c: f64,
}

impl Reduced {
    fn new(e1: f64, e2: f64, e3: f64) -> Result<Reduced, MapError> {
        for (what, value) in [("E[X]", e1), ("E[X^2]", e2), ("E[X^3]", e3)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(MapError::Infeasible {
                    what,
                    value,
                    why: "moments must be positive finite numbers".into(),
                });
            }
        }
        let (r1, r2, r3) = (e1, e2 / 2.0, e3 / 6.0);
        let h2 = (r2 - r1 * r1) / (r1 * r1);
        let h3 = (r3 * r1 - r2 * r2) / r1.powi(4);
        let b = h3 + h2 * h2 - h2;
        let c = (b * b + 4.0 * h2.powi(3)).sqrt();
        Ok(Reduced { r1, h2, h3, b, c })
    }

    fn is_exponential(&self) -> bool {
        self.h2.abs() < EXPONENTIAL_TOLERANCE
    }

    fn is_hyper(&self) -> bool {
        self.h2 > 0.0 && self.h3 > 0.0
    }

    fn is_hypo(&self) -> bool {
        let h2 = self.h2;
        (-0.25..0.0).contains(&h2)
            && h2 * (1.0 - h2 - 2.0 * (-h2).sqrt()) <= self.h3
            && self.h3 <= -h2 * h2
    }

    /// The feasible decay rates `[low, high]` (`high` itself excluded when it is 1).
    fn decay_range(&self) -> Option<(f64, f64)> {
        let Reduced { h2, h3, b, c, .. } = *self;
        if self.is_exponential() {
            Some((0.0, 0.0))
        } else if self.is_hyper() {
            let low = if b >= 0.0 {
                (b - c) / (b + c)
            } else {
                -(h3 + h2 * h2) / h2
            };
            Some((low, 1.0))
        } else if self.is_hypo() {
            let high = -(h2 + (-h3).sqrt()).powi(2) / h2;
            Some((-(h3 + h2 * h2) / h2, high))
        } else {
            None
        }
    }

    /// Why these moments have no MAP(2), whatever the decay rate.
    fn moment_error(&self, e1: f64, e2: f64) -> MapError {
        let scv = 2.0 * self.h2 + 1.0;
        if self.h2 < -0.25 {
            MapError::Infeasible {
                what: "SCV",
                value: scv,
                why: "a MAP(2) needs SCV of at least 0.5".into(),
            }
        } else {
            let bound = if self.h2 > 0.0 {
                format!("above {}", 1.5 * e2 * e2 / e1)
            } else {
                "between the bounds of the hypo-exponential region".to_string()
            };
            MapError::Infeasible {
                what: "E[X^3]",
                value: 6.0 * self.r1.powi(3) * (self.h3 + (1.0 + self.h2).powi(2)),
                why: format!("with SCV {scv} the third moment must be {bound}"),
            }
        }
    }
}

/// The range of ACF decay rates a MAP(2) with these moments can have: `(low, high)`, where
/// `high = 1` is itself excluded. `(0, 0)` for exponential intervals.
///
/// # Errors
/// When no MAP(2) has these moments.
pub fn decay_range(e1: f64, e2: f64, e3: f64) -> Result<(f64, f64), MapError> {
    let reduced = Reduced::new(e1, e2, e3)?;
    reduced
        .decay_range()
        .ok_or_else(|| reduced.moment_error(e1, e2))
}

/// The MAP(2) with inter-arrival moments `e1, e2, e3` and ACF decay rate `gamma`.
///
/// # Errors
/// [`MapError::Infeasible`] when no MAP(2) has these four values (SCV below 1/2, a third
/// moment outside the region for the SCV, or `gamma` outside [`decay_range`]).
pub fn map2_fit(e1: f64, e2: f64, e3: f64, gamma: f64) -> Result<Map, MapError> {
    let (d0, d1) = solve(e1, e2, e3, gamma)?;
    let (d0, d1) = normalise(d0, d1);
    Map::new(d0, d1)
}

/// The closed-form matrices, before normalisation.
fn solve(e1: f64, e2: f64, e3: f64, gamma: f64) -> Result<(DMatrix<f64>, DMatrix<f64>), MapError> {
    let reduced = Reduced::new(e1, e2, e3)?;
    let Reduced { r1, h2, h3, b, c } = reduced;
    let gamma_error = |low: f64, high: f64| MapError::Infeasible {
        what: "decay rate",
        value: gamma,
        why: format!("with these moments it must lie in [{low}, {high}]"),
    };
    if !gamma.is_finite() {
        return Err(gamma_error(-1.0, 1.0));
    }

    if reduced.is_exponential() {
        if gamma != 0.0 {
            return Err(gamma_error(0.0, 0.0));
        }
        let rate = 1.0 / e1;
        return Ok((
            DMatrix::from_element(1, 1, -rate),
            DMatrix::from_element(1, 1, rate),
        ));
    }
    let Some((low, high)) = reduced.decay_range() else {
        return Err(reduced.moment_error(e1, e2));
    };
    let in_range = if high >= 1.0 {
        low <= gamma && gamma < 1.0
    } else {
        low <= gamma && gamma <= high
    };
    if !in_range {
        return Err(gamma_error(low, high));
    }

    if reduced.is_hyper() {
        if gamma >= 0.0 || b >= 0.0 {
            return Ok(diagonal_form(r1, h2, h3, b, c, gamma));
        }
        let a = (h3 + h2 * h2) / h2;
        return Ok(triangular_form(r1, h2, h3, b, c, a, gamma));
    }

    // Hypo-exponential side: `a` from the original `c`, then the triangular form with `-c`.
    let root = (-h3).sqrt();
    let a = if gamma >= 0.0 {
        (2.0 * h2 + b - c) * (h2 + root) / (2.0 * h2 * root)
    } else {
        (h3 + h2 * h2) / h2
    };
    Ok(triangular_form(r1, h2, h3, b, -c, a, gamma))
}

/// Hyper-exponential fit with a diagonal `D0`.
fn diagonal_form(
    r1: f64,
    h2: f64,
    h3: f64,
    b: f64,
    c: f64,
    gamma: f64,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let slow = 2.0 * h2 + b - c;
    let fast = 2.0 * h2 + b + c;
    let ratio = b / c;
    let d0 = DMatrix::from_row_slice(2, 2, &[-slow, 0.0, 0.0, -fast]) / (2.0 * r1 * h3);
    let d1 = DMatrix::from_row_slice(
        2,
        2,
        &[
            slow * (1.0 - ratio + gamma * (1.0 + ratio)),
            slow * (1.0 + ratio) * (1.0 - gamma),
            fast * (1.0 - ratio) * (1.0 - gamma),
            fast * (1.0 + ratio + gamma * (1.0 - ratio)),
        ],
    ) / (4.0 * r1 * h3);
    (d0, d1)
}

/// Fit with an upper-triangular `D0`, for negative decay rates and the hypo side.
fn triangular_form(
    r1: f64,
    h2: f64,
    h3: f64,
    b: f64,
    c: f64,
    a: f64,
    gamma: f64,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let slow = 2.0 * h2 + b - c;
    let fast = 2.0 * h2 + b + c;
    let denominator = (1.0 - a) * slow + 2.0 * c;
    let d1 = ((1.0 - a) * (2.0 * h2 * gamma + b - c) + gamma * (b + c) - (b - c)) / denominator;
    let d2 = (gamma - 1.0) * (b - c) / denominator;
    let scale = 2.0 * r1 * h3;
    let d0 = DMatrix::from_row_slice(2, 2, &[-slow, slow * (1.0 - a), 0.0, -fast]) / scale;
    let arrivals = DMatrix::from_row_slice(
        2,
        2,
        &[slow * d1, slow * (a - d1), fast * d2, fast * (1.0 - d2)],
    ) / scale;
    (d0, arrivals)
}

/// Clips negative rates (round-off of a fit) to zero and resets the diagonal of `D0` so that
/// every row of `D0 + D1` sums to exactly zero.
pub fn normalise(mut d0: DMatrix<f64>, mut d1: DMatrix<f64>) -> (DMatrix<f64>, DMatrix<f64>) {
    let n = d0.nrows();
    for i in 0..n {
        let mut leaving = 0.0;
        for j in 0..n {
            if j != i {
                d0[(i, j)] = d0[(i, j)].max(0.0);
                leaving += d0[(i, j)];
            }
            d1[(i, j)] = d1[(i, j)].max(0.0);
            leaving += d1[(i, j)];
        }
        d0[(i, i)] = -leaving;
    }
    (d0, d1)
}

impl Map {
    /// The same MAP with time running `factor` times faster: every rate multiplied by
    /// `factor`, every interval divided by it.
    ///
    /// # Errors
    /// When `factor` is not a positive finite number.
    pub fn scaled(&self, factor: f64) -> Result<Map, MapError> {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(MapError::BadParameter {
                name: "factor",
                value: factor,
                why: "must be a positive finite number",
            });
        }
        Map::new(self.d0() * factor, self.d1() * factor)
    }

    /// The same MAP rescaled so that its mean inter-arrival time is `mean_interval`.
    ///
    /// # Errors
    /// When `mean_interval` is not a positive finite number.
    pub fn with_mean_interval(&self, mean_interval: f64) -> Result<Map, MapError> {
        self.scaled(self.mean_interval() / mean_interval)
    }
}

/// Which rung of the fallback ladder produced a fit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum FitMethod {
    /// The moments and decay rate as given.
    Exact,
    /// The third moment was out of reach or not given; it was set by the rule that widens
    /// the feasible decay range the most ([`third_moment_rule`]).
    ThirdMomentRule {
        /// The third moment used.
        e3: f64,
    },
    /// The decay rate was moved to the nearest feasible value.
    ClampedDecay {
        /// The decay rate asked for.
        requested: f64,
        /// The decay rate used.
        used: f64,
    },
    /// No correlated fit exists: a renewal process (decay rate 0) with the moments.
    Renewal,
    /// SCV below 1/2: an Erlang-2 renewal process with the right mean (SCV exactly 1/2).
    Erlang2,
}

/// A fitted MAP and how it was obtained.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The MAP, rescaled to the exact mean interval asked for.
    pub map: Map,
    /// The rung of the ladder that produced it.
    pub method: FitMethod,
}

/// The third moment to use when only two are trusted (KPC's `e3 = -1` convention).
///
/// SCV in `[1, 3)` with a negative decay rate: the `h3 = h2 - h2²` point. SCV in `[1, 3)` with
/// a non-negative decay rate, or SCV of 3 and more: just above the smallest third moment,
/// `(1.5 + 1e-3) e2² / e1`, which leaves the widest range of decay rates. SCV below 1: just
/// above the lower edge of the hypo-exponential region.
pub fn third_moment_rule(e1: f64, e2: f64, gamma: f64) -> f64 {
    let scv = e2 / (e1 * e1) - 1.0;
    let h2 = (scv - 1.0) / 2.0;
    let from_h3 = |h3: f64| 6.0 * e1.powi(3) * (2.0 * h2 + h3 + 1.0 + h2 * h2);
    if (1.0..3.0).contains(&scv) && gamma < 0.0 {
        from_h3(h2 - h2 * h2)
    } else if scv >= 1.0 {
        (1.5 + 1e-3) * e2 * e2 / e1
    } else {
        (1.0 + 1e-10) * from_h3(h2 * (1.0 - h2 - 2.0 * (-h2).max(0.0).sqrt()))
    }
}

/// A MAP(2) for noisy trace statistics: the exact fit where it exists, otherwise the first
/// rung of the ladder that works — the third-moment rule (when `e3` is `None` or out of
/// reach), a decay rate clamped into the feasible range, a renewal fit (`γ = 0`), and
/// Erlang-2 for SCV below 1/2. The result is normalised and rescaled to mean `e1`.
///
/// # Errors
/// When `e1` or `e2` is not a positive finite number, or `e2 < e1²`.
pub fn fit_map2(e1: f64, e2: f64, e3: Option<f64>, gamma: f64) -> Result<Fitted, MapError> {
    let variance = e2 - e1 * e1;
    if !(e1.is_finite() && e1 > 0.0 && e2.is_finite() && variance >= 0.0) {
        return Err(MapError::Infeasible {
            what: "E[X^2]",
            value: e2,
            why: format!(
                "with mean {e1} it must be a finite number of at least {}",
                e1 * e1
            ),
        });
    }
    let gamma = if gamma.is_finite() { gamma } else { 0.0 };
    let finish = |map: Map, method| -> Result<Fitted, MapError> {
        Ok(Fitted {
            map: map.with_mean_interval(e1)?,
            method,
        })
    };

    if e2 / (e1 * e1) - 1.0 < 0.5 {
        let rate = 2.0 / e1;
        let d0 = DMatrix::from_row_slice(2, 2, &[-rate, rate, 0.0, -rate]);
        let d1 = DMatrix::from_row_slice(2, 2, &[0.0, 0.0, rate, 0.0]);
        return finish(Map::new(d0, d1)?, FitMethod::Erlang2);
    }

    // Third-moment candidates: the one given (if any), then the rule.
    let ruled = third_moment_rule(e1, e2, gamma);
    let candidates: Vec<(f64, bool)> = match e3 {
        Some(e3) => vec![(e3, false), (ruled, true)],
        None => vec![(ruled, true)],
    };
    for (e3, is_rule) in candidates {
        let Ok((low, high)) = decay_range(e1, e2, e3) else {
            continue;
        };
        let method = if is_rule {
            FitMethod::ThirdMomentRule { e3 }
        } else {
            FitMethod::Exact
        };
        if let Ok(map) = map2_fit(e1, e2, e3, gamma) {
            return finish(map, method);
        }
        let top = if high >= 1.0 {
            1.0 - DECAY_MARGIN
        } else {
            high
        };
        // Not f64::clamp: it panics when the bounds are NaN or crossed.
        let used = if gamma < low {
            low
        } else if gamma > top {
            top
        } else {
            gamma
        };
        if let Ok(map) = map2_fit(e1, e2, e3, used) {
            return finish(
                map,
                FitMethod::ClampedDecay {
                    requested: gamma,
                    used,
                },
            );
        }
        if let Ok(map) = map2_fit(e1, e2, e3, 0.0) {
            return finish(map, FitMethod::Renewal);
        }
    }
    // Exponential-looking moments with a nonzero decay rate end here.
    finish(Map::poisson(1.0 / e1)?, FitMethod::Renewal)
}

#[cfg(test)]
#[path = "fit_tests.rs"]
mod tests;
