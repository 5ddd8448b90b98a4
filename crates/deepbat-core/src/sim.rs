//! The exact simulator: the ground truth for every other part of deepbat.
//!
//! # The buffer rule
//! A request that finds the buffer empty opens a batch at its arrival time `t1`. The batch
//! is dispatched at `min(t_B, t1 + T)`, where `t_B` is the arrival of its B-th request. A
//! request arriving exactly at `t1 + T` still joins (if the batch is not full). The next
//! arrival after a dispatch opens a new batch and restarts the clock, so every request
//! waits at most `T`; with `T = 0` a batch holds only the requests that share the opener's
//! timestamp. Each batch is one invocation, and invocations never queue behind each other.
//!
//! A request's latency is its wait in the buffer plus `s(M, b)` for its batch of `b`. Its
//! percentiles are nearest-rank: the value at 1-based rank `ceil(p / 100 * n)` of the sorted
//! latencies.
//!
//! The batch structure depends only on (B, T), not on memory, so [`evaluate_grid`] forms it
//! once per (B, T) pair and prices it for every memory size.

use crate::grid::{Config, Grid};
use crate::pricing::Pricing;
use crate::profile::ServiceProfile;
use serde::{Deserialize, Serialize};

/// The latency percentiles every outcome reports, in percent.
pub const PERCENTILES: [f64; 4] = [50.0, 90.0, 95.0, 99.0];

/// What one configuration did on a list of arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Outcome {
    /// Requests served.
    pub requests: usize,
    /// Latency percentiles, seconds.
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    /// Total cost divided by the number of requests, USD.
    pub cost_per_request: f64,
    /// Requests per invocation.
    pub mean_batch: f64,
}

impl Outcome {
    /// The latency percentile `p` (one of [`PERCENTILES`]).
    ///
    /// # Panics
    /// For any other `p`: callers choose from the fixed list.
    pub fn percentile(&self, p: f64) -> f64 {
        match p {
            50.0 => self.p50,
            90.0 => self.p90,
            95.0 => self.p95,
            99.0 => self.p99,
            _ => panic!("percentile {p} is not one of {PERCENTILES:?}"),
        }
    }
}

/// One dispatched batch: requests `first..first + len`, sent at `dispatch`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    pub first: usize,
    pub len: usize,
    pub dispatch: f64,
}

/// Groups sorted `arrivals` into batches by the buffer rule, replacing `out`'s contents.
pub fn form_batches(arrivals: &[f64], batch_size: u32, timeout: f64, out: &mut Vec<Batch>) {
    out.clear();
    let capacity = batch_size.max(1) as usize;
    let mut first = 0;
    while first < arrivals.len() {
        let deadline = arrivals[first] + timeout;
        let mut end = first + 1;
        while end < arrivals.len() && end - first < capacity && arrivals[end] <= deadline {
            end += 1;
        }
        // A full batch leaves at its last arrival; any other at the deadline.
        let dispatch = if end - first == capacity {
            arrivals[end - 1]
        } else {
            deadline
        };
        out.push(Batch {
            first,
            len: end - first,
            dispatch,
        });
        first = end;
    }
}

/// Simulates one configuration over sorted `arrivals`.
///
/// An empty list gives an outcome with zero requests and zero figures.
pub fn simulate(
    arrivals: &[f64],
    config: Config,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
) -> Outcome {
    let mut batches = Vec::new();
    form_batches(arrivals, config.batch_size, config.timeout, &mut batches);
    let mut latencies = Vec::with_capacity(arrivals.len());
    let largest = batches.iter().map(|b| b.len).max().unwrap_or(0);
    let mut prices = vec![0.0; largest + 1];
    for batch in &batches {
        let service = profile.service_time(config.memory_mb, batch.len as u32);
        prices[batch.len] = pricing.invocation_cost(config.memory_mb, service);
        for &arrival in &arrivals[batch.first..batch.first + batch.len] {
            latencies.push(batch.dispatch - arrival + service);
        }
    }
    let total_cost = total_cost(&size_counts(&batches, largest), &prices);
    summarise(&mut latencies, total_cost, batches.len())
}

