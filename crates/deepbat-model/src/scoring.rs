//! Fast scoring of a whole grid: the window is encoded once, the head runs per configuration
//! in plain Rust.
//!
//! The head's first layer reads `[E1, E2]`, so its pre-activation splits into a part that
//! depends only on the window and a part that depends only on the configuration:
//!
//! # Formula
//! `hidden = relu(W1a E1 + (W1b E2 + b1))`, `output = W2 hidden + b2`
//!
//! The configuration part `W1b E2 + b1` is the same for every decision, so it is computed
//! once per grid when a model is loaded (`d_ff` floats per configuration: 3.6 MB for the
//! default grid). It is stored in blocks of [`LANES`] configurations, hidden unit by hidden
//! unit, so that a decision reads it front to back once while each block's outputs stay in
//! vector registers. A decision then costs one pass of the sequence half for `E1` (see
//! [`crate::encoder`]), `d_model * d_ff` multiply-adds for `W1a E1` and, per
//! configuration, `d_ff * (outputs + 2)` floating-point operations and five exponentials;
//! the loops are compiled for AVX2 too and chosen at run time (pulp), and the exponential is
//! a branch-free polynomial so that it vectorises with them.

use crate::error::{ModelError, Result};
use crate::kernels::exp;
use crate::model::{Surrogate, to_vec};
use crate::normalise::{CONFIG_FEATURES, Normaliser, OUTPUTS};
use burn::prelude::*;
use deepbat_core::Outcome;

/// Configurations scored side by side: one AVX2 register of `f32`.
const LANES: usize = 8;

/// The head's weights as plain arrays, with the configuration half precomputed for a grid.
#[derive(Debug, Clone)]
pub(crate) struct FastHead {
    d_model: usize,
    d_ff: usize,
    configs: usize,
    /// `W1a`, `[d_model, d_ff]` row-major.
    sequence_weight: Vec<f32>,
    /// `W1b E2 + b1`, `[blocks, d_ff, LANES]`: configuration `b * LANES + l`, hidden unit `j`
    /// at `(b * d_ff + j) * LANES + l`; the last block is padded with zeros.
    config_part: Vec<f32>,
    /// `W2`, `[d_ff, outputs]` row-major.
    output_weight: Vec<f32>,
    /// `b2`.
    output_bias: [f32; OUTPUTS],
}

impl FastHead {
    /// Extracts the head of `model` and precomputes the configuration part for the scaled
    /// configuration features `scaled_configs` (`[configs, 3]` row-major).
    pub(crate) fn new(
        model: &Surrogate,
        scaled_configs: Vec<f32>,
        device: &Device,
    ) -> Result<Self> {
        let weight = model.head_hidden.weight.val();
        let [two_d_model, d_ff] = weight.dims();
        let d_model = two_d_model / 2;
        let configs = scaled_configs.len() / CONFIG_FEATURES;
        let missing_bias = || ModelError::Tensor {
            what: "head bias",
            message: "no bias".into(),
        };

        // W1b E2 + b1 for every configuration, in one batched pass through burn.
        let hidden_bias = model
            .head_hidden
            .bias
            .as_ref()
            .ok_or_else(missing_bias)?
            .val();
        let features = TensorData::new(scaled_configs, [configs, CONFIG_FEATURES]);
        let config_embedding = model.embed_config(Tensor::from_data(features, device));
        let config_part = config_embedding
            .matmul(weight.clone().slice([d_model..two_d_model, 0..d_ff]))
            .add(hidden_bias.unsqueeze::<2>());
        let config_part = blocked(&to_vec(config_part, "configuration part")?, configs, d_ff);

        let output_bias = model
            .head_output
            .bias
            .as_ref()
            .ok_or_else(missing_bias)?
            .val();
        let output_bias = to_vec(output_bias, "head output bias")?;
        Ok(Self {
            d_model,
            d_ff,
            configs,
            sequence_weight: to_vec(weight.slice([0..d_model, 0..d_ff]), "head weight")?,
            config_part,
            output_weight: to_vec(model.head_output.weight.val(), "head output weight")?,
            output_bias: std::array::from_fn(|o| output_bias[o]),
        })
    }

    /// Number of configurations precomputed.
    pub(crate) fn len(&self) -> usize {
        self.configs
    }

    /// Scores every configuration for the window encoding `sequence` (`E1`, `d_model`
    /// floats) and writes de-normalised outcomes of `requests` requests into `out`.
    pub(crate) fn score(
        &self,
        sequence: &[f32],
        normaliser: &Normaliser,
        requests: usize,
        out: &mut Vec<Outcome>,
    ) {
        debug_assert_eq!(sequence.len(), self.d_model);

        // The window's share of the hidden pre-activation: W1a E1.
        let mut window_part = vec![0.0f32; self.d_ff];
        for (value, row) in sequence
            .iter()
            .zip(self.sequence_weight.chunks_exact(self.d_ff))
        {
            for (slot, w) in window_part.iter_mut().zip(row) {
                *slot += value * w;
            }
        }

        // De-normalisation as one multiply-add before the exponential.
        let scale: [f32; OUTPUTS] = std::array::from_fn(|o| normaliser.targets[o].std as f32);
        let shift: [f32; OUTPUTS] = std::array::from_fn(|o| normaliser.targets[o].mean as f32);

        out.clear();
        out.reserve(self.configs);
        let window_part = &window_part;
        let blocks = Blocks {
            head: self,
            window_part,
            scale,
            shift,
            requests,
            out,
        };
        pulp::Arch::new().dispatch(blocks);
    }

