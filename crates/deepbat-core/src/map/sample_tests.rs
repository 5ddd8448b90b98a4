//! Sampled paths against the analytic values of [`Map`].
//!
//! Each statistic is estimated by batch means: the sample is cut into 100 consecutive
//! batches, and the spread of the batch estimates gives a standard error that already
//! accounts for the correlation between neighbouring intervals.

use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use super::*;
use crate::map::tests::nys_hour_7;
use crate::trace::{index_of_dispersion_counts, lag_autocorrelation};

const BATCHES: usize = 100;
/// How many standard errors a sampled statistic may stray from its analytic value.
const Z_LIMIT: f64 = 4.0;

/// Mean and standard error of `statistic` over `BATCHES` consecutive slices of `values`.
fn batch_estimate(values: &[f64], statistic: impl Fn(&[f64]) -> f64) -> (f64, f64) {
    let size = values.len() / BATCHES;
    let estimates: Vec<f64> = values.chunks_exact(size).map(&statistic).collect();
    let n = estimates.len() as f64;
    let mean = estimates.iter().sum::<f64>() / n;
    let variance = estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

fn raw_moment(values: &[f64], k: i32) -> f64 {
    values.iter().map(|x| x.powi(k)).sum::<f64>() / values.len() as f64
}

fn assert_close(what: &str, (estimate, error): (f64, f64), expected: f64) {
    let z = (estimate - expected) / error;
    assert!(
        z.abs() < Z_LIMIT,
        "{what}: sampled {estimate} ± {error}, analytic {expected} (z = {z:.2})"
    );
}

fn correlated_w21() -> Map {
    Map::new(
        DMatrix::from_row_slice(2, 2, &[-10.1, 0.0, 0.0, -202.0]),
        DMatrix::from_row_slice(2, 2, &[0.1, 10.0, 200.0, 2.0]),
    )
    .unwrap()
}

#[test]
fn sampled_intervals_match_moments_and_autocorrelation() {
    let maps = [
        ("nys hour 7", nys_hour_7()),
        ("mmpp", Map::mmpp2(200.0, 10.0, 0.5, 2.0).unwrap()),
        ("w21", correlated_w21()),
    ];
    for (seed, (name, map)) in maps.into_iter().enumerate() {
        let mut rng = Pcg64::seed_from_u64(seed as u64 + 11);
        let gaps = map.sample_intervals(1_000_000, Start::AfterArrival, &mut rng);
        for k in 1..=3 {
            let estimate = batch_estimate(&gaps, |b| raw_moment(b, k));
            assert_close(&format!("{name} E[X^{k}]"), estimate, map.moment(k as u32));
        }
        let scv = |b: &[f64]| raw_moment(b, 2) / raw_moment(b, 1).powi(2) - 1.0;
        assert_close(
            &format!("{name} SCV"),
            batch_estimate(&gaps, scv),
            map.scv(),
        );
        let analytic = map.autocorrelations(3);
        for lag in 1..=3 {
            let estimate = batch_estimate(&gaps, |b| lag_autocorrelation(b, lag));
            assert_close(&format!("{name} rho_{lag}"), estimate, analytic[lag - 1]);
        }
    }
}

#[test]
fn sampled_window_counts_match_the_idc_formula() {
    // The reference MMPP: rates 200 and 10, switches 0.5 and 2; 20 blocks of 2000 s.
    let map = Map::mmpp2(200.0, 10.0, 0.5, 2.0).unwrap();
    let mut rng = Pcg64::seed_from_u64(5);
    let mut sampler = Sampler::new(&map, Start::Stationary, &mut rng);
    let blocks: Vec<Vec<f64>> = (0..20)
        .map(|block| {
            let start = f64::from(block) * 2000.0;
            let mut arrivals = Vec::new();
            sampler.arrivals_between(start, start + 2000.0, &mut rng, &mut arrivals);
            arrivals
        })
        .collect();
    for window in [0.1, 1.0, 5.0] {
        let estimates: Vec<f64> = blocks
            .iter()
            .map(|a| index_of_dispersion_counts(a, window))
            .collect();
        let n = estimates.len() as f64;
        let mean = estimates.iter().sum::<f64>() / n;
        let variance = estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert_close(
            &format!("IDC({window})"),
            (mean, (variance / n).sqrt()),
            map.idc(window),
        );
    }
}

#[test]
fn sampled_arrivals_have_the_rate_and_are_sorted() {
    let map = nys_hour_7();
    let mut rng = Pcg64::seed_from_u64(2);
    let mut arrivals = Vec::new();
    map.sample_arrivals(100.0, 1100.0, &mut rng, &mut arrivals);
    assert!(arrivals.windows(2).all(|w| w[0] <= w[1]));
    assert!(arrivals.iter().all(|t| (100.0..1100.0).contains(t)));
    // About 87 374 arrivals, Poisson-like: 5 standard deviations is about 1 500.
    let count = arrivals.len() as f64;
    assert!((count - 87_374.0).abs() < 1_500.0, "{count}");
}

#[test]
fn same_seed_same_path() {
    let map = correlated_w21();
    let a = map.sample_intervals(1000, Start::Stationary, &mut Pcg64::seed_from_u64(9));
    let b = map.sample_intervals(1000, Start::Stationary, &mut Pcg64::seed_from_u64(9));
    let c = map.sample_intervals(1000, Start::Stationary, &mut Pcg64::seed_from_u64(10));
    assert_eq!(a, b);
    assert_ne!(a, c);
}
