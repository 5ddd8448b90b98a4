//! The epoch loop: mini-batch Adam steps, validation after each epoch, early stopping, and
//! the best network kept.
//!
//! Samples are scaled once into flat arrays ([`Scaled`]); each step gathers its rows into
//! tensors on the training device. The running training loss stays on the device and is read
//! back only every 50 steps (for the progress bar) and at the end of the epoch, so that a GPU
//! backend is not synchronised after every step. Validation runs the network in inference
//! mode and computes the loss and per-output MAPE in `f64` ([`Metrics`]).

use crate::data::Sample;
use crate::error::Result;
use crate::loss::{Metrics, loss};
use crate::model::{Surrogate, to_vec};
use crate::normalise::{CONFIG_FEATURES, Normaliser, OUTPUTS};
use crate::training::{EpochStats, TrainOptions, TrainReport};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use std::time::Instant;

/// Predictions scored together during validation.
const VALIDATION_BATCH: usize = 256;

/// Samples as flat scaled arrays, ready to be cut into batches.
struct Scaled {
    window: usize,
    gaps: Vec<f32>,
    configs: Vec<f32>,
    targets: Vec<f32>,
}

impl Scaled {
    fn new(samples: &[&Sample], normaliser: &Normaliser, window: usize) -> Self {
        let mut gaps = Vec::with_capacity(samples.len() * window);
        let mut configs = Vec::with_capacity(samples.len() * CONFIG_FEATURES);
        let mut targets = Vec::with_capacity(samples.len() * OUTPUTS);
        for sample in samples {
            normaliser.extend_gaps(&sample.gaps, &mut gaps);
            configs.extend(normaliser.config(&sample.config));
            targets.extend(normaliser.targets(&sample.outcome));
        }
        Self {
            window,
            gaps,
            configs,
            targets,
        }
    }

    fn len(&self) -> usize {
        self.targets.len() / OUTPUTS
    }

    /// Gaps, configurations and targets of the samples `rows`.
    fn batch(&self, rows: &[usize], device: &Device) -> [Tensor<2>; 3] {
        let gather = |values: &[f32], width: usize| {
            let data: Vec<f32> = rows
                .iter()
                .flat_map(|&r| values[r * width..(r + 1) * width].iter().copied())
                .collect();
            Tensor::from_data(TensorData::new(data, [rows.len(), width]), device)
        };
        [
            gather(&self.gaps, self.window),
            gather(&self.configs, CONFIG_FEATURES),
            gather(&self.targets, OUTPUTS),
        ]
    }
}