    /// The loops of [`FastHead::score`], inlined into each instruction-set variant.
    ///
    /// Indexed loops over fixed-size arrays on purpose: they unroll into whole-register
    /// operations that keep a block's outputs in registers.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)]
    fn score_blocks(
        &self,
        window_part: &[f32],
        scale: [f32; OUTPUTS],
        shift: [f32; OUTPUTS],
        requests: usize,
        out: &mut Vec<Outcome>,
    ) {
        let d_ff = self.d_ff;
        for (block, part) in self.config_part.chunks_exact(d_ff * LANES).enumerate() {
            let mut output = [[0.0f32; LANES]; OUTPUTS];
            for o in 0..OUTPUTS {
                output[o] = [self.output_bias[o]; LANES];
            }
            for j in 0..d_ff {
                let pre = &part[j * LANES..(j + 1) * LANES];
                let mut hidden = [0.0f32; LANES];
                for l in 0..LANES {
                    hidden[l] = (pre[l] + window_part[j]).max(0.0);
                }
                for o in 0..OUTPUTS {
                    let w = self.output_weight[j * OUTPUTS + o];
                    for l in 0..LANES {
                        output[o][l] += hidden[l] * w;
                    }
                }
            }
            for o in 0..OUTPUTS {
                for l in 0..LANES {
                    output[o][l] = exp(output[o][l] * scale[o] + shift[o]);
                }
            }
            let len = LANES.min(self.configs - block * LANES);
            out.extend((0..len).map(|l| Outcome {
                requests,
                cost_per_request: f64::from(output[0][l]),
                p50: f64::from(output[1][l]),
                p90: f64::from(output[2][l]),
                p95: f64::from(output[3][l]),
                p99: f64::from(output[4][l]),
                mean_batch: 0.0,
            }));
        }
    }
}

/// Re-lays `[configs, d_ff]` row-major values as `[blocks, d_ff, LANES]`, zero-padded.
fn blocked(values: &[f32], configs: usize, d_ff: usize) -> Vec<f32> {
    let blocks = configs.div_ceil(LANES);
    let mut out = vec![0.0; blocks * d_ff * LANES];
    for (config, row) in values.chunks_exact(d_ff).enumerate() {
        let (block, lane) = (config / LANES, config % LANES);
        for (j, value) in row.iter().enumerate() {
            out[(block * d_ff + j) * LANES + lane] = *value;
        }
    }
    out
}

/// The arguments of [`FastHead::score_blocks`], as pulp's dispatch wants them: a value whose
/// `with_simd` is inlined into a function compiled for each instruction set.
struct Blocks<'a> {
    head: &'a FastHead,
    window_part: &'a [f32],
    scale: [f32; OUTPUTS],
    shift: [f32; OUTPUTS],
    requests: usize,
    out: &'a mut Vec<Outcome>,
}

impl pulp::WithSimd for Blocks<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Self {
            head,
            window_part,
            scale,
            shift,
            requests,
            out,
        } = self;
        head.score_blocks(window_part, scale, shift, requests, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::FastEncoder;
    use crate::model::SurrogateConfig;
    use crate::normalise::Standardiser;
    use deepbat_core::Grid;
    use std::time::Instant;

    /// Prints the time of the two halves of one decision over the default grid with an
    /// untrained default-size network. Run with
    /// `cargo test --release -p deepbat-model --lib -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, not a check: run by hand in release"]
    fn time_one_decision() {
        let device = Device::flex();
        let model = SurrogateConfig::new().init(&device);
        let unit = Standardiser {
            mean: 0.0,
            std: 1.0,
        };
        let normaliser = Normaliser {
            gap_epsilon: 1e-6,
            gap: unit,
            config: [unit; 3],
            targets: [
                Standardiser {
                    mean: -15.0,
                    std: 0.5,
                },
                unit,
                unit,
                unit,
                unit,
            ],
        };
        let grid = Grid::default();
        let head = FastHead::new(&model, normaliser.configs(grid.configs()), &device).unwrap();
        let encoder = FastEncoder::new(&model, 256).unwrap();
        let window: Vec<f32> = (0..256).map(|k| (k % 7) as f32 * 0.3 - 1.0).collect();
        let time = |f: &mut dyn FnMut()| {
            let mut times: Vec<f64> = (0..300)
                .map(|_| {
                    let started = Instant::now();
                    f();
                    started.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            times.sort_by(f64::total_cmp);
            format!("median {:.3} ms, best {:.3} ms", times[150], times[0])
        };
        let burn = time(&mut || {
            let gaps = Tensor::from_data(TensorData::new(window.clone(), [1, 256]), &device);
            to_vec(model.encode(gaps), "e1").unwrap();
        });
        let plain = time(&mut || {
            encoder.encode(&window);
        });
        let sequence = encoder.encode(&window);
        let mut out = Vec::new();
        let scoring = time(&mut || head.score(&sequence, &normaliser, 256, &mut out));
        println!("encode, burn: {burn}");
        println!("encode, plain Rust: {plain}");
        println!("head over {} configurations: {scoring}", head.len());
    }
}
