//! The training loss: `mape_weight * MAPE + (1 - mape_weight) * Huber(delta)`.
//!
//! Huber is taken on the scaled (log, standardised) targets. MAPE is taken on the real
//! values: with `z` the predicted and `y` the true scaled target of an output whose log has
//! standard deviation `s`, the prediction over the truth is `exp(s (z - y))`, so
//!
//! # Formula
//! `APE = 100 * |exp(s (z - y)) - 1|`
//!
//! which is `100 |y_hat - y| / y` without ever dividing by a cost of 2e-7 USD. The exponent is
//! capped at [`MAX_LOG_RATIO`] so that a wild prediction early in training cannot overflow;
//! the cap is the denominator guard. The same loss exists twice: as tensor operations for
//! training ([`loss`]) and in `f64` for validation figures ([`Metrics`]); a test checks that
//! they agree.

use crate::normalise::OUTPUTS;
use burn::nn::loss::{HuberLossConfig, Reduction};
use burn::prelude::*;

/// Largest log-ratio of prediction to truth the MAPE term evaluates (`e^20` is 5e8).
pub const MAX_LOG_RATIO: f64 = 20.0;

/// The weights of the loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Weight of the MAPE term (percent); the Huber term gets `1 - mape_weight`.
    pub mape_weight: f64,
    /// Huber's switch from quadratic to linear, in scaled units.
    pub huber_delta: f64,
}

/// The combined loss of one batch, a one-element tensor.
///
/// # Shapes
/// - predictions, targets: `[batch, 5]`, scaled
/// - log_std: `[1, 5]`, the standard deviation of each output's log
/// - output: `[1]`
pub fn loss(
    predictions: Tensor<2>,
    targets: Tensor<2>,
    log_std: Tensor<2>,
    weights: LossWeights,
) -> Tensor<1> {
    let huber = HuberLossConfig::new(weights.huber_delta as f32)
        .init()
        .forward(predictions.clone(), targets.clone(), Reduction::Mean);
    let log_ratio = (predictions - targets) * log_std;
    let ape = log_ratio
        .clamp_max(MAX_LOG_RATIO)
        .exp()
        .sub_scalar(1.0)
        .abs();
    let mape = ape.mean().mul_scalar(100.0);
    mape.mul_scalar(weights.mape_weight) + huber.mul_scalar(1.0 - weights.mape_weight)
}

/// Running loss and per-output MAPE over many predictions, in `f64`.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    count: usize,
    huber_sum: f64,
    ape_sum: [f64; OUTPUTS],
}

impl Metrics {
    /// Adds one prediction `z` for the scaled target `y`.
    pub fn add(&mut self, z: &[f32], y: &[f32], log_std: &[f64; OUTPUTS], delta: f64) {
        self.count += 1;
        for o in 0..OUTPUTS {
            let error = f64::from(z[o]) - f64::from(y[o]);
            let magnitude = error.abs();
            self.huber_sum += if magnitude <= delta {
                0.5 * error * error
            } else {
                delta * (magnitude - 0.5 * delta)
            };
            let ratio = (log_std[o] * error).min(MAX_LOG_RATIO).exp();
            self.ape_sum[o] += 100.0 * (ratio - 1.0).abs();
        }
    }

    /// MAPE per output, percent, in [`crate::OUTPUT_NAMES`] order.
    pub fn mape(&self) -> [f64; OUTPUTS] {
        std::array::from_fn(|o| self.ape_sum[o] / self.count.max(1) as f64)
    }

    /// The combined loss, averaged like [`loss`] (over predictions and outputs).
    pub fn loss(&self, weights: LossWeights) -> f64 {
        let elements = (self.count.max(1) * OUTPUTS) as f64;
        let mape: f64 = self.ape_sum.iter().sum::<f64>() / elements;
        let huber = self.huber_sum / elements;
        weights.mape_weight * mape + (1.0 - weights.mape_weight) * huber
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_and_f64_losses_agree() {
        let device = Device::flex();
        let z = [0.1f32, -2.0, 0.5, 1.5, 0.0, 0.1, 0.2, -0.4, 0.9, 0.05];
        let y = [0.0f32, -1.5, 0.4, 0.0, 0.1, 0.2, 0.2, -0.5, 2.5, 0.0];
        let log_std = [1.5, 0.4, 0.5, 0.6, 0.8];
        let weights = LossWeights {
            mape_weight: 0.05,
            huber_delta: 1.0,
        };

        let tensor = |v: &[f32], rows| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [rows, OUTPUTS]), &device)
        };
        let std_row: Vec<f32> = log_std.iter().map(|s| *s as f32).collect();
        let value = loss(tensor(&z, 2), tensor(&y, 2), tensor(&std_row, 1), weights);
        let value: f32 = value.into_scalar();

        let mut metrics = Metrics::default();
        metrics.add(&z[..5], &y[..5], &log_std, 1.0);
        metrics.add(&z[5..], &y[5..], &log_std, 1.0);
        let expected = metrics.loss(weights);
        assert!(
            (f64::from(value) - expected).abs() < 1e-4 * expected,
            "{value} vs {expected}"
        );

        // Output 0 of the first prediction: exp(1.5 * 0.1) - 1 = 16.18 %; of the second:
        // exp(1.5 * -0.1) - 1 = -13.93 %: MAPE 15.06 %.
        assert!(
            (metrics.mape()[0] - 15.056).abs() < 1e-2,
            "{:?}",
            metrics.mape()
        );
    }
}
