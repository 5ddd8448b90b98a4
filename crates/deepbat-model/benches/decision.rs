//! One full decision with the surrogate: encode a 256-gap window once, score all 28,224
//! configurations of the default grid, and search them (SPEC target: under 2 ms on one
//! core). Uses the model shipped in `models/default`.

use criterion::{Criterion, criterion_group, criterion_main};
use deepbat_core::optimizer::{self, Objective};
use deepbat_core::synth;
use deepbat_model::Bundle;
use std::hint::black_box;
use std::path::Path;

fn decision(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default");
    let bundle = Bundle::load(&dir).expect("the shipped model loads");
    let trace = synth::bursty_day(9, 1, 3);
    let gaps: Vec<f64> = trace.arrivals[..257]
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    let objective = Objective::p95(0.1);
    let mut outcomes = Vec::new();
    c.bench_function("surrogate/predict-grid/28224", |b| {
        b.iter(|| {
            bundle
                .predict_grid_into(black_box(&gaps), &mut outcomes)
                .unwrap()
        })
    });
    c.bench_function("surrogate/decision/28224", |b| {
        b.iter(|| {
            bundle
                .predict_grid_into(black_box(&gaps), &mut outcomes)
                .unwrap();
            optimizer::choose(bundle.grid(), &outcomes, &objective)
        })
    });
}

criterion_group!(benches, decision);
criterion_main!(benches);
