//! The MAP(2) fit: exact reproduction of known MAPs from their own statistics, every branch
//! of the closed form, and the fallback ladder.

use nalgebra::DMatrix;
use proptest::prelude::*;

use super::*;
use crate::map::load_series;
use crate::map::tests::nys_hour_7;
use crate::shared_data::shared_dir;

/// The four numbers the fit takes, read off a MAP.
fn signature(map: &Map) -> (f64, f64, f64, f64) {
    (
        map.moment(1),
        map.moment(2),
        map.moment(3),
        map.decay_rate().unwrap(),
    )
}

fn relative_gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Largest entry-wise difference between two MAPs, relative to their largest rate.
fn matrix_gap(a: &Map, b: &Map) -> f64 {
    let scale = a.d0().amax().max(a.d1().amax());
    ((a.d0() - b.d0()).amax()).max((a.d1() - b.d1()).amax()) / scale
}

/// Fits `map` from its own signature and checks the signature of the fit.
fn refit(map: &Map) -> Map {
    let (e1, e2, e3, gamma) = signature(map);
    let fitted = map2_fit(e1, e2, e3, gamma)
        .unwrap_or_else(|e| panic!("scv {} gamma {gamma}: {e}", map.scv()));
    let (f1, f2, f3, fitted_gamma) = signature(&fitted);
    for (what, got, want) in [("e1", f1, e1), ("e2", f2, e2), ("e3", f3, e3)] {
        assert!(relative_gap(got, want) < 1e-9, "{what}: {got} vs {want}");
    }
    assert!(
        (fitted_gamma - gamma).abs() < 1e-9,
        "gamma {fitted_gamma} vs {gamma}"
    );
    fitted
}

#[test]
fn nys_hour_7_is_reproduced_from_its_own_statistics() {
    let original = nys_hour_7();
    let fitted = refit(&original);
    let gap = matrix_gap(&fitted, &original);
    println!("NYS hour 7 refit: relative matrix gap {gap:e}");
    assert!(gap < 1e-9, "relative matrix gap {gap:e}");
}

#[test]
fn every_shared_two_phase_fit_round_trips() {
    let Some(shared) = shared_dir("every_shared_two_phase_fit_round_trips") else {
        return;
    };
    let root = shared.join("traces/batch-map-fits");
    let mut canonical = 0;
    let mut worst: f64 = 0.0;
    let mut within_1e9 = 0;
    for folder in [
        "nys_20181009_partial",
        "nys_20181011_hourly",
        "twitter_may25_hourly",
        "synthetic_workload",
    ] {
        for (k, _, original) in load_series(&root.join(folder)).unwrap().maps {
            let fitted = refit(&original);
            // Fits in the canonical form (diagonal D0, slow phase first, γ ≥ 0) also come
            // back entry for entry; MMPPs and negatively correlated MAPs come back as a
            // different MAP with the same statistics.
            // Not to 1e-9 everywhere: the files round rates to 6 decimals, so a row of
            // D0 + D1 can be off by 1e-7 relative while the fit's rows sum to exactly 0, and
            // near-exponential hours (SCV 1.004) make the inverse ill-conditioned, moving
            // entries by about 1e-8 for moment errors of 1e-16.
            let d0 = original.d0();
            let diagonal = d0[(0, 1)] == 0.0 && d0[(1, 0)] == 0.0;
            if diagonal && d0[(0, 0)] > d0[(1, 1)] && original.decay_rate().unwrap() >= 0.0 {
                let gap = matrix_gap(&fitted, &original);
                assert!(gap < 1e-6, "{folder} {k}: relative matrix gap {gap:e}");
                worst = worst.max(gap);
                canonical += 1;
                within_1e9 += usize::from(gap < 1e-9);
            }
        }
    }
    println!("{canonical} canonical fits: {within_1e9} within 1e-9, worst gap {worst:e}");
    // 45 of the 55 files are in that form (the rest have γ < 0 or are MMPPs).
    assert_eq!(canonical, 45);
}

#[test]
fn each_branch_reproduces_its_statistics() {
    let matrix = |entries: &[f64]| DMatrix::from_row_slice(2, 2, entries);
    let cases = [
        // Hyper-exponential, positive correlation (diagonal form).
        (
            matrix(&[-1.0, 0.0, 0.0, -10.0]),
            matrix(&[0.9, 0.1, 1.0, 9.0]),
        ),
        // Hyper-exponential, alternating phases: negative decay rate.
        (
            matrix(&[-10.1, 0.0, 0.0, -202.0]),
            matrix(&[0.1, 10.0, 200.0, 2.0]),
        ),
        // Hypo-exponential (Erlang-like, SCV < 1), positive and negative decay rates.
        // (Interior points: D0 = [[-3, 2.5], [0, -3]] lands on the region's edge.)
        (
            matrix(&[-4.0, 3.0, 0.0, -3.0]),
            matrix(&[1.0, 0.0, 0.6, 2.4]),
        ),
        (
            matrix(&[-4.0, 3.0, 0.0, -3.0]),
            matrix(&[0.0, 1.0, 2.4, 0.6]),
        ),
    ];
    let mut seen = Vec::new();
    for (d0, d1) in cases {
        let map = Map::new(d0, d1).unwrap();
        let (_, _, _, gamma) = signature(&map);
        seen.push((map.scv() > 1.0, gamma > 0.0));
        refit(&map);
    }
    assert_eq!(
        seen,
        [(true, true), (true, false), (false, true), (false, false)]
    );
}

