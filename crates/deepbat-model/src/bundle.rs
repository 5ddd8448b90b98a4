//! A trained model as a directory: `model.bpk` (burn's weights) and `model.json` (everything
//! needed to use them, see [`crate::meta`]), and the operations on a loaded model.
//!
//! A model predicts figures for the profile and pricing it was trained on, so using
//! it with another profile or grid is refused unless forced ([`Bundle::check_compatible`]).
//! Loading precomputes the configuration half of the head for the bundle's grid, which is
//! what makes [`Bundle::predict_grid`] fast (see the crate docs); a forced use with
//! another grid precomputes it for that grid instead ([`Bundle::set_scoring_grid`]).

use crate::encoder::FastEncoder;
use crate::error::{ModelError, Result};
use crate::meta::{BundleMeta, META_FILE, WEIGHTS_FILE, describe_grid, read_meta};
use crate::model::{Surrogate, SurrogateConfig, to_vec};
use crate::normalise::OUTPUTS;
use crate::scoring::FastHead;
use burn::prelude::*;
use deepbat_core::{Config, Grid, Outcome, Pricing, ProfileSpec};
use std::path::Path;

/// A trained surrogate ready to score decisions.
#[derive(Debug, Clone)]
pub struct Bundle {
    meta: BundleMeta,
    model: Surrogate,
    device: Device,
    encoder: FastEncoder,
    /// The grid [`Bundle::predict_grid`] scores: the trained grid unless replaced.
    scoring_grid: Grid,
    head: FastHead,
}

impl Bundle {
    /// Wraps a network (inference mode, CPU) and its metadata, copying out the plain-Rust
    /// encoder and head and precomputing the head's configuration half for the grid.
    pub(crate) fn new(meta: BundleMeta, model: Surrogate) -> Result<Self> {
        let device = Device::flex();
        let features = meta.normaliser.configs(meta.grid.configs());
        let head = FastHead::new(&model, features, &device)?;
        let encoder = FastEncoder::new(&model, meta.window)?;
        Ok(Self {
            scoring_grid: meta.grid.clone(),
            meta,
            model,
            device,
            encoder,
            head,
        })
    }

    /// Makes [`Bundle::predict_grid`] score `grid` instead (a few milliseconds for the
    /// default grid). The metadata keeps the grid the model was trained on: a model predicts
    /// best inside the ranges it has seen, which [`Bundle::check_compatible`] is for.
    ///
    /// # Errors
    /// Weights that cannot be read back from burn.
    pub fn set_scoring_grid(&mut self, grid: Grid) -> Result<()> {
        let features = self.meta.normaliser.configs(grid.configs());
        self.head = FastHead::new(&self.model, features, &self.device)?;
        self.scoring_grid = grid;
        Ok(())
    }

