//! The few numeric kernels the plain-Rust inference path is made of: a dense layer over rows,
//! layer normalisation, softmax and a vectorisable exponential.
//!
//! They are written as simple loops over contiguous slices, marked `#[inline(always)]`, so
//! that when [`crate::encoder`] and [`crate::scoring`] call them from inside a pulp dispatch
//! they are compiled for the instruction set chosen at run time (AVX2 where present) and
//! vectorise there.

use crate::error::{ModelError, Result};
use crate::model::to_vec;
use burn::nn::{LayerNorm, Linear};

/// Partial sums kept side by side by the reductions: one AVX2 register of `f32`.
const LANES: usize = 8;

/// burn's layer-norm epsilon, `TransformerEncoderConfig::layer_norm_eps` (not overridden).
pub(crate) const LAYER_NORM_EPSILON: f32 = 1e-5;

/// A linear layer's weights: `y = x W + b` with `W` `[d_in, d_out]` row-major.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    pub(crate) d_out: usize,
    pub(crate) weight: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

impl Dense {
    /// Copies the weights of a burn linear layer (row layout, the default).
    pub(crate) fn from_linear(linear: &Linear, what: &'static str) -> Result<Self> {
        let [_, d_out] = linear.weight.val().dims();
        let bias = match &linear.bias {
            Some(bias) => to_vec(bias.val(), what)?,
            None => {
                return Err(ModelError::Tensor {
                    what,
                    message: "no bias".into(),
                });
            }
        };
        Ok(Self {
            d_out,
            weight: to_vec(linear.weight.val(), what)?,
            bias,
        })
    }

    /// Applies the layer to each row of `input` (`[rows, d_in]`), replacing `out`.
    #[inline(always)]
    pub(crate) fn rows(&self, input: &[f32], d_in: usize, out: &mut Vec<f32>) {
        let rows = input.len() / d_in;
        out.clear();
        out.resize(rows * self.d_out, 0.0);
        for (x, y) in input
            .chunks_exact(d_in)
            .zip(out.chunks_exact_mut(self.d_out))
        {
            y.copy_from_slice(&self.bias);
            for (value, weights) in x.iter().zip(self.weight.chunks_exact(self.d_out)) {
                for (acc, w) in y.iter_mut().zip(weights) {
                    *acc += value * w;
                }
            }
        }
    }
}

/// A layer norm's scale and shift.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    pub(crate) fn from_layer_norm(norm: &LayerNorm, what: &'static str) -> Result<Self> {
        let gamma = to_vec(norm.gamma.val(), what)?;
        let beta = match &norm.beta {
            Some(beta) => to_vec(beta.val(), what)?,
            None => vec![0.0; gamma.len()],
        };
        Ok(Self { gamma, beta })
    }

    /// Normalises each row of `rows` in place: `(x - mean) / sqrt(var + eps) * gamma + beta`
    /// with the population variance.
    #[inline(always)]
    pub(crate) fn apply(&self, rows: &mut [f32]) {
        let width = self.gamma.len();
        for row in rows.chunks_exact_mut(width) {
            let mean = sum(row) / width as f32;
            let variance = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / width as f32;
            let inverse = 1.0 / (variance + LAYER_NORM_EPSILON).sqrt();
            for ((x, gamma), beta) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *x = (*x - mean) * inverse * gamma + beta;
            }
        }
    }
}

/// Replaces `values` by their softmax.
#[inline(always)]
pub(crate) fn softmax(values: &mut [f32]) {
    let max = max(values);
    for value in values.iter_mut() {
        *value = exp(*value - max);
    }
    let inverse = 1.0 / sum(values);
    for value in values.iter_mut() {
        *value *= inverse;
    }
}

