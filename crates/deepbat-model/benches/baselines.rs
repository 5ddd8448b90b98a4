//! One full-grid decision by each method, timed in one run, with ratios.
//!
//! - `batch-approx`: BATCH's computation (fit a MAP(2) to the previous hour, solve the grid);
//! - `analytic-exact`: the exact model on the same fitted MAP;
//! - `surrogate`: the shipped model scoring the last 256 gaps.
//!
//! All on one thread, over the default grid (28,224 configurations) and the default
//! profile, on an hour of the bursty MMPP(2) of the BATCH brief (162 arrivals/s). The
//! paper reports 40.83 s per BATCH decision and 0.73 s per surrogate decision. Run with
//! `cargo bench -p deepbat-model --bench baselines`.

use deepbat_core::analytic::{self, Method, Overhead};
use deepbat_core::map::{DEFAULT_MAX_LAG, IntervalStatistics, Map, Sampler, Start};
use deepbat_core::optimizer::{self, Objective};
use deepbat_core::{Grid, Pricing, ProfileSpec};
use deepbat_model::Bundle;
use nalgebra::DMatrix;
use rand::SeedableRng;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// Median seconds of `runs` calls of `f`.
fn median_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let map = Map::new(
        DMatrix::from_row_slice(2, 2, &[-200.5, 0.5, 2.0, -12.0]),
        DMatrix::from_row_slice(2, 2, &[200.0, 0.0, 0.0, 10.0]),
    )
    .expect("the brief's MMPP is a valid MAP");
    let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
    let mut sampler = Sampler::new(&map, Start::Stationary, &mut rng);
    let mut hour = Vec::new();
    sampler.arrivals_between(0.0, 3600.0, &mut rng, &mut hour);
    let gaps: Vec<f64> = hour[hour.len() - 257..]
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default");
    let bundle = Bundle::load(&dir).expect("the shipped model loads");
    let grid: &Grid = bundle.grid();
    let profile: &ProfileSpec = bundle.profile();
    let pricing: &Pricing = bundle.pricing();
    let objective = Objective::p95(0.1);

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    pool.install(|| {
        let fit = || {
            IntervalStatistics::of_arrivals(&hour, DEFAULT_MAX_LAG)
                .and_then(|s| s.fit())
                .expect("the hour fits")
                .map
        };
        let fitted = fit();
        let fit_s = median_seconds(3, || {
            black_box(fit());
        });
        let solve = |method| {
            median_seconds(3, || {
                let choice = analytic::solve(
                    method,
                    &fitted,
                    grid,
                    profile,
                    pricing,
                    &objective,
                    Overhead::default(),
                )
                .expect("solvable");
                black_box(choice);
            })
        };
        let approx_s = solve(Method::BatchApprox);
        let exact_s = solve(Method::Exact);
        let mut outcomes = Vec::new();
        let surrogate_s = median_seconds(51, || {
            bundle
                .predict_grid_into(black_box(&gaps), &mut outcomes)
                .expect("the window scores");
            black_box(optimizer::choose(grid, &outcomes, &objective));
        });

        println!(
            "one full-grid decision ({} configurations, one thread), medians:",
            grid.len()
        );
        println!("  MAP(2) fit to the hour ({} arrivals): {:>10.4} s", hour.len(), fit_s);
        for (name, seconds) in [
            ("batch-approx (solve)", approx_s),
            ("analytic-exact (solve)", exact_s),
            ("surrogate (encode + score + choose)", surrogate_s),
        ] {
            println!(
                "  {name:<36} {seconds:>10.4} s  = {:>9.1} x surrogate",
                seconds / surrogate_s
            );
        }
        println!(
            "  analytic-exact / batch-approx: {:.2}; paper: BATCH 40.83 s, its surrogate 0.73 s (56 x)",
            exact_s / approx_s
        );
    });
}
