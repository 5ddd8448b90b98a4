//! The surrogate network: a window of inter-arrival times and a configuration in, five scaled
//! figures (cost per request, p50, p90, p95, p99) out.
//!
//! The network has two halves that meet only in its head. The sequence half embeds each
//! scaled inter-arrival time with a small feed-forward layer, adds sinusoidal positions, runs
//! a Transformer encoder, averages over the window and refines the average with one
//! multi-head self-attention block (on a sequence of length one): that is `E1`. The
//! configuration half is a feed-forward embedding of the three scaled configuration features:
//! `E2`. The head reads `[E1, E2]` through one hidden ReLU layer. Because `E1` does not
//! depend on the configuration, a decision encodes its window once and runs only the head
//! per configuration (the crate's `encoder` and `scoring` modules hold the plain-Rust copies of
//! the two parts that decisions use).

use crate::error::{ModelError, Result};
use crate::normalise::{CONFIG_FEATURES, OUTPUTS};
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{
    Linear, LinearConfig, PositionalEncoding, PositionalEncodingConfig, Relu,
    activation::ActivationConfig,
};
use burn::prelude::*;

/// Serialises network initialisation; see [`SurrogateConfig::init_exclusive`].
static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Architecture of the surrogate. Saved in `model.json`.
///
/// The defaults are the paper's (2 encoder layers, `d_model` 16, feed-forward 32, ReLU) with
/// 2 attention heads: on the flex CPU backend 2 heads train about twice as fast as 4 (see
/// the crate docs for the figures), with the same validation error in a comparison run.
#[derive(Config, Debug, PartialEq)]
pub struct SurrogateConfig {
    /// Inter-arrival times per window. Default: 256.
    #[config(default = 256)]
    pub window: usize,
    /// Width of every embedding and of the encoder. Default: 16.
    #[config(default = 16)]
    pub d_model: usize,
    /// Width of the encoder's feed-forward layers and of the hidden layers of the
    /// configuration embedding and of the head. Default: 32.
    #[config(default = 32)]
    pub d_ff: usize,
    /// Attention heads, in the encoder and in the pooled attention block. Default: 2.
    #[config(default = 2)]
    pub n_heads: usize,
    /// Encoder layers. Default: 2.
    #[config(default = 2)]
    pub n_layers: usize,
    /// Dropout in the encoder and the attention blocks. Default: 0 (the model is small and
    /// the training windows overlap little).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Outputs: cost per request, p50, p90, p95, p99. Default and only value: 5.
    #[config(default = 5)]
    pub outputs: usize,
}

/// The surrogate network. Built by [`SurrogateConfig::init`].
#[derive(Module, Debug)]
pub struct Surrogate {
    pub(crate) gap_embedding: Linear,
    pub(crate) gap_projection: Linear,
    pub(crate) positional: PositionalEncoding,
    pub(crate) encoder: TransformerEncoder,
    pub(crate) pooled_attention: MultiHeadAttention,
    pub(crate) config_embedding: Linear,
    pub(crate) config_projection: Linear,
    pub(crate) head_hidden: Linear,
    pub(crate) head_output: Linear,
    pub(crate) activation: Relu,
}

impl SurrogateConfig {
    /// Checks that the sizes fit together.
    ///
    /// # Errors
    /// A zero size, `d_model` not divisible by `n_heads`, a dropout outside `[0, 1)`, or a
    /// number of outputs other than 5.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value: String, reason| {
            Err(ModelError::BadOption {
                name,
                value,
                reason,
            })
        };
        if self.window == 0 || self.d_model == 0 || self.d_ff == 0 || self.n_layers == 0 {
            return bad("architecture", format!("{self:?}"), "has a zero size");
        }
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            return bad("n_heads", self.n_heads.to_string(), "must divide d_model");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout", self.dropout.to_string(), "must be in [0, 1)");
        }
        if self.outputs != OUTPUTS {
            return bad("outputs", self.outputs.to_string(), "must be 5");
        }
        Ok(())
    }

    /// [`SurrogateConfig::init`], with every parameter drawn while holding the process-wide
    /// initialisation lock, after
    /// seeding the device when `seed` is given. burn's CPU random generator is shared by the
    /// whole process, so every initialisation in the crate goes through here: an unlocked
    /// one running beside a seeded one would make the seeded one irreproducible.
    pub(crate) fn init_exclusive(&self, device: &Device, seed: Option<u64>) -> Surrogate {
        let _guard = INIT_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(seed) = seed {
            device.seed(seed);
        }
        // burn draws parameters lazily, on first use; turning the network into a record
        // draws them all now, while the lock is held.
        let record = self.init(device).into_record();
        self.init(device).load_record(record)
    }

    /// Builds a freshly initialised network on `device`.
    pub fn init(&self, device: &Device) -> Surrogate {
        let encoder =
            TransformerEncoderConfig::new(self.d_model, self.d_ff, self.n_heads, self.n_layers)
                .with_dropout(self.dropout)
                .with_activation(ActivationConfig::Relu)
                .init(device);
        let pooled_attention = MultiHeadAttentionConfig::new(self.d_model, self.n_heads)
            .with_dropout(self.dropout)
            .init(device);
        Surrogate {
            gap_embedding: LinearConfig::new(1, self.d_model).init(device),
            gap_projection: LinearConfig::new(self.d_model, self.d_model).init(device),
            positional: PositionalEncodingConfig::new(self.d_model)
                .with_max_sequence_size(self.window)
                .init(device),
            encoder,
            pooled_attention,
            config_embedding: LinearConfig::new(CONFIG_FEATURES, self.d_ff).init(device),
            config_projection: LinearConfig::new(self.d_ff, self.d_model).init(device),
            head_hidden: LinearConfig::new(2 * self.d_model, self.d_ff).init(device),
            head_output: LinearConfig::new(self.d_ff, self.outputs).init(device),
            activation: Relu::new(),
        }
    }
}

