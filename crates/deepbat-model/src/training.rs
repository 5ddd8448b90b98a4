//! Training and fine-tuning: Adam on the combined loss, a held-out validation split, early
//! stopping, and the best checkpoint kept.
//!
//! The samples are shuffled once with the run's seed and split into training and validation
//! parts; the scaling statistics come from the training part only. Every epoch visits the
//! training part in a fresh seeded order, in mini-batches, then scores the validation part
//! with the network in inference mode. The network of the epoch with the lowest validation
//! loss is the one returned; training stops after `patience` epochs without improvement.
//! Weight initialisation is seeded through the device's generator (under a lock, because
//! burn's CPU generator is process-wide), so a seed gives the same model on the same backend.
//!
//! Fine-tuning continues from a saved model with its scaling statistics unchanged: the
//! network's weights are only meaningful for the inputs they were trained on.

use crate::bundle::Bundle;
use crate::data::{LabelTarget, Sample};
use crate::epochs::run;
use crate::error::{ModelError, Result};
use crate::loss::LossWeights;
use crate::meta::{BundleMeta, FORMAT_VERSION, TrainingSummary};
use crate::model::SurrogateConfig;
use crate::normalise::{Normaliser, OUTPUTS};
use burn::prelude::*;
use deepbat_core::{Grid, Pricing, ProfileSpec};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use serde::Serialize;

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Architecture of a new model (ignored by [`fine_tune`], which keeps the saved one).
    pub architecture: SurrogateConfig,
    /// Most passes over the training split. Default: 100.
    pub epochs: usize,
    /// Samples per optimiser step. Default: 8.
    pub batch_size: usize,
    /// Adam's learning rate. Default: 1e-3.
    pub learning_rate: f64,
    /// Epochs without a better validation loss before stopping. Default: 10.
    pub patience: usize,
    /// Share of the samples held out for validation. Default: 0.1.
    pub validation_fraction: f64,
    /// Seed of the split, the shuffles and the initial weights. Default: 0.
    pub seed: u64,
    /// Loss weights. Default: MAPE 0.05, Huber delta 1 (the paper's).
    pub loss: LossWeights,
    /// Where to train. Default: the flex CPU backend.
    pub device: Device,
    /// Whether to draw a progress bar (hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            architecture: SurrogateConfig::new(),
            epochs: 100,
            batch_size: 8,
            learning_rate: 1e-3,
            patience: 10,
            validation_fraction: 0.1,
            seed: 0,
            loss: LossWeights {
                mape_weight: 0.05,
                huber_delta: 1.0,
            },
            device: Device::flex(),
            progress: true,
        }
    }
}

/// What the model is for: stored in its bundle.
#[derive(Debug, Clone)]
pub struct TrainingContext {
    pub grid: Grid,
    pub profile: ProfileSpec,
    pub pricing: Pricing,
    /// Which arrivals the samples were labelled on.
    pub label: LabelTarget,
    /// Where the samples came from, free text (a trace path and hours, say).
    pub source: String,
}

/// The figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss of the epoch's training steps.
    pub train_loss: f64,
    /// Loss on the validation split after the epoch.
    pub validation_loss: f64,
    /// Validation MAPE per output, percent.
    pub validation_mape: [f64; OUTPUTS],
}

/// What a training run did (serde, for reports).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub epochs: Vec<EpochStats>,
    /// The epoch whose network was kept (1-based).
    pub best_epoch: usize,
    /// Validation MAPE per output of the kept network, percent, in
    /// [`crate::OUTPUT_NAMES`] order.
    pub validation_mape: [f64; OUTPUTS],
    pub train_samples: usize,
    pub validation_samples: usize,
    /// Training samples processed per second of optimiser steps.
    pub samples_per_second: f64,
    /// Whether early stopping ended the run before `epochs`.
    pub stopped_early: bool,
}

