//! Choosing a configuration from predicted (or simulated) outcomes.
//!
//! A candidate is feasible when its latency percentile times `1 + gamma` is at most the SLO;
//! `gamma` is a safety factor for predictions that may be optimistic. Among feasible
//! candidates the cheapest wins; ties go to the lower latency, then to less memory. When no
//! candidate is feasible the lowest-latency one is returned, marked infeasible, so that a
//! running system still has a configuration to use.

use crate::grid::{Config, Grid};
use crate::sim::Outcome;
use serde::Serialize;

/// What a decision asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Objective {
    /// Latency SLO, seconds.
    pub slo: f64,
    /// The percentile the SLO applies to (one of [`crate::PERCENTILES`]).
    pub percentile: f64,
    /// Safety factor: feasible when `latency * (1 + gamma) <= slo`.
    pub gamma: f64,
}

impl Objective {
    /// The p95 SLO without a safety margin.
    pub fn p95(slo: f64) -> Self {
        Self {
            slo,
            percentile: 95.0,
            gamma: 0.0,
        }
    }

    /// Whether a latency meets the SLO after the safety factor.
    pub fn meets(&self, latency: f64) -> bool {
        latency * (1.0 + self.gamma) <= self.slo
    }
}

/// The chosen configuration and what was predicted for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Choice {
    pub index: usize,
    pub config: Config,
    /// The outcome the choice was made from (predicted or simulated).
    pub expected: Outcome,
    /// Whether any candidate met the SLO.
    pub feasible: bool,
}

/// Exhaustive search over `outcomes`, one per grid configuration in index order.
///
/// # Panics
/// If `outcomes` does not have one entry per configuration of `grid`.
pub fn choose(grid: &Grid, outcomes: &[Outcome], objective: &Objective) -> Choice {
    assert_eq!(outcomes.len(), grid.len(), "one outcome per configuration");
    let latency = |o: &Outcome| o.percentile(objective.percentile);

    // Key order: cost, then latency, then memory; lexicographic on exact values.
    let better = |a: usize, b: usize, by_cost: bool| {
        let (oa, ob) = (&outcomes[a], &outcomes[b]);
        let (ca, cb) = (grid.config(a), grid.config(b));
        let primary = if by_cost {
            oa.cost_per_request.total_cmp(&ob.cost_per_request)
        } else {
            std::cmp::Ordering::Equal
        };
        primary
            .then(latency(oa).total_cmp(&latency(ob)))
            .then(ca.memory_mb.cmp(&cb.memory_mb))
            .is_lt()
    };

    let mut best_feasible: Option<usize> = None;
    let mut fastest = 0;
    for (i, outcome) in outcomes.iter().enumerate() {
        if better(i, fastest, false) {
            fastest = i;
        }
        if objective.meets(latency(outcome)) && best_feasible.is_none_or(|b| better(i, b, true)) {
            best_feasible = Some(i);
        }
    }
    let (index, feasible) = match best_feasible {
        Some(i) => (i, true),
        None => (fastest, false),
    };
    Choice {
        index,
        config: grid.config(index),
        expected: outcomes[index],
        feasible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(p95: f64, cost: f64) -> Outcome {
        Outcome {
            requests: 1,
            p50: p95,
            p90: p95,
            p95,
            p99: p95,
            cost_per_request: cost,
            mean_batch: 1.0,
        }
    }

    fn grid() -> Grid {
        Grid {
            memory_mb: vec![128, 256],
            batch_sizes: vec![1, 2],
            timeouts: vec![0.0],
        }
    }

    #[test]
    fn cheapest_feasible_wins() {
        // Index order: (128,1), (128,2), (256,1), (256,2).
        let outs = [
            outcome(0.2, 1.0),
            outcome(0.09, 3.0),
            outcome(0.05, 2.0),
            outcome(0.1, 2.5),
        ];
        let choice = choose(&grid(), &outs, &Objective::p95(0.1));
        assert_eq!(choice.index, 2);
        assert!(choice.feasible);
    }

    #[test]
    fn ties_go_to_lower_latency_then_less_memory() {
        let outs = [
            outcome(0.08, 1.0),
            outcome(0.05, 1.0),
            outcome(0.05, 1.0),
            outcome(0.2, 0.1),
        ];
        let choice = choose(&grid(), &outs, &Objective::p95(0.1));
        assert_eq!(choice.index, 1);
    }

    #[test]
    fn gamma_tightens_the_slo() {
        let outs = [
            outcome(0.095, 1.0),
            outcome(0.5, 1.0),
            outcome(0.08, 2.0),
            outcome(0.5, 1.0),
        ];
        let loose = choose(&grid(), &outs, &Objective::p95(0.1));
        assert_eq!(loose.index, 0);
        let strict = choose(
            &grid(),
            &outs,
            &Objective {
                gamma: 0.1,
                ..Objective::p95(0.1)
            },
        );
        assert_eq!(strict.index, 2);
    }

    #[test]
    fn nothing_feasible_returns_the_fastest_marked() {
        let outs = [
            outcome(0.3, 1.0),
            outcome(0.2, 3.0),
            outcome(0.25, 2.0),
            outcome(0.2, 2.5),
        ];
        let choice = choose(&grid(), &outs, &Objective::p95(0.1));
        assert!(!choice.feasible);
        // Equal latency 0.2 at 128 MB (index 1) and 256 MB (index 3): less memory wins.
        assert_eq!(choice.index, 1);
    }
}
