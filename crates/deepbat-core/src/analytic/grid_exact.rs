//! The exact model over a whole grid, with the wait computation shared.
//!
//! Waits depend on `(B, T)` only and memory enters through the service times `s_k(M)`, so
//! for each timeout the wait counts `E_k(y)` are tabulated on a fine grid of `y` in
//! `[0, T]` and every memory then costs a few table look-ups per bisection step. Two more
//! sharings make the tables cheap:
//! - `E_k(y) = alpha . v_k(y)` where `v_k` does not involve the opening phase `alpha`, so
//!   for timeout batches one table of phase vectors serves every batch-size limit;
//! - the counting matrices are evaluated once per node of a common step when every timeout
//!   is a multiple of it (the default grid's are), and reused by every timeout.
//!
//! Between nodes `E_k` is interpolated by cubics through four nodes (it is smooth inside
//! `[0, T]`; the atoms sit at the ends); the step keeps the error in latency percentiles
//! far below a microsecond for arrival rates in the hundreds per second (the tests compare
//! against the exact evaluation of [`super::exact`]).

use super::AnalyticError;
use super::counting::{Counting, Counts};
use super::exact::{batch_end_phases, batch_size_pmf, stationary_of};
use super::small::{Mat, dot};
use crate::grid::Grid;
use crate::map::Map;
use crate::pricing::Pricing;
use crate::profile::ServiceProfile;
use crate::sim::{Outcome, PERCENTILES};
use rayon::prelude::*;
use std::collections::HashMap;

/// Spacing of the wait tables, seconds.
pub const TABLE_STEP: f64 = 5e-4;
/// Fewest intervals a wait table of a positive timeout has.
const MIN_INTERVALS: usize = 16;
/// Latency percentiles are bisected to this width, seconds.
const BISECTION_WIDTH: f64 = 1e-9;

/// Constant times added to every invocation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Overhead {
    /// Added to every request's latency (e.g. the invoke round trip), seconds.
    pub latency: f64,
    /// Added to every invocation's billed duration, seconds.
    pub billed: f64,
}

/// Exact outcomes for every configuration of `grid`, in grid index order.
///
/// # Errors
/// [`AnalyticError::TooLarge`] when the longest timeout at the MAP's rates needs more
/// uniformization terms than the model allows.
pub fn evaluate(
    map: &Map,
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    overhead: Overhead,
) -> Result<Vec<Outcome>, AnalyticError> {
    let largest_batch = grid.batch_sizes.iter().copied().max().unwrap_or(1) as usize;
    let depth = largest_batch.saturating_sub(1).max(1);

    // Timeouts too long for the model at this MAP's rates are left out (their outcomes are
    // infinite, so never chosen); only when none is left is that an error.
    let usable: Vec<bool> = grid
        .timeouts
        .iter()
        .map(|&t| Counting::size(map, depth, t).is_ok())
        .collect();
    let longest = grid
        .timeouts
        .iter()
        .zip(&usable)
        .filter(|(_, ok)| **ok)
        .map(|(t, _)| *t)
        .fold(f64::NEG_INFINITY, f64::max);
    if longest == f64::NEG_INFINITY {
        let shortest = grid.timeouts.iter().copied().fold(f64::INFINITY, f64::min);
        Counting::size(map, depth, shortest)?;
    }
    let skipped: Vec<f64> = grid
        .timeouts
        .iter()
        .zip(&usable)
        .filter(|(_, ok)| !**ok)
        .map(|(t, _)| *t)
        .collect();
    if !skipped.is_empty() {
        tracing::warn!(
            ?skipped,
            "timeouts too long for the exact model at this MAP's rates are left out"
        );
    }
    let counting = Counting::new(map, depth, longest.max(0.0))?;
    let usable_timeouts: Vec<f64> = grid
        .timeouts
        .iter()
        .zip(&usable)
        .filter(|(_, ok)| **ok)
        .map(|(t, _)| *t)
        .collect();
    let d1 = Mat::from_dmatrix(map.d1());
    let embedded = Mat::from_dmatrix(&map.embedded());

    // s_k(M) for every memory, k = 1..=largest.
    let service: Vec<Vec<f64>> = grid
        .memory_mb
        .iter()
        .map(|&m| {
            (1..=largest_batch as u32)
                .map(|k| profile.service_time(m, k))
                .collect()
        })
        .collect();

    let shared = SharedNodes::new(&counting, &usable_timeouts);
    let context = Context {
        counting: &counting,
        shared: &shared,
        d1: &d1,
        embedded: &embedded,
        grid,
        service: &service,
        pricing,
        overhead,
    };
    let per_timeout: Vec<Vec<(usize, Outcome)>> = (0..grid.timeouts.len())
        .into_par_iter()
        .filter(|&t| usable[t])
        .map(|t| context.timeout_outcomes(t))
        .collect();

    let left_out = Outcome {
        requests: 0,
        p50: f64::INFINITY,
        p90: f64::INFINITY,
        p95: f64::INFINITY,
        p99: f64::INFINITY,
        cost_per_request: f64::INFINITY,
        mean_batch: f64::NAN,
    };
    let mut outcomes = vec![left_out; grid.len()];
    for (index, outcome) in per_timeout.into_iter().flatten() {
        outcomes[index] = outcome;
    }
    Ok(outcomes)
}

