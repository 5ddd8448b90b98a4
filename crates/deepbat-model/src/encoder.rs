//! The sequence half of the network (`E1`) in plain Rust, for decisions.
//!
//! burn runs the encoder as some forty tensor operations, each with its own allocation and
//! dispatch, and takes its softmax exponentials one at a time: about 1.6 ms per window on one
//! core. The same arithmetic as loops over the weights copied out of the network takes a
//! fraction of that. This module mirrors [`crate::model::Surrogate::encode`] step by step
//! (post-norm encoder layers: `x = norm_1(x + attention(x))`, `x = norm_2(x + ff(x))`), and
//! a test holds it to burn's output. The attention block after mean pooling sees a sequence
//! of one, whose softmax weight is exactly 1, so it reduces to its value and output layers.

use crate::error::Result;
use crate::kernels::{Dense, Norm, dot, softmax};
use crate::model::{Surrogate, to_vec};

/// One encoder layer's weights.
#[derive(Debug, Clone)]
struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    output: Dense,
    norm_1: Norm,
    inner: Dense,
    outer: Dense,
    norm_2: Norm,
}

/// The sequence half's weights as plain arrays.
#[derive(Debug, Clone)]
pub(crate) struct FastEncoder {
    window: usize,
    d_model: usize,
    d_ff: usize,
    n_heads: usize,
    gap_embedding: Dense,
    gap_projection: Dense,
    /// The sinusoids added to the embedded window, `[window, d_model]`.
    positions: Vec<f32>,
    layers: Vec<Layer>,
    pooled_value: Dense,
    pooled_output: Dense,
}

