//! The exact analytical model against the simulator on a million MAP-sampled arrivals.
//!
//! The sample is cut into 20 consecutive blocks of 50,000 arrivals, each simulated on its
//! own; their spread gives the Monte Carlo error (batch means, valid because each block is
//! far longer than the MAPs' correlation times). For every percentile `x_p` of the model
//! the share of simulated latencies at or below `x_p` must straddle `p`: the share below
//! `x_p - eps` at most `p`, the share at or below `x_p + eps` at least `p`, both within four
//! standard errors. The mean cost per request must agree likewise.

use deepbat_core::analytic::BatchModel;
use deepbat_core::map::{Map, Sampler, Start};
use deepbat_core::profile::{Parametric, ServiceProfile};
use deepbat_core::sim::form_batches;
use deepbat_core::{Config, Pricing, shared_data};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

const ARRIVALS: usize = 1_000_000;
const BLOCKS: usize = 20;
const CONFIGS: usize = 20;
const EPS: f64 = 1e-7;

/// Share of latencies below `x - EPS` and at or below `x + EPS`, and cost per request,
/// for each block.
struct BlockFigures {
    below: Vec<f64>,
    at_or_below: Vec<f64>,
}

fn mean_and_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

fn sample(map: &Map, seed: u64) -> Vec<f64> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut sampler = Sampler::new(map, Start::AfterArrival, &mut rng);
    let mut t = 0.0;
    (0..ARRIVALS)
        .map(|_| {
            t += sampler.next_interval(&mut rng);
            t
        })
        .collect()
}

fn random_config(rng: &mut Pcg64) -> Config {
    let memory = [512, 1024, 2048, 3008];
    let timeout = if rng.random_bool(0.15) {
        0.0
    } else {
        f64::from(rng.random_range(1..=100_u32)) * 1e-3
    };
    Config {
        memory_mb: memory[rng.random_range(0..memory.len())],
        batch_size: rng.random_range(1..=16),
        timeout,
    }
}

/// Latency of every request of `block` under `config` with batch service times `service`;
/// `batches` is left holding the batches.
fn block_latencies(
    block: &[f64],
    config: Config,
    service: &[f64],
    batches: &mut Vec<deepbat_core::sim::Batch>,
) -> Vec<f64> {
    form_batches(block, config.batch_size, config.timeout, batches);
    let mut latencies = Vec::with_capacity(block.len());
    for batch in batches.iter() {
        let s = service[batch.len - 1];
        for &arrival in &block[batch.first..batch.first + batch.len] {
            latencies.push(batch.dispatch - arrival + s);
        }
    }
    latencies
}

/// Checks 20 random configurations of `map`; `name` labels failures.
fn check_against_simulation(name: &str, map: &Map, seed: u64) {
    let arrivals = sample(map, seed);
    let profile = Parametric::DEFAULT;
    let pricing = Pricing::x86();
    let mut rng = Pcg64::seed_from_u64(seed + 1);
    let mut batches = Vec::new();
    for _ in 0..CONFIGS {
        let config = random_config(&mut rng);
        let service: Vec<f64> = (1..=config.batch_size)
            .map(|k| profile.service_time(config.memory_mb, k))
            .collect();
        let model = BatchModel::new(map, config.batch_size, config.timeout).unwrap();
        let quantiles: Vec<(f64, f64)> = [0.5, 0.9, 0.95, 0.99]
            .iter()
            .map(|&p| (p, model.latency_quantile(p, &service, 0.0)))
            .collect();
        let model_cost = model.cost_per_request(config.memory_mb, &service, 0.0, &pricing);

        let mut figures: Vec<BlockFigures> = quantiles
            .iter()
            .map(|_| BlockFigures {
                below: Vec::new(),
                at_or_below: Vec::new(),
            })
            .collect();
        let mut costs = Vec::new();
        for block in arrivals.chunks(ARRIVALS / BLOCKS) {
            let latencies = block_latencies(block, config, &service, &mut batches);
            let cost: f64 = batches
                .iter()
                .map(|b| pricing.invocation_cost(config.memory_mb, service[b.len - 1]))
                .sum();
            costs.push(cost / block.len() as f64);
            let n = latencies.len() as f64;
            for ((_, x), f) in quantiles.iter().zip(figures.iter_mut()) {
                f.below
                    .push(latencies.iter().filter(|&&l| l < x - EPS).count() as f64 / n);
                f.at_or_below
                    .push(latencies.iter().filter(|&&l| l <= x + EPS).count() as f64 / n);
            }
        }

        for ((p, x), f) in quantiles.iter().zip(&figures) {
            let (below, below_error) = mean_and_error(&f.below);
            let (upto, upto_error) = mean_and_error(&f.at_or_below);
            assert!(
                below <= p + 4.0 * below_error + 1e-9 && upto >= p - 4.0 * upto_error - 1e-9,
                "{name} {config}: model p{} = {x:.6} s, but simulated share below it {below:.5} \
                 (±{below_error:.1e}) and at or below it {upto:.5} (±{upto_error:.1e})",
                p * 100.0
            );
        }
        let (cost, cost_error) = mean_and_error(&costs);
        assert!(
            (cost - model_cost).abs() <= 4.0 * cost_error + 1e-9 * model_cost,
            "{name} {config}: cost {model_cost:e} vs simulated {cost:e} ± {cost_error:.1e}"
        );
    }
}

