//! Fitting the parametric profile to measurements.
//!
//! For a fixed saturation memory `m_sat` the model
//! `s = a0 + a1 b + (c0 + c1 b) g`, `g = 1769 / min(M, m_sat)`, is linear in
//! `(a0, a1, c0, c1)`, so ordinary least squares (on seconds) solves it exactly through the
//! 4 x 4 normal equations. The fit scans `m_sat` over the measured memory range, every
//! 16 MB and then every 1 MB around the best, and keeps the `m_sat` of least squared
//! error. A best `m_sat` at or above the largest measured memory means no saturation was
//! seen; it is reported as 10,240 MB, which behaves the same at every Lambda memory size.

use super::table::Measurement;
use super::{Parametric, ServiceProfile};
use thiserror::Error;

/// Coarse step of the `m_sat` scan, MB.
const COARSE_STEP_MB: u32 = 16;

/// What a fit found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub parameters: Parametric,
    /// Mean absolute percentage error over the measurements.
    pub mape: f64,
    /// Largest absolute percentage error.
    pub max_error: f64,
    /// Largest absolute error, seconds.
    pub max_abs_error: f64,
    /// Root mean squared error, seconds.
    pub rmse: f64,
    pub points: usize,
}

/// Measurements that cannot determine the four parameters.
#[derive(Debug, Error, PartialEq)]
pub enum FitError {
    #[error(
        "{0}: the fit needs at least two memory sizes and two batch sizes, \
         with four or more points"
    )]
    TooFewPoints(String),
    #[error("{0}: the measurements do not determine the parameters (singular system)")]
    Singular(String),
}

/// Least-squares fit of the parametric profile; `origin` names the data in errors.
///
/// # Errors
/// Fewer than four points, one memory size or one batch size only, or data for which no
/// `m_sat` gives a solvable system.
pub fn fit_parametric(measurements: &[Measurement], origin: &str) -> Result<Fit, FitError> {
    let distinct = |key: fn(&Measurement) -> u32| {
        let mut values: Vec<u32> = measurements.iter().map(key).collect();
        values.sort_unstable();
        values.dedup();
        values
    };
    let memories = distinct(|m| m.memory_mb);
    if measurements.len() < 4 || memories.len() < 2 || distinct(|m| m.batch_size).len() < 2 {
        return Err(FitError::TooFewPoints(origin.to_string()));
    }
    let (low, high) = (memories[0], memories[memories.len() - 1]);

    // Coarse scan, then 1 MB steps around the best. Saturation at `low` or below would
    // make g constant and the system singular, so the scan starts above it.
    let mut best: Option<(f64, u32, [f64; 4])> = None;
    let consider = |best: &mut Option<(f64, u32, [f64; 4])>, m_sat: u32| {
        if let Some((sse, x)) = solve_for(measurements, f64::from(m_sat))
            && best.is_none_or(|b| sse < b.0)
        {
            *best = Some((sse, m_sat, x));
        }
    };
    let mut m_sat = low + COARSE_STEP_MB;
    while m_sat < high {
        consider(&mut best, m_sat);
        m_sat += COARSE_STEP_MB;
    }
    consider(&mut best, high);
    let Some((_, coarse, _)) = best else {
        return Err(FitError::Singular(origin.to_string()));
    };
    let from = coarse.saturating_sub(COARSE_STEP_MB).max(low + 1);
    let to = (coarse + COARSE_STEP_MB).min(high);
    for m_sat in from..=to {
        consider(&mut best, m_sat);
    }
    let (_, m_sat, [a0, a1, c0, c1]) = best.expect("the coarse scan found a solution");

    let parameters = Parametric {
        a0,
        a1,
        c0,
        c1,
        m_sat_mb: if m_sat >= high {
            10240.0
        } else {
            f64::from(m_sat)
        },
    };
    Ok(errors(measurements, parameters))
}

