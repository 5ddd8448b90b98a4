//! The scaling between the simulator's units and the network's, saved with every model.
//!
//! The network never sees seconds or dollars. An inter-arrival time `g` enters as
//! `ln(g + epsilon)` standardised by the training mean and standard deviation (the log makes
//! microsecond bursts and minute-long pauses comparable; `epsilon` keeps zero gaps, several
//! requests with one timestamp, finite). A configuration enters as three standardised
//! features: `ln memory_mb`, `ln batch_size` and the timeout in seconds (the timeout is kept
//! linear because it may be zero and latency grows about linearly with it). Each of the five
//! targets (cost per request, p50, p90, p95, p99) is log-scaled and standardised on its own,
//! so that a 10 % error weighs the same on a 2e-7 USD cost as on a 150 ms latency.
//!
//! All statistics come from the training split only and travel in `model.json`.

use crate::data::Sample;
use crate::error::{ModelError, Result};
use deepbat_core::{Config, Outcome};
use serde::{Deserialize, Serialize};

/// Number of configuration features.
pub const CONFIG_FEATURES: usize = 3;

/// The outputs of the surrogate, in the order of the network's output vector.
pub const OUTPUT_NAMES: [&str; 5] = ["cost_per_request", "p50", "p90", "p95", "p99"];

/// Number of outputs.
pub const OUTPUTS: usize = OUTPUT_NAMES.len();

/// Added to every inter-arrival time before its logarithm, seconds (one microsecond).
pub const GAP_EPSILON: f64 = 1e-6;

/// A standard deviation below this is treated as 1 (a feature that never varies, such as
/// the memory of a one-memory grid, must not be divided by zero).
const MIN_STD: f64 = 1e-9;

/// The mean and standard deviation of one quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standardiser {
    pub mean: f64,
    pub std: f64,
}

impl Standardiser {
    /// Fits the mean and (population) standard deviation of `values`.
    pub fn fit(values: impl Iterator<Item = f64> + Clone) -> Self {
        let (count, sum) = values
            .clone()
            .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
        let mean = if count == 0 { 0.0 } else { sum / count as f64 };
        let square_sum: f64 = values.map(|v| (v - mean) * (v - mean)).sum();
        let std = (square_sum / count.max(1) as f64).sqrt();
        Self {
            mean,
            std: if std < MIN_STD { 1.0 } else { std },
        }
    }

    /// `(value - mean) / std`.
    pub fn apply(&self, value: f64) -> f64 {
        (value - self.mean) / self.std
    }

    /// `z * std + mean`.
    pub fn invert(&self, z: f64) -> f64 {
        z * self.std + self.mean
    }
}

/// Every statistic the network's inputs and outputs are scaled by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normaliser {
    /// Added to gaps before the logarithm, seconds.
    pub gap_epsilon: f64,
    /// Statistics of `ln(gap + gap_epsilon)`.
    pub gap: Standardiser,
    /// Statistics of `ln memory_mb`, `ln batch_size` and `timeout` (seconds).
    pub config: [Standardiser; CONFIG_FEATURES],
    /// Statistics of the natural log of each output, in [`OUTPUT_NAMES`] order.
    pub targets: [Standardiser; OUTPUTS],
}

/// The raw configuration features before standardisation.
pub fn config_features(config: &Config) -> [f64; CONFIG_FEATURES] {
    [
        f64::from(config.memory_mb).ln(),
        f64::from(config.batch_size.max(1)).ln(),
        config.timeout,
    ]
}

/// The five targets of an outcome, in [`OUTPUT_NAMES`] order.
pub fn targets(outcome: &Outcome) -> [f64; OUTPUTS] {
    [
        outcome.cost_per_request,
        outcome.p50,
        outcome.p90,
        outcome.p95,
        outcome.p99,
    ]
}

