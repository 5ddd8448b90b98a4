//! The simulated optimum for one window, found without simulating every configuration fully.
//!
//! The cost of a configuration needs only its batch sizes, which depend on (B, T) alone, so
//! the costs of the whole grid come cheaply from one batch structure per (B, T) pair. The
//! search then visits configurations from the cheapest up and computes a latency percentile
//! only until the first one that meets the SLO (and any others of exactly the same cost, for
//! the tie rules of [`crate::optimizer`]). The answer is the same as choosing from
//! [`crate::sim::evaluate_grid`], which a test checks.
//!
//! With platform options on ([`crate::platform`]) batches interact through instances, so
//! [`best_on`] falls back to simulating every configuration. [`frontier`] lists the
//! cost-latency trade-offs of a window: the configurations no other beats on both.

use crate::grid::Grid;
use crate::optimizer::{self, Choice, Objective};
use crate::platform::{self, Platform};
use crate::pricing::Pricing;
use crate::profile::ServiceProfile;
use crate::sim::{self, Batch, Outcome, PERCENTILES};

/// The best configuration of `grid` for `arrivals` by exact simulation.
///
/// # Panics
/// If `arrivals` is empty.
pub fn best(
    arrivals: &[f64],
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    objective: &Objective,
) -> Choice {
    assert!(
        !arrivals.is_empty(),
        "the oracle needs at least one arrival"
    );
    let n = arrivals.len() as f64;
    let largest = grid.batch_sizes.iter().copied().max().unwrap_or(1) as usize;
    let service: Vec<Vec<f64>> = grid
        .memory_mb
        .iter()
        .map(|&m| {
            (0..=largest)
                .map(|b| {
                    if b == 0 {
                        0.0
                    } else {
                        profile.service_time(m, b as u32)
                    }
                })
                .collect()
        })
        .collect();
    let invocation: Vec<Vec<f64>> = grid
        .memory_mb
        .iter()
        .zip(&service)
        .map(|(&m, s)| s.iter().map(|&s| pricing.invocation_cost(m, s)).collect())
        .collect();

    // One batch structure per (B, T), kept flat, and the cost of every configuration.
    let pairs = grid.batch_sizes.len() * grid.timeouts.len();
    let mut structures: Vec<Vec<Batch>> = Vec::with_capacity(pairs);
    let mut costs = vec![0.0; grid.len()];
    let mut counts_per_pair: Vec<Vec<u32>> = Vec::with_capacity(pairs);
    for (bi, &batch_size) in grid.batch_sizes.iter().enumerate() {
        for (ti, &timeout) in grid.timeouts.iter().enumerate() {
            let mut batches = Vec::new();
            sim::form_batches(arrivals, batch_size, timeout, &mut batches);
            let counts = sim::size_counts(&batches, largest);
            for (mi, prices) in invocation.iter().enumerate() {
                costs[grid.index(mi, bi, ti)] = sim::total_cost(&counts, prices) / n;
            }
            structures.push(batches);
            counts_per_pair.push(counts);
        }
    }

    // Visit from the cheapest up; stop after the cost level of the first feasible one.
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
    let outcome_of = |index: usize, latencies: &mut [f64]| {
        percentiles(
            arrivals,
            grid,
            index,
            &structures,
            &service,
            latencies,
            costs[index],
        )
    };
    let mut latencies = vec![0.0; arrivals.len()];
    let mut outcomes = vec![None; grid.len()];
    let mut stop_cost = f64::INFINITY;
    for &index in &order {
        if costs[index] > stop_cost {
            break;
        }
        // Waits are never negative, so the percentile of service times alone bounds the
        // latency percentile from below: when it already misses the SLO, skip the simulation.
        let pair = index % pairs;
        let memory = index / pairs;
        let floor = service_percentile(
            &counts_per_pair[pair],
            &service[memory],
            objective.percentile,
        );
        if !objective.meets(floor) {
            continue;
        }
        let outcome = outcome_of(index, &mut latencies);
        if objective.meets(outcome.percentile(objective.percentile)) && stop_cost.is_infinite() {
            stop_cost = costs[index];
        }
        outcomes[index] = Some(outcome);
    }

    // Nothing feasible: the answer is the fastest configuration, which needs them all.
    if stop_cost.is_infinite() {
        for (index, slot) in outcomes.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = Some(outcome_of(index, &mut latencies));
            }
        }
    }

    // Candidates the search did not visit are infeasible or costlier than the choice; give
    // them infinite figures so that `choose` applies its tie rules among the visited ones.
    let filled: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or(Outcome {
                cost_per_request: f64::INFINITY,
                p50: f64::INFINITY,
                p90: f64::INFINITY,
                p95: f64::INFINITY,
                p99: f64::INFINITY,
                ..Outcome::default()
            })
        })
        .collect();
    optimizer::choose(grid, &filled, objective)
}