/// How many batches of each size (index = size) there are, up to `largest`.
pub fn size_counts(batches: &[Batch], largest: usize) -> Vec<u32> {
    let mut counts = vec![0; largest + 1];
    for b in batches {
        counts[b.len] += 1;
    }
    counts
}

/// Total cost of batches counted by size, given the invocation price of each size.
///
/// Every evaluation path sums in this one order (by size), so that the plain simulation,
/// the grid evaluation and the oracle give bit-identical costs.
pub fn total_cost(counts: &[u32], prices: &[f64]) -> f64 {
    counts
        .iter()
        .zip(prices)
        .filter(|(c, _)| **c > 0)
        .map(|(&c, &p)| f64::from(c) * p)
        .sum()
}

/// Builds an outcome from per-request latencies (reordered in place) and the total cost.
pub fn summarise(latencies: &mut [f64], total_cost: f64, invocations: usize) -> Outcome {
    let n = latencies.len();
    if n == 0 {
        return Outcome::default();
    }
    let [p50, p90, p95, p99] = percentiles_in_place(latencies, PERCENTILES);
    Outcome {
        requests: n,
        p50,
        p90,
        p95,
        p99,
        cost_per_request: total_cost / n as f64,
        mean_batch: n as f64 / invocations as f64,
    }
}

/// The 0-based index of the nearest-rank `p`-th percentile among `n` values.
pub fn nearest_rank_index(p: f64, n: usize) -> usize {
    let rank = (p / 100.0 * n as f64).ceil() as usize;
    rank.clamp(1, n) - 1
}

/// Nearest-rank percentiles of `values` for ascending `ps`, by selection (the slice is
/// reordered, not fully sorted).
pub fn percentiles_in_place<const K: usize>(values: &mut [f64], ps: [f64; K]) -> [f64; K] {
    let n = values.len();
    let mut result = [0.0; K];
    let mut lower = 0;
    for (slot, p) in result.iter_mut().zip(ps) {
        let index = nearest_rank_index(p, n);
        // Values before `lower` are already known to be no larger than the previous pick.
        let (_, value, _) = values[lower..].select_nth_unstable_by(index - lower, f64::total_cmp);
        *slot = *value;
        lower = index;
    }
    result
}