#[test]
fn infeasible_statistics_are_named() {
    // SCV 0.3: below what any MAP(2) reaches.
    let message = map2_fit(1.0, 1.3, 2.0, 0.0).unwrap_err().to_string();
    assert!(message.contains("SCV"), "{message}");
    // SCV 2 with a third moment below 1.5 e2² / e1 = 13.5.
    let message = map2_fit(1.0, 3.0, 10.0, 0.0).unwrap_err().to_string();
    assert!(message.contains("third moment"), "{message}");
    // A decay rate of 1 or more is never feasible.
    let message = map2_fit(1.0, 3.0, 20.0, 1.0).unwrap_err().to_string();
    assert!(message.contains("decay rate"), "{message}");
    assert!(map2_fit(f64::NAN, 3.0, 20.0, 0.1).is_err());
    assert!(map2_fit(1.0, 3.0, 20.0, f64::INFINITY).is_err());
}

#[test]
fn the_ladder_falls_back_and_keeps_the_mean() {
    // Exact when feasible.
    let (e1, e2, e3, gamma) = signature(&nys_hour_7());
    assert_eq!(
        fit_map2(e1, e2, Some(e3), gamma).unwrap().method,
        FitMethod::Exact
    );

    // A third moment out of reach is replaced by the rule.
    let fitted = fit_map2(0.5, 0.75, Some(0.1), 0.3).unwrap();
    assert!(matches!(fitted.method, FitMethod::ThirdMomentRule { .. }));
    assert!(relative_gap(fitted.map.mean_interval(), 0.5) < 1e-12);
    assert!(relative_gap(fitted.map.scv(), 2.0) < 1e-9);

    // A decay rate too close to 1 is clamped, keeping the moments.
    let fitted = fit_map2(1.0, 3.0, Some(20.0), 1.5).unwrap();
    let FitMethod::ClampedDecay { used, .. } = fitted.method else {
        panic!("{:?}", fitted.method);
    };
    assert!(used < 1.0 && (fitted.map.decay_rate().unwrap() - used).abs() < 1e-9);

    // SCV 0.3 becomes Erlang-2 with the right mean.
    let fitted = fit_map2(2.0, 4.0 * 1.3, None, 0.0).unwrap();
    assert_eq!(fitted.method, FitMethod::Erlang2);
    assert!(relative_gap(fitted.map.mean_interval(), 2.0) < 1e-12);
    assert!((fitted.map.scv() - 0.5).abs() < 1e-12);

    // Nonsense second moments are errors, not panics.
    assert!(fit_map2(1.0, 0.5, None, 0.0).is_err());
    assert!(fit_map2(f64::NAN, 2.0, None, 0.0).is_err());
}

#[test]
fn the_third_moment_rule_lands_inside_the_region() {
    for (scv, gamma) in [(1.5, 0.4), (1.5, -0.2), (5.0, 0.6), (0.7, 0.1), (0.7, -0.1)] {
        let e1 = 0.2;
        let e2 = (scv + 1.0) * e1 * e1;
        let e3 = third_moment_rule(e1, e2, gamma);
        let (low, high) = decay_range(e1, e2, e3).unwrap();
        assert!(low <= high, "scv {scv}: [{low}, {high}]");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any MAP(2) with a full D1 and diagonal D0 is reproduced in its four statistics.
    #[test]
    fn random_maps_round_trip(
        rates in prop::array::uniform4(0.01f64..100.0),
        hidden in prop::array::uniform2(0.0f64..50.0),
    ) {
        let d1 = DMatrix::from_row_slice(2, 2, &rates);
        let d0 = DMatrix::from_row_slice(2, 2, &[
            -(rates[0] + rates[1] + hidden[0]), hidden[0],
            hidden[1], -(rates[2] + rates[3] + hidden[1]),
        ]);
        let map = Map::new(d0, d1).unwrap();
        let (e1, e2, e3, gamma) = signature(&map);
        // Near-exponential intervals make the reduced moments ill-conditioned.
        prop_assume!((map.scv() - 1.0).abs() > 1e-3);
        let fitted = map2_fit(e1, e2, e3, gamma).unwrap();
        let (f1, f2, f3, fitted_gamma) = signature(&fitted);
        prop_assert!(relative_gap(f1, e1) < 1e-6);
        prop_assert!(relative_gap(f2, e2) < 1e-6);
        prop_assert!(relative_gap(f3, e3) < 1e-6);
        prop_assert!((fitted_gamma - gamma).abs() < 1e-6);
    }

    /// Arbitrary entries, NaN and infinities included, give a MAP or an error, never a panic.
    #[test]
    fn construction_never_panics(
        entries in prop::collection::vec(
            prop_oneof![
                Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY),
                Just(0.0), -1e3f64..1e3, Just(1e-320), Just(1e308)
            ],
            8,
        ),
    ) {
        let d0 = DMatrix::from_row_slice(2, 2, &entries[..4]);
        let d1 = DMatrix::from_row_slice(2, 2, &entries[4..]);
        if let Ok(map) = Map::new(d0, d1) {
            prop_assert!(map.rate().is_finite() && map.rate() > 0.0);
        }
        let _ = map2_fit(entries[0], entries[1], entries[2], entries[3]);
        let _ = fit_map2(entries[4], entries[5], Some(entries[6]), entries[7]);
    }
}