/// [`best`] on `platform`: the same answer by full evaluation when any platform option is on.
///
/// # Panics
/// If `arrivals` is empty.
pub fn best_on(
    arrivals: &[f64],
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    platform: &Platform,
    objective: &Objective,
) -> Choice {
    if platform.is_default() {
        return best(arrivals, grid, profile, pricing, objective);
    }
    assert!(
        !arrivals.is_empty(),
        "the oracle needs at least one arrival"
    );
    let outcomes = platform::evaluate_grid_on(arrivals, grid, profile, pricing, platform);
    optimizer::choose(grid, &outcomes, objective)
}

/// The cost-latency Pareto frontier of `outcomes` (one per configuration of `grid`) for the
/// latency percentile `percentile`: indices by rising cost, each strictly faster than every
/// cheaper one. Among equal (cost, latency) points the one with less memory, then the lower
/// index, stands for them.
pub fn frontier(grid: &Grid, outcomes: &[Outcome], percentile: f64) -> Vec<usize> {
    assert_eq!(outcomes.len(), grid.len(), "one outcome per configuration");
    let latency = |i: usize| outcomes[i].percentile(percentile);
    let mut order: Vec<usize> = (0..outcomes.len()).collect();
    order.sort_by(|&a, &b| {
        outcomes[a]
            .cost_per_request
            .total_cmp(&outcomes[b].cost_per_request)
            .then(latency(a).total_cmp(&latency(b)))
            .then(grid.config(a).memory_mb.cmp(&grid.config(b).memory_mb))
            .then(a.cmp(&b))
    });
    let mut fastest = f64::INFINITY;
    let mut points = Vec::new();
    for index in order {
        if latency(index) < fastest {
            fastest = latency(index);
            points.push(index);
        }
    }
    points
}

/// The nearest-rank `p`-th percentile of per-request service times, from batch counts by size.
fn service_percentile(counts: &[u32], service: &[f64], p: f64) -> f64 {
    let mut levels: Vec<(f64, usize)> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(size, &c)| (service[size], size * c as usize))
        .collect();
    levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let requests: usize = levels.iter().map(|l| l.1).sum();
    let rank = sim::nearest_rank_index(p, requests) + 1;
    let mut seen = 0;
    for (value, count) in levels {
        seen += count;
        if seen >= rank {
            return value;
        }
    }
    f64::INFINITY
}