/// Trains a new model on `samples`.
///
/// # Errors
/// Fewer than two samples, samples whose window is not the architecture's, a target that is
/// not positive, or an invalid option.
pub fn train(
    samples: &[Sample],
    options: &TrainOptions,
    context: TrainingContext,
) -> Result<(Bundle, TrainReport)> {
    let architecture = options.architecture.clone();
    architecture.validate()?;
    let (train_part, validation_part) = split(samples, options, architecture.window)?;
    let normaliser = Normaliser::fit(&train_part)?;

    let device = options.device.clone().autodiff();
    let model = architecture.init_exclusive(&device, Some(options.seed));
    let (model, report) = run(model, &train_part, &validation_part, &normaliser, options)?;

    let training = TrainingSummary::new(options.seed, &report, context.label, context.source);
    let meta = BundleMeta {
        format_version: FORMAT_VERSION,
        window: architecture.window,
        architecture,
        normaliser,
        grid: context.grid,
        profile: context.profile,
        pricing: context.pricing,
        training,
    };
    Ok((Bundle::new(meta, model)?, report))
}

/// Continues training `bundle` on `samples` (the paper fine-tunes on the first hour of a new
/// trace). The architecture, scaling, grid, profile and pricing stay those of `bundle`;
/// `source` is recorded in the new bundle's training history.
///
/// # Errors
/// As [`train`].
pub fn fine_tune(
    bundle: &Bundle,
    samples: &[Sample],
    options: &TrainOptions,
    source: &str,
) -> Result<(Bundle, TrainReport)> {
    let meta = bundle.meta();
    let (train_part, validation_part) = split(samples, options, meta.window)?;

    let device = options.device.clone().autodiff();
    let record = bundle.model().clone().into_record();
    let model = meta
        .architecture
        .init_exclusive(&device, Some(options.seed))
        .try_load_record(record)
        .map_err(|e| ModelError::Tensor {
            what: "saved weights",
            message: e.to_string(),
        })?;
    let (model, report) = run(
        model,
        &train_part,
        &validation_part,
        &meta.normaliser,
        options,
    )?;

    let mut meta = meta.clone();
    meta.training.fine_tune(options.seed, &report, source);
    Ok((Bundle::new(meta, model)?, report))
}

/// Shuffles with the seed and splits into training and validation parts.
fn split<'a>(
    samples: &'a [Sample],
    options: &TrainOptions,
    window: usize,
) -> Result<(Vec<&'a Sample>, Vec<&'a Sample>)> {
    let bad = |name, value: String, reason| {
        Err(ModelError::BadOption {
            name,
            value,
            reason,
        })
    };
    if options.batch_size == 0 {
        return bad("batch_size", "0".into(), "must be at least 1");
    }
    if options.epochs == 0 {
        return bad("epochs", "0".into(), "must be at least 1");
    }
    if !(options.validation_fraction > 0.0 && options.validation_fraction < 1.0) {
        return bad(
            "validation_fraction",
            options.validation_fraction.to_string(),
            "must be in (0, 1)",
        );
    }
    if !(options.learning_rate > 0.0 && options.learning_rate.is_finite()) {
        return bad(
            "learning_rate",
            options.learning_rate.to_string(),
            "must be positive",
        );
    }
    if samples.len() < 2 {
        return Err(ModelError::TooFewSamples {
            got: samples.len(),
            needed: 2,
        });
    }
    if let Some(sample) = samples.iter().position(|s| s.gaps.len() != window) {
        let got = samples[sample].gaps.len();
        return Err(ModelError::SampleWindow {
            sample,
            got,
            window,
        });
    }

    let mut order: Vec<&Sample> = samples.iter().collect();
    order.shuffle(&mut Pcg64::seed_from_u64(options.seed));
    let held_out = ((samples.len() as f64 * options.validation_fraction).round() as usize)
        .clamp(1, samples.len() - 1);
    let train_part = order.split_off(held_out);
    Ok((train_part, order))
}