/// `sum(a_k b_k)`, in [`LANES`] partial sums so that it vectorises (the order of the
/// additions differs from a left-to-right sum by rounding only).
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let whole = a.len().min(b.len()) / LANES * LANES;
    let mut partial = [0.0f32; LANES];
    for (x, y) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
    {
        for l in 0..LANES {
            partial[l] += x[l] * y[l];
        }
    }
    let tail: f32 = a[whole..].iter().zip(&b[whole..]).map(|(x, y)| x * y).sum();
    partial.iter().sum::<f32>() + tail
}

/// The sum of `values`, in [`LANES`] partial sums.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn sum(values: &[f32]) -> f32 {
    let whole = values.len() / LANES * LANES;
    let mut partial = [0.0f32; LANES];
    for chunk in values[..whole].chunks_exact(LANES) {
        for l in 0..LANES {
            partial[l] += chunk[l];
        }
    }
    partial.iter().sum::<f32>() + values[whole..].iter().sum::<f32>()
}

/// The largest of `values` (negative infinity for none), in [`LANES`] partial maxima.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn max(values: &[f32]) -> f32 {
    let whole = values.len() / LANES * LANES;
    let mut partial = [f32::NEG_INFINITY; LANES];
    for chunk in values[..whole].chunks_exact(LANES) {
        for l in 0..LANES {
            partial[l] = partial[l].max(chunk[l]);
        }
    }
    let tail = values[whole..]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    partial.iter().copied().fold(tail, f32::max)
}

/// `e^x` in `f32` without branches, so that loops over it vectorise.
///
/// # Formula
/// `e^x = 2^n e^r` with `n = round(x / ln 2)` and `|r| <= ln 2 / 2`; `e^r` is its Taylor
/// polynomial of degree 6, whose truncation error is below `0.35^7 / 7! = 1.3e-7` relative.
/// `x` is clamped to `[-87, 88]`, where `2^n` is a normal `f32`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n * LN2_HIGH is exact for the n in range.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer in any SIMD width.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let rounded = x * LOG2_E + ROUND;
    let n = rounded - ROUND;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let poly = 1.0
        + r * (1.0
            + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r / 720.0)))));
    // The low mantissa bits of `rounded` hold n; shifted into the exponent field, the bits
    // above them (those of 1.5 * 2^23, zero in the low 9 bits) fall off the top.
    let two_to_n = f32::from_bits(rounded.to_bits().wrapping_add(127) << 23);
    poly * two_to_n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_the_standard_library() {
        let mut worst = 0.0f64;
        for k in -80_000..=80_000 {
            let x = k as f32 * 1e-3;
            let reference = f64::from(x).exp();
            worst = worst.max((f64::from(exp(x)) - reference).abs() / reference);
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut values = [1.0f32, 3.0, -2.0, 3.0];
        softmax(&mut values);
        assert!((values.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // e^1 / (e^1 + 2 e^3 + e^-2) = 2.7183 / 43.0242 = 0.06318.
        assert!((values[0] - 0.063_18).abs() < 1e-4, "{values:?}");
        assert_eq!(values[1], values[3]);
    }

    #[test]
    fn reductions_agree_with_plain_loops() {
        let a: Vec<f32> = (0..29).map(|k| (k as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..29).map(|k| (k as f32 * 0.11).cos()).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-5);
        assert!((sum(&a) - a.iter().sum::<f32>()).abs() < 1e-5);
        assert_eq!(max(&a), a.iter().copied().fold(f32::NEG_INFINITY, f32::max));
        assert_eq!(max(&[]), f32::NEG_INFINITY);
    }

    #[test]
    fn layer_norm_centres_and_scales_rows() {
        let norm = Norm {
            gamma: vec![2.0; 4],
            beta: vec![1.0; 4],
        };
        let mut rows = [1.0f32, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0];
        norm.apply(&mut rows);
        // Row 1: mean 2.5, variance 1.25: (1 - 2.5) / sqrt(1.25 + 1e-5) * 2 + 1 = -1.683.
        assert!((rows[0] + 1.683_27).abs() < 1e-4, "{rows:?}");
        // A constant row becomes beta.
        assert!(rows[4..].iter().all(|x| (x - 1.0).abs() < 1e-6));
    }
}