/// Counting matrices at multiples of [`TABLE_STEP`], for the timeouts that are multiples.
struct SharedNodes {
    counts: HashMap<usize, Counts>,
}

impl SharedNodes {
    fn new(counting: &Counting, timeouts: &[f64]) -> Self {
        let longest = timeouts
            .iter()
            .filter_map(|&t| node_count(t))
            .max()
            .unwrap_or(0);
        let counts = (0..=longest)
            .into_par_iter()
            .map(|j| (j, counting.at(j as f64 * TABLE_STEP)))
            .collect();
        Self { counts }
    }
}

/// Intervals of `t` when it is a multiple of the table step with at least the minimum count.
fn node_count(t: f64) -> Option<usize> {
    let steps = t / TABLE_STEP;
    let rounded = steps.round();
    (rounded >= MIN_INTERVALS as f64 && (steps - rounded).abs() < 1e-6).then_some(rounded as usize)
}

struct Context<'a> {
    counting: &'a Counting,
    shared: &'a SharedNodes,
    d1: &'a Mat,
    embedded: &'a Mat,
    grid: &'a Grid,
    service: &'a [Vec<f64>],
    pricing: &'a Pricing,
    overhead: Overhead,
}

/// The wait tables of one timeout: node `j` is `y = j T / n`; the last node holds the left
/// limit at `T`. Both tables hold phase vectors whose dot product with the opening phase
/// `alpha` is `E_k(y_j)`, so they serve every batch-size limit.
struct WaitNodes<'a> {
    timeout: f64,
    intervals: usize,
    phases: usize,
    depth: usize,
    /// Counting matrices at `T`.
    at_timeout: std::borrow::Cow<'a, Counts>,
    /// `v_k(y_j) = sum_{e=1}^{k-1} e C_{k-1-e}(T - y_j) C_e(y_j) 1`, timeout batches of
    /// size `k = 1..=depth`: flat `[j][k - 1][phase]`.
    open: Vec<f64>,
    /// `z_B(y_j) = B I_{B-2}(y_j) D1 1 + sum_{d <= B-2} (B-1-d) I_d(T - y_j) C_{B-2-d}(y_j) D1 1`,
    /// full batches of size `B = 2..=depth + 1`: flat `[j][B - 2][phase]`.
    full: Vec<f64>,
}

impl WaitNodes<'_> {
    fn vector(table: &[f64], j: usize, index: usize, depth: usize, phases: usize) -> &[f64] {
        let at = (j * depth + index) * phases;
        &table[at..at + phases]
    }
}

