//! The simulator's speed: one configuration over growing traces (cost must grow linearly),
//! and the oracle over the whole default grid for one 256-arrival window, on one thread.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deepbat_core::optimizer::Objective;
use deepbat_core::{Config, Grid, Pricing, ProfileSpec, oracle, sim, synth};
use std::hint::black_box;

fn simulate_scaling(c: &mut Criterion) {
    let trace = synth::bursty_day(9, 1, 11);
    let profile = ProfileSpec::default();
    let pricing = Pricing::x86();
    let config = Config {
        memory_mb: 1769,
        batch_size: 8,
        timeout: 0.05,
    };
    let mut group = c.benchmark_group("simulate");
    for n in [256usize, 4_096, 65_536] {
        let arrivals = &trace.arrivals[..n];
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &arrivals, |b, a| {
            b.iter(|| sim::simulate(black_box(a), config, &profile, &pricing))
        });
    }
    group.finish();
}

fn oracle_window(c: &mut Criterion) {
    let trace = synth::bursty_day(9, 1, 11);
    let grid = Grid::default();
    let profile = ProfileSpec::default();
    let pricing = Pricing::x86();
    let objective = Objective::p95(0.1);
    let windows: Vec<&[f64]> = trace.arrivals.chunks_exact(256).take(16).collect();
    let mut k = 0;
    c.bench_function("oracle/default-grid/256-arrivals", |b| {
        b.iter(|| {
            k = (k + 1) % windows.len();
            oracle::best(black_box(windows[k]), &grid, &profile, &pricing, &objective)
        })
    });
    c.bench_function("evaluate-grid/default-grid/256-arrivals", |b| {
        b.iter(|| sim::evaluate_grid(black_box(windows[0]), &grid, &profile, &pricing))
    });
}

criterion_group!(benches, simulate_scaling, oracle_window);
criterion_main!(benches);