/// Simulates every configuration of `grid` over `arrivals`; the result is in grid index
/// order.
pub fn evaluate_grid(
    arrivals: &[f64],
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
) -> Vec<Outcome> {
    let mut outcomes = vec![Outcome::default(); grid.len()];
    let largest = grid.batch_sizes.iter().copied().max().unwrap_or(1) as usize;

    // Service time and invocation cost per (memory, size), so the inner loops only add.
    let table: Vec<Vec<(f64, f64)>> = grid
        .memory_mb
        .iter()
        .map(|&m| {
            (0..=largest)
                .map(|b| {
                    let s = if b == 0 {
                        0.0
                    } else {
                        profile.service_time(m, b as u32)
                    };
                    (s, pricing.invocation_cost(m, s))
                })
                .collect()
        })
        .collect();

    let mut batches = Vec::with_capacity(arrivals.len());
    let mut waits = vec![0.0; arrivals.len()];
    let mut sizes = vec![0usize; arrivals.len()];
    let mut latencies = vec![0.0; arrivals.len()];
    for (bi, &batch_size) in grid.batch_sizes.iter().enumerate() {
        for (ti, &timeout) in grid.timeouts.iter().enumerate() {
            form_batches(arrivals, batch_size, timeout, &mut batches);
            for batch in &batches {
                for r in batch.first..batch.first + batch.len {
                    waits[r] = batch.dispatch - arrivals[r];
                    sizes[r] = batch.len;
                }
            }
            let counts = size_counts(&batches, largest);
            for (mi, costs) in table.iter().enumerate() {
                let prices: Vec<f64> = costs.iter().map(|c| c.1).collect();
                let total_cost = total_cost(&counts, &prices);
                for r in 0..arrivals.len() {
                    latencies[r] = waits[r] + costs[sizes[r]].0;
                }
                outcomes[grid.index(mi, bi, ti)] =
                    summarise(&mut latencies, total_cost, batches.len());
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Parametric;
    use crate::test_support::Linear;

    fn batches(arrivals: &[f64], b: u32, t: f64) -> Vec<(usize, usize, f64)> {
        let mut out = Vec::new();
        form_batches(arrivals, b, t, &mut out);
        out.iter().map(|x| (x.first, x.len, x.dispatch)).collect()
    }

    #[test]
    fn full_batch_leaves_at_its_last_arrival() {
        // B = 2, T = 1: {0, 0.1} full at 0.1; {0.5, 0.6} full at 0.6; {2.0} times out at 3.0.
        let got = batches(&[0.0, 0.1, 0.5, 0.6, 2.0], 2, 1.0);
        assert_eq!(got, vec![(0, 2, 0.1), (2, 2, 0.6), (4, 1, 3.0)]);
    }

    #[test]
    fn timeout_runs_from_the_first_request_of_the_batch() {
        // Guards the bug where the clock restarts at each request or at the last dispatch:
        // with T = 0.25 the arrivals every 0.1 s form {0, .1, .2} and {.3, .4, .5}.
        let arrivals = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5];
        let got = batches(&arrivals, 10, 0.25);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[0].1), (0, 3));
        assert!((got[0].2 - 0.25).abs() < 1e-12);
        assert_eq!((got[1].0, got[1].1), (3, 3));
        assert!((got[1].2 - 0.55).abs() < 1e-12);
    }

    #[test]
    fn arrival_exactly_at_the_deadline_joins() {
        let got = batches(&[1.0, 1.5, 2.0], 5, 0.5);
        assert_eq!(got, vec![(0, 2, 1.5), (2, 1, 2.5)]);
    }

    #[test]
    fn zero_timeout_groups_only_equal_timestamps() {
        let got = batches(&[1.0, 1.0, 1.0, 2.0, 3.0, 3.0], 2, 0.0);
        assert_eq!(
            got,
            vec![(0, 2, 1.0), (2, 1, 1.0), (3, 1, 2.0), (4, 2, 3.0)]
        );
    }

    #[test]
    fn one_request() {
        let profile = Linear {
            base: 0.01,
            per: 0.002,
        };
        let config = Config {
            memory_mb: 1024,
            batch_size: 4,
            timeout: 0.05,
        };
        let out = simulate(&[7.0], config, &profile, &Pricing::x86());
        // Waits the whole timeout, then 12 ms of service.
        assert!((out.p50 - 0.062).abs() < 1e-12 && (out.p99 - 0.062).abs() < 1e-12);
        assert_eq!(out.requests, 1);
        assert_eq!(out.mean_batch, 1.0);
        // Billed 12 ms at 1 GB: 0.0000166667 * 0.012 + 2e-7.
        assert!((out.cost_per_request - (0.000_016_666_7 * 0.012 + 2e-7)).abs() < 1e-18);
    }

    #[test]
    fn hand_computed_window() {
        // B = 3, T = 0.1, s = 0.01 + 0.01 b.
        // Arrivals 0, 0.02, 0.05 fill a batch at 0.05 (s = 0.04): latencies .09, .07, .04.
        // Arrival 0.3 is alone, dispatched at 0.4 (s = 0.02): latency 0.12.
        // Arrivals 1.0, 1.1 time out at 1.1 (1.1 joins at the deadline, s = .03): .13, .03.
        let arrivals = [0.0, 0.02, 0.05, 0.3, 1.0, 1.1];
        let profile = Linear {
            base: 0.01,
            per: 0.01,
        };
        let config = Config {
            memory_mb: 2048,
            batch_size: 3,
            timeout: 0.1,
        };
        let out = simulate(&arrivals, config, &profile, &Pricing::x86());
        // Sorted: .03 .04 .07 .09 .12 .13; p50 rank 3, p90 rank 6 (ceil 5.4).
        assert!((out.p50 - 0.07).abs() < 1e-12, "{out:?}");
        assert!((out.p90 - 0.13).abs() < 1e-12);
        assert!((out.p99 - 0.13).abs() < 1e-12);
        assert!((out.mean_batch - 2.0).abs() < 1e-12);
        let gb_s = 0.000_016_666_7 * 2.0;
        let expected = (gb_s * (0.04 + 0.02 + 0.03) + 3.0 * 2e-7) / 6.0;
        assert!((out.cost_per_request - expected).abs() < 1e-18);
    }

    #[test]
    fn a_gap_longer_than_the_timeout_keeps_later_arrivals_at_their_times() {
        // The BATCH replay bug: after a timeout the next arrival must open at its own time.
        let got = batches(&[0.0, 5.0, 5.01], 8, 0.02);
        assert_eq!(got[1].0, 1);
        assert!((got[1].2 - 5.02).abs() < 1e-12);
    }

    #[test]
    fn after_an_idle_gap_the_timer_starts_at_the_first_new_request() {
        // The Ray Serve bug (timer counted from the previous dispatch): after the idle gap
        // 0 -> 10 s, the request at 10 must still wait for its companions at 10.001 and
        // 10.002 (T = 5 ms), not leave alone.
        let got = batches(&[0.0, 10.0, 10.001, 10.002], 8, 0.005);
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].0, got[1].1), (1, 3));
        assert!((got[1].2 - 10.005).abs() < 1e-12);
    }

    #[test]
    fn a_continuous_stream_still_waits_at_most_the_timeout() {
        // The Logstash bug (delay applied per item): one arrival every 4 ms with T = 5 ms
        // and B = 125 must give batches of two that leave 5 ms after their opener, never
        // one batch that grows while items keep coming.
        let arrivals: Vec<f64> = (0..250).map(|i| f64::from(i) * 0.004).collect();
        let got = batches(&arrivals, 125, 0.005);
        assert_eq!(got.len(), 125);
        for (first, len, dispatch) in got {
            assert_eq!(len, 2);
            assert!((dispatch - arrivals[first] - 0.005).abs() < 1e-12);
            for &arrival in &arrivals[first..first + len] {
                assert!(dispatch <= arrival + 0.005);
            }
        }
    }

    #[test]
    fn nearest_rank_by_hand() {
        let mut values = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        // n = 5: p50 -> rank 3, p90 -> rank 5, p95 -> 5, p99 -> 5.
        assert_eq!(
            percentiles_in_place(&mut values, PERCENTILES),
            [3.0, 5.0, 5.0, 5.0]
        );
        let mut twenty: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        // n = 20: ranks 10, 18, 19, 20.
        assert_eq!(
            percentiles_in_place(&mut twenty, PERCENTILES),
            [10.0, 18.0, 19.0, 20.0]
        );
    }

    #[test]
    fn grid_evaluation_matches_single_simulations() {
        let arrivals: Vec<f64> = (0..300)
            .map(|i| f64::from(i) * 0.013 + f64::from(i % 7) * 0.004)
            .collect();
        let mut sorted = arrivals.clone();
        sorted.sort_by(f64::total_cmp);
        let grid = Grid {
            memory_mb: vec![128, 1769, 4096],
            batch_sizes: vec![1, 3, 8],
            timeouts: vec![0.0, 0.005, 0.05],
        };
        let profile = Parametric::DEFAULT;
        let pricing = Pricing::x86();
        let all = evaluate_grid(&sorted, &grid, &profile, &pricing);
        for (i, config) in grid.configs().enumerate() {
            assert_eq!(
                all[i],
                simulate(&sorted, config, &profile, &pricing),
                "{config}"
            );
        }
    }
}