impl Context<'_> {
    fn timeout_outcomes(&self, t: usize) -> Vec<(usize, Outcome)> {
        let timeout = self.grid.timeouts[t];
        let nodes = self.wait_nodes(timeout);
        let mut out = Vec::new();
        for (b, &batch_size) in self.grid.batch_sizes.iter().enumerate() {
            let table = self.batch_table(&nodes, batch_size);
            for (m, &memory_mb) in self.grid.memory_mb.iter().enumerate() {
                let service = &self.service[m][..batch_size as usize];
                let outcome = table.outcome(memory_mb, service, self.pricing, self.overhead);
                out.push((self.grid.index(m, b, t), outcome));
            }
        }
        out
    }

    fn wait_nodes(&self, timeout: f64) -> WaitNodes<'_> {
        use std::borrow::Cow;
        let shared = node_count(timeout);
        let intervals = match shared {
            _ if timeout == 0.0 => 0,
            Some(n) => n,
            None => ((timeout / TABLE_STEP).ceil() as usize).max(MIN_INTERVALS),
        };
        let counts_at = |j: usize| -> Cow<'_, Counts> {
            match shared {
                Some(_) => Cow::Borrowed(&self.shared.counts[&j]),
                None => Cow::Owned(
                    self.counting
                        .at(timeout * j as f64 / intervals.max(1) as f64),
                ),
            }
        };
        let nodes: Vec<Cow<'_, Counts>> = (0..=intervals).map(counts_at).collect();
        let (phases, depth) = (self.counting.phases(), self.counting.depth());
        let rates = self.d1.row_sums();

        let mut open = vec![0.0; (intervals + 1) * depth * phases];
        let mut full = vec![0.0; (intervals + 1) * depth * phases];
        let mut ones = vec![0.0; depth * phases];
        let mut arrivals = vec![0.0; depth * phases];
        for j in 0..=intervals {
            let (after, before) = (&nodes[j], &nodes[intervals - j]);
            for e in 0..depth {
                let slot = e * phases..(e + 1) * phases;
                after.c(e).row_sums_into(&mut ones[slot.clone()]);
                after.c(e).mul_vec_into(&rates, &mut arrivals[slot]);
            }
            for k in 1..=depth {
                let at = (j * depth + k - 1) * phases;
                let v = &mut open[at..at + phases];
                for e in 1..k {
                    before.c(k - 1 - e).add_mul_vec(
                        &ones[e * phases..(e + 1) * phases],
                        e as f64,
                        v,
                    );
                }
            }
            for b in 2..=depth + 1 {
                let at = (j * depth + b - 2) * phases;
                let z = &mut full[at..at + phases];
                after.i(b - 2).add_mul_vec(&rates, b as f64, z);
                if j < intervals {
                    for d in 0..=b - 2 {
                        let g = &arrivals[(b - 2 - d) * phases..(b - 1 - d) * phases];
                        before.i(d).add_mul_vec(g, (b - 1 - d) as f64, z);
                    }
                }
            }
        }
        WaitNodes {
            timeout,
            intervals,
            phases,
            depth,
            at_timeout: nodes.into_iter().next_back().expect("at least one node"),
            open,
            full,
        }
    }

    fn batch_table(&self, nodes: &WaitNodes, batch_size: u32) -> BatchTable {
        let b = batch_size as usize;
        let intervals = nodes.intervals;
        if b == 1 || intervals == 0 {
            // Every batch is one request, or the timeout is zero: no waits at all.
            return BatchTable::no_wait(b);
        }
        let at_timeout = nodes.at_timeout.as_ref();
        let ends = batch_end_phases(at_timeout, self.d1, batch_size);
        let alpha = stationary_of(&Mat::mul(&ends, self.embedded));
        let rates = self.d1.row_sums();
        let pmf = batch_size_pmf(&alpha, at_timeout, &rates, batch_size);
        let mean_batch = super::mean_batch(&pmf);

        let (depth, phases) = (nodes.depth, nodes.phases);
        let mut counts = vec![vec![0.0; intervals + 1]; b];
        for j in 0..=intervals {
            // Sizes beyond the counting depth have probability below the truncation error.
            for (k, row) in counts.iter_mut().enumerate().take((b - 1).min(depth)) {
                row[j] = dot(&alpha, WaitNodes::vector(&nodes.open, j, k, depth, phases));
            }
            if b - 2 < depth {
                counts[b - 1][j] = dot(
                    &alpha,
                    WaitNodes::vector(&nodes.full, j, b - 2, depth, phases),
                );
            }
        }
        BatchTable {
            timeout: nodes.timeout,
            pmf,
            mean_batch,
            counts,
        }
    }
}

/// `E_k` at the nodes for one `(B, T)`.
struct BatchTable {
    timeout: f64,
    pmf: Vec<f64>,
    mean_batch: f64,
    /// `counts[k - 1][j]`; empty rows when there is no waiting.
    counts: Vec<Vec<f64>>,
}

impl BatchTable {
    fn no_wait(batch_size: usize) -> Self {
        let mut pmf = vec![0.0; batch_size];
        pmf[0] = 1.0;
        Self {
            timeout: 0.0,
            pmf,
            mean_batch: 1.0,
            counts: Vec::new(),
        }
    }

    /// `E_k(y)` by linear interpolation; `k` counted from 0.
    fn wait_count(&self, k: usize, y: f64) -> f64 {
        if y < 0.0 {
            return 0.0;
        }
        if y >= self.timeout || self.counts.is_empty() {
            return (k + 1) as f64 * self.pmf[k];
        }
        // Cubic through the four nodes around y (one-sided at the ends).
        let row = &self.counts[k];
        let intervals = row.len() - 1;
        let position = y / self.timeout * intervals as f64;
        let base = (position as usize).saturating_sub(1).min(intervals - 3);
        let u = position - base as f64;
        let (u1, u2, u3) = (u - 1.0, u - 2.0, u - 3.0);
        let nodes = &row[base..base + 4];
        -nodes[0] * u1 * u2 * u3 / 6.0 + nodes[1] * u * u2 * u3 / 2.0 - nodes[2] * u * u1 * u3 / 2.0
            + nodes[3] * u * u1 * u2 / 6.0
    }