/// The training loop proper; returns the best network (inference mode) and the report.
pub(crate) fn run(
    mut model: Surrogate,
    train_part: &[&Sample],
    validation_part: &[&Sample],
    normaliser: &Normaliser,
    options: &TrainOptions,
) -> Result<(Surrogate, TrainReport)> {
    let device = options.device.clone().autodiff();
    let window = train_part[0].gaps.len();
    let train_data = Scaled::new(train_part, normaliser, window);
    let validation_data = Scaled::new(validation_part, normaliser, window);
    let log_std: [f64; OUTPUTS] = std::array::from_fn(|o| normaliser.targets[o].std);
    let log_std_row: Vec<f32> = log_std.iter().map(|s| *s as f32).collect();
    let log_std_tensor =
        Tensor::<2>::from_data(TensorData::new(log_std_row, [1, OUTPUTS]), &device);

    let mut optimizer = AdamConfig::new().init();
    let mut rng = Pcg64::seed_from_u64(options.seed.wrapping_add(1));
    let mut order: Vec<usize> = (0..train_data.len()).collect();
    let steps_per_epoch = order.len().div_ceil(options.batch_size);
    let progress = progress_bar(options, steps_per_epoch);

    let mut epochs = Vec::new();
    let mut best: Option<(f64, usize, Surrogate, [f64; OUTPUTS])> = None;
    let mut step_time = 0.0;
    for epoch in 1..=options.epochs {
        order.shuffle(&mut rng);
        let started = Instant::now();
        let mut loss_sum = Tensor::<1>::zeros([1], &device.clone().inner());
        for (step, rows) in order.chunks(options.batch_size).enumerate() {
            let [gaps, configs, targets] = train_data.batch(rows, &device);
            let predictions = model.forward(gaps, configs);
            let batch_loss = loss(predictions, targets, log_std_tensor.clone(), options.loss);
            loss_sum = loss_sum + batch_loss.clone().inner().mul_scalar(rows.len() as f64);
            let grads = GradientsParams::from_grads(batch_loss.backward(), &model);
            model = optimizer.step(options.learning_rate, model, grads);
            progress.inc(1);
            if step % 50 == 49 {
                let so_far: f32 = loss_sum.clone().into_scalar();
                let seen = ((step + 1) * options.batch_size).min(order.len());
                progress.set_message(format!("epoch {epoch}: loss {:.4}", so_far / seen as f32));
            }
        }
        let train_loss = f64::from(loss_sum.into_scalar::<f32>()) / order.len() as f64;
        step_time += started.elapsed().as_secs_f64();

        let candidate = model.valid();
        let metrics = evaluate(&candidate, &validation_data, &log_std, options)?;
        let validation_loss = metrics.loss(options.loss);
        let validation_mape = metrics.mape();
        epochs.push(EpochStats {
            epoch,
            train_loss,
            validation_loss,
            validation_mape,
        });
        tracing::info!(
            epoch,
            train_loss,
            validation_loss,
            latency_mape_p95 = validation_mape[3],
            cost_mape = validation_mape[0],
            "epoch {epoch}/{}",
            options.epochs
        );
        progress.set_message(format!(
            "epoch {epoch}: loss {train_loss:.4}, validation {validation_loss:.4}"
        ));

        let improved = best
            .as_ref()
            .is_none_or(|(loss, ..)| validation_loss < *loss);
        if improved {
            best = Some((validation_loss, epoch, candidate, validation_mape));
        } else if epoch - best.as_ref().map_or(0, |b| b.1) >= options.patience {
            tracing::info!(
                epoch,
                "no better validation loss for {} epochs: stopping",
                options.patience
            );
            break;
        }
    }
    progress.finish_and_clear();

    let (_, best_epoch, best_model, validation_mape) = best.expect("at least one epoch ran");
    let epochs_run = epochs.len();
    let report = TrainReport {
        epochs,
        best_epoch,
        validation_mape,
        train_samples: train_data.len(),
        validation_samples: validation_data.len(),
        samples_per_second: (train_data.len() * epochs_run) as f64 / step_time.max(1e-9),
        stopped_early: epochs_run < options.epochs,
    };
    Ok((best_model.to_device(&Device::flex()), report))
}

/// The validation metrics of `model` (inference mode) on `data`.
fn evaluate(
    model: &Surrogate,
    data: &Scaled,
    log_std: &[f64; OUTPUTS],
    options: &TrainOptions,
) -> Result<Metrics> {
    let device = options.device.clone();
    let mut metrics = Metrics::default();
    let rows: Vec<usize> = (0..data.len()).collect();
    for chunk in rows.chunks(VALIDATION_BATCH) {
        let [gaps, configs, _] = data.batch(chunk, &device);
        let predictions = to_vec(model.forward(gaps, configs), "validation predictions")?;
        for (k, &row) in chunk.iter().enumerate() {
            let z = &predictions[k * OUTPUTS..(k + 1) * OUTPUTS];
            let y = &data.targets[row * OUTPUTS..(row + 1) * OUTPUTS];
            metrics.add(z, y, log_std, options.loss.huber_delta);
        }
    }
    Ok(metrics)
}

/// A bar over every step of the run; early stopping clears it before its end.
fn progress_bar(options: &TrainOptions, steps_per_epoch: usize) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let total = (steps_per_epoch * options.epochs) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("training {bar:30} {pos}/{len} steps ({eta}) {msg}")
            .expect("the progress template is valid"),
    );
    bar
}