#[test]
fn exact_model_matches_simulation_for_poisson() {
    check_against_simulation("Poisson 60/s", &Map::poisson(60.0).unwrap(), 11);
}

#[test]
fn exact_model_matches_simulation_for_a_bursty_mmpp() {
    // The MMPP(2) of section 2.5 of the BATCH brief: 162/s, asymptotic IDC 29.5.
    check_against_simulation("bursty MMPP", &brief_mmpp(), 12);
}

fn brief_mmpp() -> Map {
    Map::new(
        DMatrix::from_row_slice(2, 2, &[-200.5, 0.5, 2.0, -12.0]),
        DMatrix::from_row_slice(2, 2, &[200.0, 0.0, 0.0, 10.0]),
    )
    .unwrap()
}

/// Section 2.5 of the BATCH brief by simulation: the MMPP with B = 5, T = 80 ms and
/// s_k = 0.05 + 0.02 k s. The brief's model figures (E[n] 4.895766, p95 0.18022 s and its
/// CDF points) must hold on 10^6 sampled arrivals within four standard errors.
#[test]
fn the_brief_fixture_holds_in_simulation() {
    let arrivals = sample(&brief_mmpp(), 21);
    let config = Config {
        memory_mb: 2048,
        batch_size: 5,
        timeout: 0.08,
    };
    let service: Vec<f64> = (1..=5).map(|k| 0.05 + 0.02 * f64::from(k)).collect();
    let points = [
        (0.1499, 0.00309),
        (0.1501, 0.20688),
        (0.155, 0.39966),
        (0.2, 0.99481),
    ];
    let mut mean_batches = Vec::new();
    let mut shares = vec![Vec::new(); points.len()];
    let mut p95_straddle = (Vec::new(), Vec::new());
    let mut batches = Vec::new();
    for block in arrivals.chunks(ARRIVALS / BLOCKS) {
        let latencies = block_latencies(block, config, &service, &mut batches);
        let n = latencies.len() as f64;
        mean_batches.push(n / batches.len() as f64);
        for ((x, _), share) in points.iter().zip(shares.iter_mut()) {
            share.push(latencies.iter().filter(|&&l| l <= *x).count() as f64 / n);
        }
        p95_straddle
            .0
            .push(latencies.iter().filter(|&&l| l < 0.18022 - 5e-6).count() as f64 / n);
        p95_straddle
            .1
            .push(latencies.iter().filter(|&&l| l <= 0.18022 + 5e-6).count() as f64 / n);
    }
    let (mean, error) = mean_and_error(&mean_batches);
    assert!(
        (mean - 4.895766).abs() <= 4.0 * error,
        "E[n] {mean} ± {error}"
    );
    for ((x, model), share) in points.iter().zip(&shares) {
        let (simulated, error) = mean_and_error(share);
        assert!(
            (simulated - model).abs() <= 4.0 * error + 1e-9,
            "F({x}): model {model}, simulated {simulated} ± {error}"
        );
    }
    let (below, below_error) = mean_and_error(&p95_straddle.0);
    let (upto, upto_error) = mean_and_error(&p95_straddle.1);
    assert!(below <= 0.95 + 4.0 * below_error && upto >= 0.95 - 4.0 * upto_error);
}

#[test]
fn exact_model_matches_simulation_for_a_batch_hourly_fit() {
    let Some(shared) = shared_data::shared_dir("the BATCH hourly-fit check") else {
        return;
    };
    let dir = shared.join("traces/batch-map-fits/twitter_may25_hourly");
    let map = Map::load_pair(&dir.join("MAP15_D0"), &dir.join("MAP15_D1")).unwrap();
    check_against_simulation("Twitter hour 14 fit", &map, 13);
}