/// The error figures of `parameters` on `measurements`.
pub fn errors(measurements: &[Measurement], parameters: Parametric) -> Fit {
    let mut sum_pct = 0.0;
    let mut max_error: f64 = 0.0;
    let mut max_abs_error: f64 = 0.0;
    let mut sse = 0.0;
    for m in measurements {
        let residual = parameters.service_time(m.memory_mb, m.batch_size) - m.seconds;
        let pct = (residual / m.seconds).abs() * 100.0;
        sum_pct += pct;
        max_error = max_error.max(pct);
        max_abs_error = max_abs_error.max(residual.abs());
        sse += residual * residual;
    }
    let n = measurements.len() as f64;
    Fit {
        parameters,
        mape: sum_pct / n,
        max_error,
        max_abs_error,
        rmse: (sse / n).sqrt(),
        points: measurements.len(),
    }
}

/// Least squares of `(a0, a1, c0, c1)` for one `m_sat`: the sum of squared errors and the
/// parameters, or `None` when the normal equations are singular.
fn solve_for(measurements: &[Measurement], m_sat: f64) -> Option<(f64, [f64; 4])> {
    let row = |m: &Measurement| {
        let b = f64::from(m.batch_size);
        let g = super::ONE_VCPU_MB / f64::from(m.memory_mb).min(m_sat);
        [1.0, b, g, b * g]
    };
    let mut normal = [[0.0; 4]; 4];
    let mut rhs = [0.0; 4];
    for m in measurements {
        let x = row(m);
        for i in 0..4 {
            for j in 0..4 {
                normal[i][j] += x[i] * x[j];
            }
            rhs[i] += x[i] * m.seconds;
        }
    }
    let solution = gauss(normal, rhs)?;
    let sse = measurements
        .iter()
        .map(|m| {
            let x = row(m);
            let fitted: f64 = x.iter().zip(&solution).map(|(a, b)| a * b).sum();
            (fitted - m.seconds).powi(2)
        })
        .sum();
    Some((sse, solution))
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn gauss(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    // A pivot this small relative to the matrix means the columns are dependent.
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for col in 0..4 {
        let pivot = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= scale * 1e-13 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for r in col + 1..4 {
            let factor = a[r][col] / pivot_row[col];
            for (target, source) in a[r].iter_mut().zip(pivot_row).skip(col) {
                *target -= factor * source;
            }
            b[r] -= factor * b[col];
        }
    }
    let mut x = [0.0; 4];
    for col in (0..4).rev() {
        let tail: f64 = (col + 1..4).map(|k| a[col][k] * x[k]).sum();
        x[col] = (b[col] - tail) / a[col][col];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Polynomial, ProfileOptions, ProfileSpec};
    use crate::shared_data;

    fn sample(profile: &dyn ServiceProfile, memories: &[u32], batches: &[u32]) -> Vec<Measurement> {
        let mut out = Vec::new();
        for &memory_mb in memories {
            for &batch_size in batches {
                out.push(Measurement {
                    memory_mb,
                    batch_size,
                    seconds: profile.service_time(memory_mb, batch_size),
                });
            }
        }
        out
    }

    #[test]
    fn recovers_known_parameters() {
        let truth = Parametric {
            a0: 0.03,
            a1: 0.004,
            c0: 0.05,
            c1: 0.2,
            m_sat_mb: 2560.0,
        };
        let memories: Vec<u32> = (1..=20).map(|k| 128 * k * 2).collect();
        let data = sample(&truth, &memories, &[1, 2, 4, 8, 16]);
        let fit = fit_parametric(&data, "synthetic").unwrap();
        let p = fit.parameters;
        assert_eq!(p.m_sat_mb, 2560.0);
        for (got, want) in [(p.a0, 0.03), (p.a1, 0.004), (p.c0, 0.05), (p.c1, 0.2)] {
            assert!((got - want).abs() < 1e-9, "{p:?}");
        }
        assert!(fit.mape < 1e-6 && fit.max_error < 1e-6, "{fit:?}");
    }

    #[test]
    fn no_saturation_in_range_is_reported_as_10240() {
        let truth = Parametric {
            m_sat_mb: 10240.0,
            ..Parametric::DEFAULT
        };
        let data = sample(&truth, &[512, 1024, 2048, 3008], &[1, 3, 9]);
        let fit = fit_parametric(&data, "x").unwrap();
        assert_eq!(fit.parameters.m_sat_mb, 10240.0);
        assert!((fit.parameters.c1 - Parametric::DEFAULT.c1).abs() < 1e-9);
    }

    #[test]
    fn matches_the_published_fits_of_the_batch_polynomials() {
        // The reference brief fitted BATCH's cubics sampled every 64 MB over 1024..=3008
        // and b = 1..=20: Inception-v4 a0 0.323, a1 0.0668, c0 0.035, c1 0.845, MAPE 2.6 %,
        // max 21 %; ResNet-v2 a0 0.653, a1 0.0625, c0 0.334, c1 0.865, MAPE 2.1 %, max 9.4 %.
        let memories: Vec<u32> = (0..=31).map(|k| 1024 + 64 * k).collect();
        let batches: Vec<u32> = (1..=20).collect();
        let cases = [
            (
                Polynomial::inception_v4(),
                [0.323, 0.0668, 0.035, 0.845],
                2.6,
                21.0,
            ),
            (
                Polynomial::resnet_v2(),
                [0.653, 0.0625, 0.334, 0.865],
                2.1,
                9.4,
            ),
        ];
        for (profile, want, mape, max_error) in cases {
            let fit = fit_parametric(&sample(&profile, &memories, &batches), "batch").unwrap();
            let p = fit.parameters;
            for (got, want) in [p.a0, p.a1, p.c0, p.c1].into_iter().zip(want) {
                assert!((got - want).abs() < 0.0015, "{}: {p:?}", profile.name);
            }
            // The brief found no saturation; a saturation above 2,944 MB touches only the
            // 3,008 MB points and may win by a hair.
            assert!(p.m_sat_mb > 2944.0, "{p:?}");
            assert!((fit.mape - mape).abs() < 0.05, "{fit:?}");
            assert!((fit.max_error - max_error).abs() < 0.6, "{fit:?}");
        }
    }

    #[test]
    fn fits_the_deepspeech_class_16_table() {
        let Some(shared) = shared_data::shared_dir("fits_the_deepspeech_class_16_table") else {
            return;
        };
        // The brief: a0 -0.128, a1 -0.068, c0 2.194, c1 2.163, m_sat 1920, MAPE 1.4 %.
        let path = shared.join("profiles/deepspeech-lambda-mbs.json");
        let options = ProfileOptions {
            class: Some(16),
            extrapolate: false,
        };
        let ProfileSpec::Table(table) = ProfileSpec::load(&path, &options).unwrap() else {
            panic!("a class table loads as a table");
        };
        let data: Vec<Measurement> = table
            .rows
            .iter()
            .flat_map(|r| {
                r.batch_sizes
                    .iter()
                    .zip(&r.seconds)
                    .map(|(&b, &s)| Measurement {
                        memory_mb: r.memory_mb,
                        batch_size: b,
                        seconds: s,
                    })
            })
            .collect();
        let fit = fit_parametric(&data, "class 16").unwrap();
        let p = fit.parameters;
        assert!((p.m_sat_mb - 1920.0).abs() <= 16.0, "{p:?}");
        for (got, want) in [(p.a0, -0.128), (p.a1, -0.068), (p.c0, 2.194), (p.c1, 2.163)] {
            assert!((got - want).abs() < 0.03, "{p:?}");
        }
        assert!(fit.mape < 1.5, "{fit:?}");
    }

    #[test]
    fn too_few_points_is_an_error() {
        let one_memory = sample(&Parametric::DEFAULT, &[1024], &[1, 2, 3, 4]);
        assert!(matches!(
            fit_parametric(&one_memory, "m.csv"),
            Err(FitError::TooFewPoints(_))
        ));
    }
}