/// The full outcome of configuration `index` from its precomputed batch structure.
fn percentiles(
    arrivals: &[f64],
    grid: &Grid,
    index: usize,
    structures: &[Vec<Batch>],
    service: &[Vec<f64>],
    latencies: &mut [f64],
    cost_per_request: f64,
) -> Outcome {
    let timeouts = grid.timeouts.len();
    let pair = index % (grid.batch_sizes.len() * timeouts);
    let memory = index / (grid.batch_sizes.len() * timeouts);
    let batches = &structures[pair];
    for b in batches {
        let s = service[memory][b.len];
        for r in b.first..b.first + b.len {
            latencies[r] = b.dispatch - arrivals[r] + s;
        }
    }
    let [p50, p90, p95, p99] = sim::percentiles_in_place(latencies, PERCENTILES);
    Outcome {
        requests: arrivals.len(),
        p50,
        p90,
        p95,
        p99,
        cost_per_request,
        mean_batch: arrivals.len() as f64 / batches.len() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileSpec;
    use crate::synth;

    #[test]
    fn known_answer_on_a_regular_stream() {
        // One arrival every 1/128 s (exact in binary), default profile, p95 SLO 100 ms.
        // 128 MB: s(128, 1) = 0.175 s, over the SLO whatever B and T.
        // 1769 MB with B = 4, T = 30 ms: four arrivals (0, 7.8, 15.6, 23.4 ms) fill a batch,
        // s(1769, 4) = 0.002 + 0.002 + 0.004 + 0.034 = 0.042 s, worst latency 65.4 ms, and
        // the invocation cost is shared by four: (gb_s * 1769/1024 * 0.042 + 2e-7) / 4, less
        // than one unbatched request (gb_s * 1769/1024 * 0.015 + 2e-7). T = 0 batches nothing.
        let arrivals: Vec<f64> = (0..256).map(|i| f64::from(i) / 128.0).collect();
        let grid = Grid {
            memory_mb: vec![128, 1769],
            batch_sizes: vec![1, 4],
            timeouts: vec![0.0, 0.03],
        };
        let choice = best(
            &arrivals,
            &grid,
            &ProfileSpec::default(),
            &Pricing::x86(),
            &Objective::p95(0.1),
        );
        assert!(choice.feasible);
        assert_eq!(
            (choice.config.memory_mb, choice.config.batch_size),
            (1769, 4)
        );
        assert_eq!(choice.config.timeout, 0.03);
        let gb_s = 0.000_016_666_7 * 1769.0 / 1024.0;
        let expected = (gb_s * 0.042 + 2e-7) / 4.0;
        assert!((choice.expected.cost_per_request - expected).abs() < 1e-15);
        assert!((choice.expected.p99 - (0.042 + 3.0 / 128.0)).abs() < 1e-12);
    }

    #[test]
    fn frontier_by_hand() {
        // Four configurations (1 memory x 2 batch sizes x 2 timeouts) with made-up figures:
        // (cost, p95) = (1, 9), (2, 5), (2, 7), (3, 6). (2, 7) is beaten by (2, 5) and
        // (3, 6) by (2, 5); the frontier is (1, 9), (2, 5).
        let grid = Grid {
            memory_mb: vec![1024],
            batch_sizes: vec![1, 2],
            timeouts: vec![0.0, 0.01],
        };
        let outcome = |cost, p95| Outcome {
            requests: 1,
            cost_per_request: cost,
            p95,
            ..Outcome::default()
        };
        let outcomes = [
            outcome(1.0, 9.0),
            outcome(2.0, 7.0),
            outcome(2.0, 5.0),
            outcome(3.0, 6.0),
        ];
        assert_eq!(frontier(&grid, &outcomes, 95.0), vec![0, 2]);
    }

    #[test]
    fn the_platform_oracle_agrees_with_plain_choice_and_differs_when_it_should() {
        let trace = synth::bursty_day(3, 1, 2);
        let window = &trace.arrivals[..256];
        let grid = Grid {
            memory_mb: vec![512, 1769, 4096],
            batch_sizes: vec![1, 4, 16],
            timeouts: vec![0.0, 0.01, 0.05],
        };
        let (profile, pricing) = (ProfileSpec::default(), Pricing::x86());
        let objective = Objective::p95(0.1);
        assert_eq!(
            best_on(
                window,
                &grid,
                &profile,
                &pricing,
                &Platform::default(),
                &objective
            ),
            best(window, &grid, &profile, &pricing, &objective)
        );
        // A 40 ms overhead leaves 60 ms for wait and service: the choice can only get
        // costlier, and its simulated p95 includes the overhead.
        let slow = Platform {
            invoke_overhead_s: 0.04,
            ..Platform::default()
        };
        let plain = best(window, &grid, &profile, &pricing, &objective);
        let loaded = best_on(window, &grid, &profile, &pricing, &slow, &objective);
        assert!(loaded.expected.cost_per_request >= plain.expected.cost_per_request);
        assert!(loaded.expected.p95 <= 0.1 && loaded.expected.p95 >= 0.04 + 0.005);
    }

    #[test]
    fn agrees_with_choosing_from_the_full_evaluation() {
        let trace = synth::bursty_day(9, 1, 5);
        let grid = Grid {
            memory_mb: vec![128, 512, 1769, 3008, 10240],
            batch_sizes: vec![1, 2, 4, 8, 16, 32],
            timeouts: vec![0.0, 0.001, 0.01, 0.05, 0.1, 0.2],
        };
        let profile = ProfileSpec::default();
        let pricing = Pricing::x86();
        for (k, window) in trace.arrivals.chunks(256).take(12).enumerate() {
            for slo in [0.01, 0.05, 0.1, 0.3] {
                let objective = Objective::p95(slo);
                let full = sim::evaluate_grid(window, &grid, &profile, &pricing);
                let expected = optimizer::choose(&grid, &full, &objective);
                let got = best(window, &grid, &profile, &pricing, &objective);
                assert_eq!(got, expected, "window {k}, slo {slo}");
            }
        }
    }
}