    /// Writes `model.bpk` and `model.json` into `dir`, creating it if needed.
    ///
    /// # Errors
    /// The directory or a file cannot be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let weights = dir.join(WEIGHTS_FILE);
        self.model
            .clone()
            .save_file(&weights)
            .map_err(|e| ModelError::Weights {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        let meta = dir.join(META_FILE);
        let text =
            serde_json::to_string_pretty(&self.meta).map_err(|source| ModelError::Metadata {
                path: meta.clone(),
                source,
            })?;
        std::fs::write(&meta, text + "\n")
            .map_err(|source| ModelError::Io { path: meta, source })?;
        tracing::info!(dir = %dir.display(), "saved model");
        Ok(())
    }

    /// Reads a model directory written by [`Bundle::save`].
    ///
    /// # Errors
    /// A missing directory or file (named), malformed metadata, another format version, or
    /// weights that do not fit the architecture.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::NoDirectory {
                path: dir.to_path_buf(),
            });
        }
        let meta_path = dir.join(META_FILE);
        let weights = dir.join(WEIGHTS_FILE);
        for path in [&meta_path, &weights] {
            if !path.is_file() {
                return Err(ModelError::MissingFile { path: path.clone() });
            }
        }
        let meta = read_meta(&meta_path)?;

        let device = Device::flex();
        let model = meta
            .architecture
            .init_exclusive(&device, None)
            .try_load_file(&weights)
            .map_err(|e| ModelError::Weights {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        Self::new(meta, model)
    }

    /// Whether the model may be used for `profile` and `grid`: a mismatch is an error unless
    /// `force` is set, in which case it is logged as a warning.
    ///
    /// # Errors
    /// [`ModelError::ProfileMismatch`] or [`ModelError::GridMismatch`] when not forced.
    pub fn check_compatible(&self, profile: &ProfileSpec, grid: &Grid, force: bool) -> Result<()> {
        let mut problems = Vec::new();
        if &self.meta.profile != profile {
            problems.push(ModelError::ProfileMismatch {
                model: self.meta.profile.describe(),
                requested: profile.describe(),
            });
        }
        if &self.meta.grid != grid {
            problems.push(ModelError::GridMismatch {
                model_len: self.meta.grid.len(),
                model: describe_grid(&self.meta.grid),
                requested_len: grid.len(),
                requested: describe_grid(grid),
            });
        }
        match problems.into_iter().next() {
            None => Ok(()),
            Some(problem) if force => {
                tracing::warn!("{problem}: forced");
                Ok(())
            }
            Some(problem) => Err(problem),
        }
    }

    /// Predicted outcomes of every configuration of the scoring grid (the trained grid unless
    /// [`Bundle::set_scoring_grid`] replaced it), in grid index order, for the last `window`
    /// of `gaps` (inter-arrival times in seconds, oldest first).
    ///
    /// Each outcome has `requests = window` and `mean_batch = 0` (not predicted).
    ///
    /// # Errors
    /// Fewer gaps than the window, or a negative or non-finite gap.
    pub fn predict_grid(&self, gaps: &[f64]) -> Result<Vec<Outcome>> {
        let mut out = Vec::with_capacity(self.head.len());
        self.predict_grid_into(gaps, &mut out)?;
        Ok(out)
    }

    /// [`Bundle::predict_grid`] into a reused buffer (its contents are replaced).
    ///
    /// The window is encoded by the plain-Rust copy of the sequence half and scored by the
    /// plain-Rust head; both agree with burn's forward pass to 1e-4 relative (tested).
    ///
    /// # Errors
    /// As [`Bundle::predict_grid`].
    pub fn predict_grid_into(&self, gaps: &[f64], out: &mut Vec<Outcome>) -> Result<()> {
        let sequence = self.encoder.encode(&self.scaled_window(gaps)?);
        self.head
            .score(&sequence, &self.meta.normaliser, self.meta.window, out);
        Ok(())
    }

    /// Predicted outcomes of arbitrary `configs` for the last `window` of `gaps`, through
    /// burn (the window is encoded once and the head runs as one batch).
    ///
    /// # Errors
    /// As [`Bundle::predict_grid`].
    pub fn predict(&self, gaps: &[f64], configs: &[Config]) -> Result<Vec<Outcome>> {
        if configs.is_empty() {
            return Ok(Vec::new());
        }
        let sequence = self.encode(gaps)?.repeat_dim(0, configs.len());
        let features = self.meta.normaliser.configs(configs.iter().copied());
        let features =
            TensorData::new(features, [configs.len(), crate::normalise::CONFIG_FEATURES]);
        let config = self
            .model
            .embed_config(Tensor::from_data(features, &self.device));
        let scaled = to_vec(self.model.head(sequence, config), "predictions")?;
        let normaliser = &self.meta.normaliser;
        Ok(scaled
            .chunks_exact(OUTPUTS)
            .map(|z| normaliser.outcome(z, self.meta.window))
            .collect())
    }

    /// `E1` of the last `window` gaps through burn, `[1, d_model]`.
    fn encode(&self, gaps: &[f64]) -> Result<Tensor<2>> {
        let scaled = self.scaled_window(gaps)?;
        let tensor = TensorData::new(scaled, [1, self.meta.window]);
        Ok(self.model.encode(Tensor::from_data(tensor, &self.device)))
    }

    /// The last `window` gaps, checked and scaled.
    fn scaled_window(&self, gaps: &[f64]) -> Result<Vec<f32>> {
        let window = self.meta.window;
        if gaps.len() < window {
            return Err(ModelError::GapsTooShort {
                got: gaps.len(),
                window,
            });
        }
        let recent = &gaps[gaps.len() - window..];
        if let Some(index) = recent.iter().position(|g| !(g.is_finite() && *g >= 0.0)) {
            let index = gaps.len() - window + index;
            return Err(ModelError::BadGap {
                index,
                value: gaps[index],
            });
        }
        let mut scaled = Vec::with_capacity(window);
        self.meta.normaliser.extend_gaps(recent, &mut scaled);
        Ok(scaled)
    }

    /// The metadata.
    pub fn meta(&self) -> &BundleMeta {
        &self.meta
    }

    /// The network (inference mode, flex CPU backend).
    pub fn model(&self) -> &Surrogate {
        &self.model
    }

    /// The grid the model was trained on.
    pub fn grid(&self) -> &Grid {
        &self.meta.grid
    }

    /// The grid [`Bundle::predict_grid`] scores.
    pub fn scoring_grid(&self) -> &Grid {
        &self.scoring_grid
    }

    /// The service profile the labels were simulated with.
    pub fn profile(&self) -> &ProfileSpec {
        &self.meta.profile
    }

    /// The pricing the labels were simulated with.
    pub fn pricing(&self) -> &Pricing {
        &self.meta.pricing
    }

    /// Inter-arrival times per decision.
    pub fn window(&self) -> usize {
        self.meta.window
    }

    /// The network's architecture.
    pub fn architecture(&self) -> &SurrogateConfig {
        &self.meta.architecture
    }

    /// Trainable parameters of the network.
    pub fn num_params(&self) -> usize {
        self.model.num_params()
    }
}
