//! Tests of the MAP type: construction, validation, the basic quantities, BATCH's files.

use super::*;
use crate::shared_data::shared_dir;

fn matrix(n: usize, entries: &[f64]) -> DMatrix<f64> {
    DMatrix::from_row_slice(n, n, entries)
}

/// The BATCH fit of NYS hour 7 (2018-10-11), the fixture of the reference figures.
pub(crate) fn nys_hour_7() -> Map {
    Map::new(
        matrix(2, &[-55.650135, 0.0, 0.0, -105.957535]),
        matrix(2, &[16.609367, 39.040768, 22.869309, 83.088226]),
    )
    .unwrap()
}

#[test]
fn poisson_has_its_rate_and_one_phase() {
    let map = Map::poisson(4.0).unwrap();
    assert_eq!(map.phases(), 1);
    assert!((map.rate() - 4.0).abs() < 1e-12);
    assert!((map.embedded()[(0, 0)] - 1.0).abs() < 1e-12);
}

#[test]
fn mmpp2_stationary_and_rate_match_closed_forms() {
    // Brief example: rates 200 and 10, switches 0.5 and 2. π = (2, 0.5) / 2.5.
    let map = Map::mmpp2(200.0, 10.0, 0.5, 2.0).unwrap();
    let pi = map.stationary();
    assert!((pi[0] - 0.8).abs() < 1e-12 && (pi[1] - 0.2).abs() < 1e-12);
    assert!((map.rate() - 162.0).abs() < 1e-9);
    // π_e = π D1 / λ = (160, 2) / 162.
    let pi_e = map.interval_stationary();
    assert!((pi_e[0] - 160.0 / 162.0).abs() < 1e-12);
    // P is stochastic.
    for row in map.embedded().row_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    let q = map.generator();
    assert!((pi.transpose() * q).amax() < 1e-12);
}

#[test]
fn nys_hour_7_has_the_published_rate() {
    let map = nys_hour_7();
    assert!((map.rate() - 87.374).abs() < 5e-4, "rate {}", map.rate());
}

#[test]
fn nys_hour_7_loads_from_the_shared_fits() {
    let Some(shared) = shared_dir("nys_hour_7_loads_from_the_shared_fits") else {
        return;
    };
    // The 2018-10-11 hourly fits hold the figures quoted for "NYS hour 7"; the 2018-10-09
    // folder has a different hour 7.
    let dir = shared.join("traces/batch-map-fits/nys_20181011_hourly");
    let map = Map::load_pair(&dir.join("MAP7_D0"), &dir.join("MAP7_D1")).unwrap();
    assert_eq!(map, nys_hour_7());
    assert!((map.rate() - 87.374).abs() < 5e-4, "rate {}", map.rate());
}

#[test]
fn every_shared_fit_loads() {
    let Some(shared) = shared_dir("every_shared_fit_loads") else {
        return;
    };
    let root = shared.join("traces/batch-map-fits");
    let mut total = 0;
    for folder in [
        "nys_20181009_partial",
        "nys_20181011_hourly",
        "twitter_may25_hourly",
        "synthetic_workload",
    ] {
        let series = load_series(&root.join(folder)).unwrap();
        total += series.maps.len();
        let indices: Vec<u32> = series.maps.iter().map(|m| m.0).collect();
        assert!(
            indices.windows(2).all(|w| w[0] < w[1]),
            "{folder}: {indices:?}"
        );
    }
    assert_eq!(total, 3 + 24 + 24 + 4);
}

#[test]
fn invalid_matrices_are_errors_not_panics() {
    let good_d0 = matrix(2, &[-3.0, 1.0, 1.0, -3.0]);
    let good_d1 = matrix(2, &[2.0, 0.0, 0.0, 2.0]);
    assert!(Map::new(good_d0.clone(), good_d1.clone()).is_ok());

    let cases: Vec<(DMatrix<f64>, DMatrix<f64>, &str)> = vec![
        (
            matrix(2, &[-3.0, f64::NAN, 1.0, -3.0]),
            good_d1.clone(),
            "not finite",
        ),
        (
            good_d0.clone(),
            matrix(2, &[f64::INFINITY, 0.0, 0.0, 2.0]),
            "not finite",
        ),
        (
            matrix(2, &[-3.0, -1.0, 1.0, -3.0]),
            good_d1.clone(),
            "must not be negative",
        ),
        (
            good_d0.clone(),
            matrix(2, &[2.0, 0.0, -0.1, 2.1]),
            "must not be negative",
        ),
        (
            matrix(2, &[-3.1, 1.0, 1.0, -3.0]),
            good_d1.clone(),
            "sums to",
        ),
        (
            matrix(2, &[-2.0, 0.0, 0.0, -2.0]),
            good_d1.clone(),
            "reducible",
        ),
        (
            matrix(2, &[-1.0, 1.0, 1.0, -1.0]),
            DMatrix::zeros(2, 2),
            "never emits",
        ),
        (DMatrix::zeros(2, 3), good_d1.clone(), "not square"),
        (matrix(1, &[-1.0]), good_d1.clone(), "D0 is 1x1"),
        (DMatrix::zeros(0, 0), good_d1, "empty"),
    ];
    for (d0, d1, expected) in cases {
        let message = Map::new(d0, d1).unwrap_err().to_string();
        assert!(message.contains(expected), "{message} lacks {expected}");
    }
    assert!(Map::poisson(f64::NAN).is_err());
    assert!(Map::poisson(0.0).is_err());
    assert!(Map::mmpp2(1.0, 2.0, 0.0, 1.0).is_err());
    assert!(Map::mmpp2(-1.0, 2.0, 1.0, 1.0).is_err());
}

#[test]
fn row_sums_use_a_relative_tolerance() {
    // Off by 1e-9 on rates of 1e4: accepted; off by 1e-3 relative: rejected.
    let d1 = matrix(2, &[1e4, 0.0, 0.0, 1e4]);
    let close = matrix(2, &[-1e4 - 1.0 + 1e-5, 1.0, 1.0, -1e4 - 1.0]);
    assert!(Map::new(close, d1.clone()).is_ok());
    let far = matrix(2, &[-1e4 - 11.0, 1.0, 1.0, -1e4 - 1.0]);
    assert!(Map::new(far, d1).is_err());
}