impl FastEncoder {
    /// Copies the sequence half of `model`, for windows of `window` gaps.
    pub(crate) fn new(model: &Surrogate, window: usize) -> Result<Self> {
        let encoder = &model.encoder;
        let [_, _, d_model] = model.positional.sinusoids.dims();
        let positions = model
            .positional
            .sinusoids
            .clone()
            .slice([0..1, 0..window, 0..d_model]);
        let layers = encoder
            .layers
            .iter()
            .map(|layer| {
                Ok(Layer {
                    query: Dense::from_linear(&layer.mha.query, "encoder query")?,
                    key: Dense::from_linear(&layer.mha.key, "encoder key")?,
                    value: Dense::from_linear(&layer.mha.value, "encoder value")?,
                    output: Dense::from_linear(&layer.mha.output, "encoder attention output")?,
                    norm_1: Norm::from_layer_norm(&layer.norm_1, "encoder norm 1")?,
                    inner: Dense::from_linear(&layer.pwff.linear_inner, "encoder ff inner")?,
                    outer: Dense::from_linear(&layer.pwff.linear_outer, "encoder ff outer")?,
                    norm_2: Norm::from_layer_norm(&layer.norm_2, "encoder norm 2")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let attention = &model.pooled_attention;
        Ok(Self {
            window,
            d_model,
            d_ff: encoder.d_ff,
            n_heads: encoder.n_heads,
            gap_embedding: Dense::from_linear(&model.gap_embedding, "gap embedding")?,
            gap_projection: Dense::from_linear(&model.gap_projection, "gap projection")?,
            positions: to_vec(positions, "positions")?,
            layers,
            pooled_value: Dense::from_linear(&attention.value, "pooled attention value")?,
            pooled_output: Dense::from_linear(&attention.output, "pooled attention output")?,
        })
    }

    /// `E1` (`d_model` floats) of `window` scaled gaps.
    pub(crate) fn encode(&self, scaled_gaps: &[f32]) -> Vec<f32> {
        debug_assert_eq!(scaled_gaps.len(), self.window);
        pulp::Arch::new().dispatch(Encode {
            encoder: self,
            scaled_gaps,
        })
    }

    /// The body of [`FastEncoder::encode`], inlined into each instruction-set variant.
    #[inline(always)]
    fn encode_inline(&self, scaled_gaps: &[f32]) -> Vec<f32> {
        let d_model = self.d_model;
        let mut scratch = Scratch::default();

        // Per-element embedding, then positions.
        let mut xs = Vec::new();
        self.gap_embedding.rows(scaled_gaps, 1, &mut scratch.wide);
        for value in scratch.wide.iter_mut() {
            *value = value.max(0.0);
        }
        self.gap_projection.rows(&scratch.wide, d_model, &mut xs);
        for (x, position) in xs.iter_mut().zip(&self.positions) {
            *x += position;
        }

        for layer in &self.layers {
            self.layer(layer, &mut xs, &mut scratch);
        }

        // Mean over the window, then the pooled attention's value and output layers.
        let mut pooled = vec![0.0f32; d_model];
        for row in xs.chunks_exact(d_model) {
            for (sum, x) in pooled.iter_mut().zip(row) {
                *sum += x;
            }
        }
        for sum in pooled.iter_mut() {
            *sum /= self.window as f32;
        }
        let mut value = Vec::new();
        self.pooled_value.rows(&pooled, d_model, &mut value);
        let mut sequence = Vec::new();
        self.pooled_output.rows(&value, d_model, &mut sequence);
        sequence
    }

    /// One post-norm encoder layer, in place on `xs` (`[window, d_model]`).
    #[inline(always)]
    fn layer(&self, layer: &Layer, xs: &mut [f32], scratch: &mut Scratch) {
        let (n, d_model) = (self.window, self.d_model);
        let d_k = d_model / self.n_heads;
        layer.query.rows(xs, d_model, &mut scratch.query);
        layer.key.rows(xs, d_model, &mut scratch.key);
        layer.value.rows(xs, d_model, &mut scratch.value);

        // Keys and values transposed, column c of all positions contiguous: a query's scores
        // are then runs of multiply-adds, and its context dot products over positions.
        transpose(&scratch.key, n, d_model, &mut scratch.key_t);
        transpose(&scratch.value, n, d_model, &mut scratch.value_t);

        let scale = 1.0 / (d_k as f32).sqrt();
        scratch.context.clear();
        scratch.context.resize(n * d_model, 0.0);
        scratch.scores.resize(n, 0.0);
        for head in 0..self.n_heads {
            let columns = head * d_k..(head + 1) * d_k;
            for i in 0..n {
                let scores = &mut scratch.scores;
                scores.fill(0.0);
                let query = &scratch.query[i * d_model..(i + 1) * d_model][columns.clone()];
                for (c, q) in columns.clone().zip(query) {
                    let q = q * scale;
                    for (score, k) in scores.iter_mut().zip(&scratch.key_t[c * n..(c + 1) * n]) {
                        *score += q * k;
                    }
                }
                softmax(scores);
                for c in columns.clone() {
                    let values = &scratch.value_t[c * n..(c + 1) * n];
                    scratch.context[i * d_model + c] = dot(scores, values);
                }
            }
        }

        // Residual and norm around the attention, then around the feed-forward block.
        layer
            .output
            .rows(&scratch.context, d_model, &mut scratch.query);
        for (x, attention) in xs.iter_mut().zip(&scratch.query) {
            *x += attention;
        }
        layer.norm_1.apply(xs);
        layer.inner.rows(xs, d_model, &mut scratch.wide);
        for value in scratch.wide.iter_mut() {
            *value = value.max(0.0);
        }
        layer
            .outer
            .rows(&scratch.wide, self.d_ff, &mut scratch.query);
        for (x, feed_forward) in xs.iter_mut().zip(&scratch.query) {
            *x += feed_forward;
        }
        layer.norm_2.apply(xs);
    }
}

/// Writes the transpose of `matrix` (`[rows, columns]` row-major) into `out`.
#[inline(always)]
fn transpose(matrix: &[f32], rows: usize, columns: usize, out: &mut Vec<f32>) {
    out.resize(rows * columns, 0.0);
    for (j, row) in matrix.chunks_exact(columns).enumerate() {
        for (c, value) in row.iter().enumerate() {
            out[c * rows + j] = *value;
        }
    }
}

/// Buffers reused across the layers of one encoding.
#[derive(Default)]
struct Scratch {
    query: Vec<f32>,
    key: Vec<f32>,
    key_t: Vec<f32>,
    value: Vec<f32>,
    value_t: Vec<f32>,
    scores: Vec<f32>,
    context: Vec<f32>,
    wide: Vec<f32>,
}

/// The arguments of [`FastEncoder::encode_inline`] for pulp's dispatch.
struct Encode<'a> {
    encoder: &'a FastEncoder,
    scaled_gaps: &'a [f32],
}

impl pulp::WithSimd for Encode<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Vec<f32> {
        self.encoder.encode_inline(self.scaled_gaps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SurrogateConfig;
    use burn::prelude::*;

    /// The plain-Rust encoding against burn's, for both head counts and a few windows.
    #[test]
    fn agrees_with_burn() {
        let device = Device::flex();
        for n_heads in [2, 4] {
            let model = SurrogateConfig::new()
                .with_window(48)
                .with_n_heads(n_heads)
                .init_exclusive(&device, Some(n_heads as u64));
            let encoder = FastEncoder::new(&model, 48).unwrap();
            for shift in [0.0f32, 1.5, -2.0] {
                let gaps: Vec<f32> = (0..48)
                    .map(|k| ((k * 7) % 11) as f32 * 0.4 - shift)
                    .collect();
                let tensor = Tensor::from_data(TensorData::new(gaps.clone(), [1, 48]), &device);
                let reference = to_vec(model.encode(tensor), "e1").unwrap();
                let fast = encoder.encode(&gaps);
                assert_eq!(fast.len(), reference.len());
                for (k, (a, b)) in fast.iter().zip(&reference).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
                        "{n_heads} heads, {k}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
