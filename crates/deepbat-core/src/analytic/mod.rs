//! Analytical models of the buffer and the function under a Markovian arrival process.
//!
//! Two models answer "what latency percentiles and cost per request does a configuration
//! give under this MAP":
//! - [`exact`] (`analytic-exact`): the exact batch-size and per-request wait distributions,
//!   from counting matrices computed by uniformization ([`counting`]); over a grid,
//!   [`grid_exact`] shares the wait computation across memory sizes and batch limits;
//! - [`batch_approx`] (`batch-approx`): BATCH's own computation, kept with its
//!   approximations so that comparisons are with the published baseline.
//!
//! Both take service times per batch size at one memory (`service[k - 1] = s_k(M)`) and
//! are deterministic: no sampling anywhere.

pub mod batch_approx;
pub mod counting;
pub mod exact;
pub mod grid_exact;
pub mod policy;
mod small;

#[cfg(test)]
pub(crate) mod test_fixtures {
    use crate::map::Map;
    use nalgebra::DMatrix;

    /// The MMPP(2) of section 2.5 of the BATCH brief: D0 = [[-200.5, 0.5], [2, -12]],
    /// D1 = diag(200, 10); 162 arrivals/s, asymptotic IDC 29.52.
    pub fn mmpp() -> Map {
        Map::new(
            DMatrix::from_row_slice(2, 2, &[-200.5, 0.5, 2.0, -12.0]),
            DMatrix::from_row_slice(2, 2, &[200.0, 0.0, 0.0, 10.0]),
        )
        .expect("the brief's MMPP is a valid MAP")
    }
}

pub use batch_approx::ApproxModel;
pub use exact::BatchModel;
pub use grid_exact::Overhead;
pub use policy::HourlyAnalytic;

use crate::grid::Grid;
use crate::map::Map;
use crate::optimizer::{self, Choice, Objective};
use crate::pricing::Pricing;
use crate::profile::ServiceProfile;
use crate::sim::{Outcome, PERCENTILES};
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

/// Why an analytical model could not be solved.
#[derive(Debug, Error)]
pub enum AnalyticError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("too large for the exact model: {0}")]
    TooLarge(String),
}

/// `E[n] = sum_k k p_k` for a batch-size pmf with `p_k` at index `k - 1`.
pub(crate) fn mean_batch(pmf: &[f64]) -> f64 {
    pmf.iter()
        .enumerate()
        .map(|(k, p)| (k + 1) as f64 * p)
        .sum()
}

/// Which model solves a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// BATCH's computation, as published.
    BatchApprox,
    /// The exact model.
    Exact,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Self::BatchApprox => "batch-approx",
            Self::Exact => "analytic-exact",
        }
    }
}

/// Outcomes of every configuration of `grid` under `map`, in grid index order.
///
/// `Outcome::requests` is 0: the figures are long-run values, not counts. The
/// batch-approx cost is BATCH's (at the percentile batch size of the objective's
/// percentile, unrounded); its latencies ignore the overhead, as BATCH's do.
///
/// # Errors
/// batch-approx on a MAP of more than two phases.
pub fn evaluate_grid(
    method: Method,
    map: &Map,
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    objective: &Objective,
    overhead: Overhead,
) -> Result<Vec<Outcome>, AnalyticError> {
    match method {
        Method::Exact => grid_exact::evaluate(map, grid, profile, pricing, overhead),
        Method::BatchApprox => approx_grid(map, grid, profile, pricing, objective),
    }
}

/// The cheapest configuration meeting `objective` under `map`, by `method`.
///
/// # Errors
/// As [`evaluate_grid`].
pub fn solve(
    method: Method,
    map: &Map,
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    objective: &Objective,
    overhead: Overhead,
) -> Result<Choice, AnalyticError> {
    let outcomes = evaluate_grid(method, map, grid, profile, pricing, objective, overhead)?;
    Ok(optimizer::choose(grid, &outcomes, objective))
}

fn approx_grid(
    map: &Map,
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    objective: &Objective,
) -> Result<Vec<Outcome>, AnalyticError> {
    let pairs: Vec<(usize, usize)> = (0..grid.batch_sizes.len())
        .flat_map(|b| (0..grid.timeouts.len()).map(move |t| (b, t)))
        .collect();
    let solved: Vec<Vec<(usize, Outcome)>> = pairs
        .par_iter()
        .map(|&(b, t)| {
            let batch_size = grid.batch_sizes[b];
            let model = ApproxModel::new(map, batch_size, grid.timeouts[t])?;
            Ok(grid
                .memory_mb
                .iter()
                .enumerate()
                .map(|(m, &memory_mb)| {
                    let service: Vec<f64> = (1..=batch_size)
                        .map(|k| profile.service_time(memory_mb, k))
                        .collect();
                    let [p50, p90, p95, p99] = PERCENTILES.map(|p| {
                        model.latency_quantile(p / 100.0, &service, batch_approx::BATCH_TOLERANCE)
                    });
                    let cost = model.cost_per_request(
                        memory_mb,
                        &service,
                        objective.percentile / 100.0,
                        pricing,
                    );
                    let outcome = Outcome {
                        requests: 0,
                        p50,
                        p90,
                        p95,
                        p99,
                        cost_per_request: cost,
                        mean_batch: model.mean_batch(),
                    };
                    (grid.index(m, b, t), outcome)
                })
                .collect())
        })
        .collect::<Result<_, AnalyticError>>()?;
    let mut outcomes = vec![Outcome::default(); grid.len()];
    for (index, outcome) in solved.into_iter().flatten() {
        outcomes[index] = outcome;
    }
    Ok(outcomes)
}
