//! The fast grid scorer against the network it was extracted from.

use crate::fixture::{WINDOW, recent_gaps, trained};
use burn::prelude::*;
use deepbat_model::ModelError;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// Agreement required between the plain-Rust head and burn's forward pass (relative).
const TOLERANCE: f64 = 1e-4;

#[test]
fn fast_head_agrees_with_the_full_forward_pass() {
    let (bundle, _) = trained();
    let normaliser = &bundle.meta().normaliser;
    let gaps = recent_gaps(8);
    let grid_outcomes = bundle.predict_grid(&gaps).unwrap();

    // 64 random configurations, each with the window, through the whole network.
    let mut rng = Pcg64::seed_from_u64(3);
    let indices: Vec<usize> = (0..64)
        .map(|_| rng.random_range(0..bundle.grid().len()))
        .collect();
    let device = Device::flex();
    let mut scaled_gaps = Vec::new();
    let mut features = Vec::new();
    for &index in &indices {
        normaliser.extend_gaps(&gaps[gaps.len() - WINDOW..], &mut scaled_gaps);
        features.extend(normaliser.config(&bundle.grid().config(index)));
    }
    let gaps_tensor = Tensor::from_data(TensorData::new(scaled_gaps, [64, WINDOW]), &device);
    let config_tensor = Tensor::from_data(TensorData::new(features, [64, 3]), &device);
    let scaled = bundle.model().forward(gaps_tensor, config_tensor);
    let scaled = scaled.into_data().try_into_vec::<f32>().unwrap();

    let configs: Vec<_> = indices.iter().map(|&i| bundle.grid().config(i)).collect();
    let predicted = bundle.predict(&gaps, &configs).unwrap();
    for (k, &index) in indices.iter().enumerate() {
        let full = normaliser.outcome(&scaled[k * 5..(k + 1) * 5], WINDOW);
        for (name, fast, reference, batched) in [
            (
                "cost",
                grid_outcomes[index].cost_per_request,
                full.cost_per_request,
                predicted[k].cost_per_request,
            ),
            ("p50", grid_outcomes[index].p50, full.p50, predicted[k].p50),
            ("p90", grid_outcomes[index].p90, full.p90, predicted[k].p90),
            ("p95", grid_outcomes[index].p95, full.p95, predicted[k].p95),
            ("p99", grid_outcomes[index].p99, full.p99, predicted[k].p99),
        ] {
            let relative = (fast - reference).abs() / reference;
            assert!(
                relative < TOLERANCE,
                "config {index} {name}: fast {fast}, full {reference}"
            );
            let relative = (batched - reference).abs() / reference;
            assert!(
                relative < TOLERANCE,
                "config {index} {name}: predict {batched}, full {reference}"
            );
        }
    }
}

#[test]
fn grid_predictions_cover_the_grid_with_positive_figures() {
    let (bundle, _) = trained();
    let outcomes = bundle.predict_grid(&recent_gaps(5)).unwrap();
    assert_eq!(outcomes.len(), bundle.grid().len());
    assert_eq!(outcomes.len(), 28_224);
    for (index, outcome) in outcomes.iter().enumerate() {
        let figures = [
            outcome.cost_per_request,
            outcome.p50,
            outcome.p90,
            outcome.p95,
            outcome.p99,
        ];
        assert!(
            figures.iter().all(|v| v.is_finite() && *v > 0.0),
            "config {index}: {outcome:?}"
        );
        assert_eq!(outcome.requests, WINDOW);
        assert_eq!(outcome.mean_batch, 0.0);
    }
}

#[test]
fn only_the_last_window_of_gaps_counts() {
    let (bundle, _) = trained();
    let gaps = recent_gaps(6);
    let last = &gaps[gaps.len() - WINDOW..];
    assert_eq!(
        bundle.predict_grid(&gaps).unwrap(),
        bundle.predict_grid(last).unwrap()
    );
}

#[test]
fn short_or_bad_gaps_are_errors() {
    let (bundle, _) = trained();
    let err = bundle.predict_grid(&[0.01; 31]).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::GapsTooShort {
                got: 31,
                window: 32
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("32") && err.to_string().contains("31"));

    let mut gaps = vec![0.01; 40];
    gaps[35] = -1.0;
    let err = bundle
        .predict(&gaps, &[bundle.grid().config(0)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("-1") && err.contains("position 35"), "{err}");
}

#[test]
fn another_scoring_grid_is_scored_in_its_own_order() {
    let (bundle, _) = trained();
    let mut bundle = bundle.clone();
    let small = deepbat_core::Grid {
        memory_mb: vec![1024, 3008],
        batch_sizes: vec![1, 8, 16],
        timeouts: vec![0.0, 0.05],
    };
    bundle.set_scoring_grid(small.clone()).unwrap();
    assert_eq!(bundle.scoring_grid(), &small);
    assert_eq!(bundle.grid().len(), 28_224);

    let gaps = recent_gaps(12);
    let fast = bundle.predict_grid(&gaps).unwrap();
    let configs: Vec<_> = small.configs().collect();
    let reference = bundle.predict(&gaps, &configs).unwrap();
    assert_eq!(fast.len(), 12);
    for (index, (a, b)) in fast.iter().zip(&reference).enumerate() {
        let relative = (a.p95 - b.p95).abs() / b.p95;
        assert!(
            relative < TOLERANCE,
            "config {index}: {} vs {}",
            a.p95,
            b.p95
        );
    }
}
