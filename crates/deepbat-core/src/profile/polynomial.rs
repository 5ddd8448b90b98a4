//! The cubic service-time polynomials of the BATCH paper.
//!
//! BATCH fitted one cubic in the batch size `b` and the memory `M` (MB) per model, on
//! TensorFlow 1.8 Lambdas measured at 1,024-3,008 MB and batch sizes 1-20:
//!
//! # Formula
//! `s(M, b) = t0 + t1 b + t2 M + t3 b^2 + t4 b M + t5 M^2 + t6 b^3 + t7 M b^2 + t8 b M^2
//! + t9 M^3` (seconds)
//!
//! A cubic says nothing reliable outside the range it was fitted on, so the profile refuses
//! other memories and batch sizes unless `extrapolate` is set.

use super::{Domain, MIN_SERVICE_S, ProfileError, ServiceProfile};
use serde::{Deserialize, Serialize};

/// A cubic profile with the range it is valid for.
///
/// Two polynomials are equal when their coefficients agree to a relative 1e-13: a JSON
/// round trip (`model.json`, say) may move the last bit of a long coefficient such as
/// `-2.14320561298109e-10`, and that must not make a saved model's profile a different one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Polynomial {
    /// Which model the polynomial describes.
    pub name: String,
    /// `t0..t9` for the terms `1, b, M, b^2, bM, M^2, b^3, Mb^2, bM^2, M^3`.
    pub coefficients: [f64; 10],
    /// Memory range of the measurements, MB, both ends included.
    pub memory_range_mb: [u32; 2],
    /// Batch sizes of the measurements, both ends included.
    pub batch_range: [u32; 2],
    /// Evaluate outside the range too (never below [`MIN_SERVICE_S`]).
    #[serde(default)]
    pub extrapolate: bool,
}

/// Relative tolerance of [`Polynomial`] equality.
const SAME_COEFFICIENT: f64 = 1e-13;

impl PartialEq for Polynomial {
    fn eq(&self, other: &Self) -> bool {
        let close =
            |a: f64, b: f64| a == b || (a - b).abs() <= SAME_COEFFICIENT * a.abs().max(b.abs());
        self.name == other.name
            && self.memory_range_mb == other.memory_range_mb
            && self.batch_range == other.batch_range
            && self.extrapolate == other.extrapolate
            && self
                .coefficients
                .iter()
                .zip(&other.coefficients)
                .all(|(&a, &b)| close(a, b))
    }
}

impl Polynomial {
    /// BATCH's TF Inception-v4 fit.
    pub fn inception_v4() -> Self {
        Self::batch_fit(
            "inception-v4",
            [
                4.987_853_738_669_48,
                2.212_906_245_314_53,
                -0.006_302_148_424_865,
                0.012_207_071_346_74,
                -0.001_078_252_966_917,
                2.938_420_544_890_54e-6,
                -0.000_136_439_880_153,
                -2.389_444_357_710_44e-6,
                1.682_635_129_562_9e-7,
                -4.448_215_129_571_05e-10,
            ],
        )
    }

    /// BATCH's TF ResNet-v2 fit.
    pub fn resnet_v2() -> Self {
        Self::batch_fit(
            "resnet-v2",
            [
                4.102_873_260_933_57,
                2.442_093_483_866_86,
                -0.003_744_827_715_921,
                0.001_465_789_669_51,
                -0.001_200_716_327_886,
                1.541_471_569_811_17e-6,
                0.000_169_790_388_555,
                -1.694_022_381_485_43e-6,
                1.930_960_971_795_88e-7,
                -2.143_205_612_981_09e-10,
            ],
        )
    }

    fn batch_fit(name: &str, coefficients: [f64; 10]) -> Self {
        Self {
            name: name.to_string(),
            coefficients,
            memory_range_mb: [1024, 3008],
            batch_range: [1, 20],
            extrapolate: false,
        }
    }

    pub(super) fn domain(&self) -> Domain {
        Domain {
            memory_mb: (self.memory_range_mb[0], self.memory_range_mb[1]),
            batch_size: (self.batch_range[0], self.batch_range[1]),
        }
    }

    pub(super) fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        let shape = |message: String| ProfileError::Shape {
            path: origin.to_string(),
            message,
        };
        if let Some(t) = self.coefficients.iter().find(|t| !t.is_finite()) {
            return Err(shape(format!(
                "polynomial {}: coefficient {t} is not a finite number",
                self.name
            )));
        }
        let [m0, m1] = self.memory_range_mb;
        let [b0, b1] = self.batch_range;
        if m0 > m1 || b0 > b1 || b0 == 0 {
            return Err(shape(format!(
                "polynomial {}: ranges {m0}..={m1} MB and batch {b0}..={b1} are empty or \
                 start at batch size 0",
                self.name
            )));
        }
        Ok(())
    }
}

impl ServiceProfile for Polynomial {
    fn service_time(&self, memory_mb: u32, batch_size: u32) -> f64 {
        let [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9] = self.coefficients;
        let (b, m) = (f64::from(batch_size), f64::from(memory_mb));
        let s = t0
            + t1 * b
            + t2 * m
            + t3 * b * b
            + t4 * b * m
            + t5 * m * m
            + t6 * b * b * b
            + t7 * m * b * b
            + t8 * b * m * m
            + t9 * m * m * m;
        s.max(MIN_SERVICE_S)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_survives_a_json_round_trip_but_not_a_real_change() {
        let p = Polynomial::resnet_v2();
        let back: Polynomial = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        let mut changed = p.clone();
        changed.coefficients[9] *= 1.0 + 1e-9;
        assert_ne!(changed, p);
    }

    #[test]
    fn matches_the_published_evaluations() {
        // The values the reference brief lists for b = 1, 2, 5, 10, 20, to two decimals.
        let cases = [
            (
                Polynomial::inception_v4(),
                1024,
                [2.43, 3.75, 7.79, 14.83, 29.65],
            ),
            (
                Polynomial::inception_v4(),
                2048,
                [1.30, 2.03, 4.30, 8.28, 16.63],
            ),
            (
                Polynomial::inception_v4(),
                3008,
                [1.01, 1.51, 3.08, 5.80, 11.27],
            ),
            (
                Polynomial::resnet_v2(),
                1024,
                [3.07, 4.48, 8.74, 15.95, 31.21],
            ),
            (
                Polynomial::resnet_v2(),
                2048,
                [1.85, 2.64, 4.99, 8.96, 17.47],
            ),
            (
                Polynomial::resnet_v2(),
                3008,
                [1.53, 2.09, 3.77, 6.53, 12.41],
            ),
        ];
        for (profile, memory, expected) in cases {
            for (b, want) in [1, 2, 5, 10, 20].into_iter().zip(expected) {
                let got = profile.service_time(memory, b);
                assert!(
                    (got - want).abs() <= 0.005 + 1e-9,
                    "{} @{memory} b={b}: {got} vs {want}",
                    profile.name
                );
            }
        }
    }
}