    fn cdf(&self, x: f64, service: &[f64], latency_overhead: f64) -> f64 {
        let total: f64 = service
            .iter()
            .enumerate()
            .map(|(k, s)| self.wait_count(k, x - latency_overhead - s))
            .sum();
        (total / self.mean_batch).min(1.0)
    }

    fn outcome(
        &self,
        memory_mb: u32,
        service: &[f64],
        pricing: &Pricing,
        overhead: Overhead,
    ) -> Outcome {
        let fastest = service.iter().copied().fold(f64::INFINITY, f64::min);
        let slowest = service.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let quantile = |p: f64| {
            let mut low = overhead.latency + fastest - BISECTION_WIDTH;
            let mut high = overhead.latency + slowest + self.timeout;
            while high - low > BISECTION_WIDTH {
                let mid = 0.5 * (low + high);
                if self.cdf(mid, service, overhead.latency) >= p {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            high
        };
        let [p50, p90, p95, p99] = PERCENTILES.map(|p| quantile(p / 100.0));
        let per_batch: f64 = self
            .pmf
            .iter()
            .zip(service)
            .map(|(p, s)| p * pricing.invocation_cost(memory_mb, s + overhead.billed))
            .sum();
        Outcome {
            requests: 0,
            p50,
            p90,
            p95,
            p99,
            cost_per_request: per_batch / self.mean_batch,
            mean_batch: self.mean_batch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::BatchModel;
    use crate::analytic::test_fixtures::mmpp;
    use crate::profile::{Parametric, ProfileSpec};

    #[test]
    fn timeouts_beyond_the_model_are_left_out() {
        // Poisson at 10^6/s: 10 ms is 10^4 events per window (fine), 200 ms is 2 x 10^5.
        let map = Map::poisson(1e6).unwrap();
        let grid = Grid {
            memory_mb: vec![1024],
            batch_sizes: vec![1, 4],
            timeouts: vec![0.0, 0.01, 0.2],
        };
        let profile = ProfileSpec::Parametric(Parametric::DEFAULT);
        let outcomes =
            evaluate(&map, &grid, &profile, &Pricing::x86(), Overhead::default()).unwrap();
        for (index, outcome) in outcomes.iter().enumerate() {
            let config = grid.config(index);
            assert_eq!(outcome.p95.is_finite(), config.timeout < 0.1, "{config}");
        }
        let only_long = Grid {
            timeouts: vec![0.2],
            ..grid
        };
        let refused = evaluate(
            &map,
            &only_long,
            &profile,
            &Pricing::x86(),
            Overhead::default(),
        );
        assert!(matches!(refused, Err(AnalyticError::TooLarge(_))));
    }

    /// The shared tables agree with the exact per-configuration model: same batch sizes
    /// and cost, percentiles within interpolation error.
    #[test]
    fn tables_agree_with_the_exact_model() {
        let map = mmpp();
        let grid = Grid {
            memory_mb: vec![512, 2048],
            batch_sizes: vec![1, 2, 5, 9],
            // 12.3 ms is not a multiple of the table step: a table of its own.
            timeouts: vec![0.0, 0.0123, 0.05, 0.08],
        };
        let profile = ProfileSpec::Parametric(Parametric::DEFAULT);
        let pricing = Pricing::x86();
        let overhead = Overhead {
            latency: 0.003,
            billed: 0.001,
        };
        let outcomes = evaluate(&map, &grid, &profile, &pricing, overhead).unwrap();
        let mut worst: f64 = 0.0;
        for (index, outcome) in outcomes.iter().enumerate() {
            let config = grid.config(index);
            let model = BatchModel::new(&map, config.batch_size, config.timeout).unwrap();
            let service: Vec<f64> = (1..=config.batch_size)
                .map(|k| profile.service_time(config.memory_mb, k))
                .collect();
            let cost =
                model.cost_per_request(config.memory_mb, &service, overhead.billed, &pricing);
            assert!(
                (outcome.cost_per_request - cost).abs() < 1e-12 * cost,
                "{config}"
            );
            assert!(
                (outcome.mean_batch - model.mean_batch()).abs() < 1e-12,
                "{config}"
            );
            for p in PERCENTILES {
                let exact = model.latency_quantile(p / 100.0, &service, overhead.latency);
                let tabled = outcome.percentile(p);
                worst = worst.max((exact - tabled).abs());
                assert!(
                    (exact - tabled).abs() < 1e-7,
                    "{config} p{p}: {tabled} vs {exact}"
                );
            }
        }
        eprintln!("largest percentile difference {worst:e} s");
    }
}
