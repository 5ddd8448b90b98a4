//! Invariants of the simulator and the oracle on random arrivals, grids and prices.

use deepbat_core::optimizer::{self, Objective};
use deepbat_core::platform::{ColdStart, Platform, simulate_on};
use deepbat_core::sim::{self, Batch};
use deepbat_core::{Config, Grid, Pricing, ProfileSpec, oracle};
use proptest::prelude::*;

/// Sorted arrival times: gaps of 0 (simultaneous requests) or up to 50 ms.
fn arrivals(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![1 => Just(0.0), 4 => 0.0..0.05f64], 1..max_len).prop_map(
        |gaps| {
            let mut t = 0.0;
            gaps.iter()
                .map(|g| {
                    t += g;
                    t
                })
                .collect()
        },
    )
}

fn timeouts() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(0.001), 0.0..0.2f64]
}

fn form(arrivals: &[f64], batch_size: u32, timeout: f64) -> Vec<Batch> {
    let mut out = Vec::new();
    sim::form_batches(arrivals, batch_size, timeout, &mut out);
    out
}

/// A grid with a few values on each axis, drawn from the default grid's ranges.
fn grids() -> impl Strategy<Value = Grid> {
    (
        prop::collection::btree_set(128u32..=10240, 1..5),
        prop::collection::btree_set(1u32..=32, 1..6),
        prop::collection::btree_set(0u32..=200, 1..6),
    )
        .prop_map(|(m, b, t)| Grid {
            memory_mb: m.into_iter().collect(),
            batch_sizes: b.into_iter().collect(),
            timeouts: t.into_iter().map(|ms| f64::from(ms) / 1e3).collect(),
        })
}

proptest! {
    #[test]
    fn every_request_is_served_exactly_once(
        a in arrivals(400), b in 1u32..40, t in timeouts()
    ) {
        let batches = form(&a, b, t);
        let mut next = 0;
        for batch in &batches {
            prop_assert_eq!(batch.first, next);
            prop_assert!(batch.len >= 1);
            next += batch.len;
        }
        prop_assert_eq!(next, a.len());
    }

    #[test]
    fn batches_obey_the_buffer_rule(a in arrivals(400), b in 1u32..40, t in timeouts()) {
        for batch in form(&a, b, t) {
            let members = &a[batch.first..batch.first + batch.len];
            prop_assert!(batch.len <= b as usize);
            // Never before its last member, never more than T after any member.
            for &arrival in members {
                prop_assert!(batch.dispatch >= arrival);
                prop_assert!(batch.dispatch <= arrival + t);
            }
            // Dispatched at min(t_B, t1 + T).
            let expected = if batch.len == b as usize {
                members[members.len() - 1]
            } else {
                members[0] + t
            };
            prop_assert_eq!(batch.dispatch, expected);
            // A batch that is not full closed because the next arrival came after t1 + T.
            let end = batch.first + batch.len;
            if batch.len < b as usize && end < a.len() {
                prop_assert!(a[end] > members[0] + t);
            }
        }
    }

    #[test]
    fn zero_timeout_with_distinct_times_never_batches(
        gaps in prop::collection::vec(1e-4..0.05f64, 1..300), b in 1u32..40
    ) {
        let mut t = 0.0;
        let a: Vec<f64> = gaps.iter().map(|g| { t += g; t }).collect();
        prop_assert!(form(&a, b, 0.0).iter().all(|batch| batch.len == 1));
    }

    #[test]
    fn cost_per_request_never_rises_when_the_price_falls(
        a in arrivals(300),
        memory in 128u32..=10240,
        b in 1u32..33,
        t in timeouts(),
        gb_s_cut in 0.0..1.0f64,
        request_cut in 0.0..1.0f64,
        cold in any::<bool>(),
    ) {
        let config = Config { memory_mb: memory, batch_size: b, timeout: t };
        let profile = ProfileSpec::default();
        let full = Pricing::x86();
        let cheaper = Pricing {
            price_gb_s: full.price_gb_s * gb_s_cut,
            price_request: full.price_request * request_cut,
            ..full
        };
        let platform = Platform {
            cold_start: cold.then_some(ColdStart { init_s: 0.3, keep_alive_s: 1.0 }),
            ..Platform::default()
        };
        let before = simulate_on(&a, config, &profile, &full, &platform);
        let after = simulate_on(&a, config, &profile, &cheaper, &platform);
        prop_assert!(after.cost_per_request <= before.cost_per_request);
    }

    #[test]
    fn a_concurrency_limit_never_lowers_latency(
        a in arrivals(300), b in 1u32..8, t in timeouts(), limit in 1u32..4
    ) {
        let config = Config { memory_mb: 256, batch_size: b, timeout: t };
        let profile = ProfileSpec::default();
        let pricing = Pricing::x86();
        let free = sim::simulate(&a, config, &profile, &pricing);
        let limited = Platform { concurrency: Some(limit), ..Platform::default() };
        let queued = simulate_on(&a, config, &profile, &pricing, &limited);
        for p in deepbat_core::PERCENTILES {
            prop_assert!(queued.percentile(p) >= free.percentile(p) - 1e-12);
        }
        // Waiting for an instance is not billed.
        prop_assert_eq!(queued.cost_per_request, free.cost_per_request);
        // A limit nobody reaches changes nothing (up to rounding of the sums).
        let roomy = Platform { concurrency: Some(100_000), ..Platform::default() };
        let same = simulate_on(&a, config, &profile, &pricing, &roomy);
        prop_assert_eq!(same.cost_per_request, free.cost_per_request);
        for p in deepbat_core::PERCENTILES {
            prop_assert!((same.percentile(p) - free.percentile(p)).abs() < 1e-12);
        }
    }

    #[test]
    fn grid_evaluation_is_per_configuration_simulation(a in arrivals(300), grid in grids()) {
        let profile = ProfileSpec::default();
        let pricing = Pricing::x86();
        let all = sim::evaluate_grid(&a, &grid, &profile, &pricing);
        for (i, config) in grid.configs().enumerate() {
            prop_assert_eq!(all[i], sim::simulate(&a, config, &profile, &pricing));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_fast_oracle_agrees_with_plain_simulation(
        a in arrivals(300),
        grid in grids(),
        slo in 0.005..0.4f64,
        percentile in prop::sample::select(vec![50.0, 90.0, 95.0, 99.0]),
        preset in prop::sample::select(vec!["default", "inception-v4"]),
    ) {
        let mut profile = ProfileSpec::preset(preset).unwrap();
        profile.set_extrapolate(true);
        // Seconds-scale profiles need seconds-scale SLOs to have feasible answers.
        let slo = if preset == "default" { slo } else { slo * 100.0 };
        let pricing = Pricing::x86();
        let objective = Objective { slo, percentile, gamma: 0.0 };
        let plain: Vec<_> = grid
            .configs()
            .map(|c| sim::simulate(&a, c, &profile, &pricing))
            .collect();
        let expected = optimizer::choose(&grid, &plain, &objective);
        let got = oracle::best(&a, &grid, &profile, &pricing, &objective);
        prop_assert_eq!(got, expected);
    }
}