impl Surrogate {
    /// The whole network.
    ///
    /// # Shapes
    /// - gaps: `[batch, window]`, scaled inter-arrival times
    /// - configs: `[batch, 3]`, scaled configuration features
    /// - output: `[batch, 5]`, scaled figures
    pub fn forward(&self, gaps: Tensor<2>, configs: Tensor<2>) -> Tensor<2> {
        let sequence = self.encode(gaps);
        let config = self.embed_config(configs);
        self.head(sequence, config)
    }

    /// The sequence half: `E1`.
    ///
    /// # Shapes
    /// - gaps: `[batch, window]`
    /// - output: `[batch, d_model]`
    pub fn encode(&self, gaps: Tensor<2>) -> Tensor<2> {
        let [batch, window] = gaps.dims();
        let xs = gaps.reshape([batch, window, 1]);
        let xs = self.gap_embedding.forward(xs);
        let xs = self.activation.forward(xs);
        let xs = self.gap_projection.forward(xs);
        let xs = self.positional.forward(xs);
        let xs = self.encoder.forward(TransformerEncoderInput::new(xs));
        let xs = xs.mean_dim(1);
        let xs = self
            .pooled_attention
            .forward(MhaInput::self_attn(xs))
            .context;
        let [_, _, d_model] = xs.dims();
        xs.reshape([batch, d_model])
    }

    /// The configuration half: `E2`.
    ///
    /// # Shapes
    /// - configs: `[batch, 3]`
    /// - output: `[batch, d_model]`
    pub fn embed_config(&self, configs: Tensor<2>) -> Tensor<2> {
        let xs = self.config_embedding.forward(configs);
        let xs = self.activation.forward(xs);
        let xs = self.config_projection.forward(xs);
        self.activation.forward(xs)
    }

    /// The head on `[E1, E2]`.
    ///
    /// # Shapes
    /// - sequence: `[batch, d_model]` (`E1`)
    /// - config: `[batch, d_model]` (`E2`)
    /// - output: `[batch, 5]`
    pub fn head(&self, sequence: Tensor<2>, config: Tensor<2>) -> Tensor<2> {
        let xs = Tensor::cat(vec![sequence, config], 1);
        let xs = self.head_hidden.forward(xs);
        let xs = self.activation.forward(xs);
        self.head_output.forward(xs)
    }
}

/// Reads a tensor's values as `f32`.
pub(crate) fn to_vec<const D: usize>(tensor: Tensor<D>, what: &'static str) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::Tensor {
            what,
            message: format!("{e:?}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_parameter_count() {
        let device = Device::flex();
        let config = SurrogateConfig::new().with_window(32);
        config.validate().unwrap();
        let model = config.init(&device);
        let gaps = Tensor::<2>::zeros([3, 32], &device);
        let configs = Tensor::<2>::zeros([3, CONFIG_FEATURES], &device);
        assert_eq!(model.forward(gaps, configs).dims(), [3, OUTPUTS]);
        // Sequence half 304 + 2 encoder layers of 2,224 + attention 1,088; config half
        // 128 + 528; head 1,056 + 165.
        assert_eq!(model.num_params(), 304 + 2 * 2_224 + 1_088 + 656 + 1_221);
    }

    #[test]
    fn rejects_heads_that_do_not_divide_d_model() {
        let err = SurrogateConfig::new()
            .with_n_heads(3)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("n_heads = 3"), "{err}");
    }
}