impl Normaliser {
    /// Fits the statistics on training samples.
    ///
    /// # Errors
    /// A target that is zero, negative or not finite ([`ModelError::BadTarget`]).
    pub fn fit(samples: &[&Sample]) -> Result<Self> {
        for (index, sample) in samples.iter().enumerate() {
            let values = targets(&sample.outcome);
            if let Some(k) = values.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                let (name, value) = (OUTPUT_NAMES[k], values[k]);
                return Err(ModelError::BadTarget {
                    sample: index,
                    name,
                    value,
                });
            }
        }
        let log_gaps = samples
            .iter()
            .flat_map(|s| s.gaps.iter().map(|g| (g + GAP_EPSILON).ln()));
        let config = std::array::from_fn(|k| {
            Standardiser::fit(samples.iter().map(move |s| config_features(&s.config)[k]))
        });
        let targets = std::array::from_fn(|k| {
            Standardiser::fit(samples.iter().map(move |s| targets(&s.outcome)[k].ln()))
        });
        Ok(Self {
            gap_epsilon: GAP_EPSILON,
            gap: Standardiser::fit(log_gaps),
            config,
            targets,
        })
    }

    /// Appends the scaled `gaps` to `out`.
    pub fn extend_gaps(&self, gaps: &[f64], out: &mut Vec<f32>) {
        out.extend(
            gaps.iter()
                .map(|g| self.gap.apply((g + self.gap_epsilon).ln()) as f32),
        );
    }

    /// The scaled features of one configuration.
    pub fn config(&self, config: &Config) -> [f32; CONFIG_FEATURES] {
        let raw = config_features(config);
        std::array::from_fn(|k| self.config[k].apply(raw[k]) as f32)
    }

    /// The scaled features of `configs`, row-major `[configs, 3]`.
    pub fn configs(&self, configs: impl Iterator<Item = Config>) -> Vec<f32> {
        configs.flat_map(|c| self.config(&c)).collect()
    }

    /// The scaled targets of one outcome (all positive: checked by [`Normaliser::fit`]).
    pub fn targets(&self, outcome: &Outcome) -> [f32; OUTPUTS] {
        let raw = targets(outcome);
        std::array::from_fn(|k| self.targets[k].apply(raw[k].ln()) as f32)
    }

    /// Turns the network's output `z` (scaled, [`OUTPUT_NAMES`] order) into an outcome of
    /// `requests` requests. The mean batch size is not predicted and is left at zero.
    pub fn outcome(&self, z: &[f32], requests: usize) -> Outcome {
        let value = |k: usize| self.targets[k].invert(f64::from(z[k])).exp();
        Outcome {
            requests,
            cost_per_request: value(0),
            p50: value(1),
            p90: value(2),
            p95: value(3),
            p99: value(4),
            mean_batch: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardiser_round_trips_and_survives_constant_input() {
        let s = Standardiser::fit([1.0, 2.0, 3.0, 4.0].into_iter());
        assert!((s.mean - 2.5).abs() < 1e-12);
        // Population std of 1..=4 is sqrt(1.25).
        assert!((s.std - 1.25f64.sqrt()).abs() < 1e-12);
        assert!((s.invert(s.apply(3.7)) - 3.7).abs() < 1e-12);
        let constant = Standardiser::fit([5.0, 5.0].into_iter());
        assert_eq!(constant.std, 1.0);
        assert_eq!(constant.apply(5.0), 0.0);
    }

    #[test]
    fn rejects_non_positive_targets() {
        let mut outcome = Outcome {
            requests: 2,
            p50: 0.1,
            p90: 0.1,
            p95: 0.1,
            p99: 0.1,
            ..Default::default()
        };
        outcome.cost_per_request = 0.0;
        let config = Config {
            memory_mb: 1024,
            batch_size: 4,
            timeout: 0.01,
        };
        let samples = [Sample {
            gaps: vec![0.1, 0.2],
            config,
            outcome,
        }];
        let err = Normaliser::fit(&[&samples[0]]).unwrap_err().to_string();
        assert!(err.contains("cost_per_request = 0"), "{err}");
    }
}
