//! `model.json`: what a saved model is for and how it was trained.
//!
//! The file carries a format version (read first, so that a file written by another
//! version of deepbat gets a version error rather than a confusing shape error), the
//! architecture, the scaling statistics, the grid, service profile and pricing the labels
//! were simulated with, the window, and a summary of training: seed, sample counts, epochs,
//! the validation MAPE per output, the label target and free-text sources.

use crate::data::LabelTarget;
use crate::error::{ModelError, Result};
use crate::model::SurrogateConfig;
use crate::normalise::{Normaliser, OUTPUTS};
use crate::training::TrainReport;
use deepbat_core::{Grid, Pricing, ProfileSpec};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The version of `model.json` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Weights file inside a model directory.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// Metadata file inside a model directory.
pub const META_FILE: &str = "model.json";

/// Everything in `model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleMeta {
    pub format_version: u32,
    pub architecture: SurrogateConfig,
    pub normaliser: Normaliser,
    pub grid: Grid,
    pub profile: ProfileSpec,
    pub pricing: Pricing,
    /// Inter-arrival times per decision (equal to `architecture.window`).
    pub window: usize,
    pub training: TrainingSummary,
}

/// How a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Seed of the last training or fine-tuning run.
    pub seed: u64,
    /// Training and validation samples of the last run.
    pub train_samples: usize,
    pub validation_samples: usize,
    /// Epochs the last run went through, and the one whose weights were kept.
    pub epochs_run: usize,
    pub best_epoch: usize,
    /// Validation MAPE per output of the kept weights, percent: cost per request, p50,
    /// p90, p95, p99.
    pub validation_mape: [f64; OUTPUTS],
    /// Which arrivals the labels were simulated on.
    pub label: LabelTarget,
    /// Where the training samples came from.
    pub source: String,
    /// Where each fine-tuning run's samples came from, oldest first.
    #[serde(default)]
    pub fine_tuned_on: Vec<String>,
}

impl TrainingSummary {
    pub(crate) fn new(seed: u64, report: &TrainReport, label: LabelTarget, source: String) -> Self {
        Self {
            seed,
            train_samples: report.train_samples,
            validation_samples: report.validation_samples,
            epochs_run: report.epochs.len(),
            best_epoch: report.best_epoch,
            validation_mape: report.validation_mape,
            label,
            source,
            fine_tuned_on: Vec::new(),
        }
    }

    pub(crate) fn fine_tune(&mut self, seed: u64, report: &TrainReport, source: &str) {
        let history = std::mem::take(&mut self.fine_tuned_on);
        let original = std::mem::take(&mut self.source);
        *self = Self::new(seed, report, self.label, original);
        self.fine_tuned_on = history;
        self.fine_tuned_on.push(source.to_string());
    }
}

/// Reads and checks `model.json`: the version first, so that a file of another version gets
/// a version error rather than a shape error.
pub(crate) fn read_meta(path: &Path) -> Result<BundleMeta> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ModelError::Metadata {
            path: path.to_path_buf(),
            source,
        })?;
    let found = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(FORMAT_VERSION) {
        let found = u32::try_from(found).unwrap_or(u32::MAX);
        return Err(ModelError::FormatVersion {
            path: path.to_path_buf(),
            found,
            expected: FORMAT_VERSION,
        });
    }
    let meta: BundleMeta =
        serde_json::from_value(value).map_err(|source| ModelError::Metadata {
            path: path.to_path_buf(),
            source,
        })?;
    if meta.window != meta.architecture.window {
        return Err(ModelError::BadOption {
            name: "window",
            value: format!(
                "{} in {} (architecture: {})",
                meta.window,
                path.display(),
                meta.architecture.window
            ),
            reason: "must equal the architecture's window",
        });
    }
    meta.architecture.validate()?;
    check_settings(&meta, path)?;
    Ok(meta)
}

/// Longest window a model file may declare; the positional encoding is built for it.
const MAX_WINDOW: usize = 65_536;

/// Rejects a hand-edited or corrupt metadata file whose settings the tool would misuse.
fn check_settings(meta: &BundleMeta, path: &Path) -> Result<()> {
    let origin = path.display().to_string();
    let invalid = |message: String| ModelError::InvalidMetadata {
        path: path.to_path_buf(),
        message,
    };
    meta.grid
        .validate(&origin)
        .map_err(|e| invalid(e.to_string()))?;
    meta.profile
        .validate(&origin)
        .map_err(|e| invalid(e.to_string()))?;
    let p = &meta.pricing;
    if !(p.price_gb_s.is_finite()
        && p.price_gb_s >= 0.0
        && p.price_request.is_finite()
        && p.price_request >= 0.0)
    {
        return Err(invalid(format!(
            "prices {} per GB-s and {} per request must be non-negative numbers",
            p.price_gb_s, p.price_request
        )));
    }
    if p.granularity_ms == 0 {
        return Err(invalid(
            "billing granularity 0 ms: it must be at least 1".into(),
        ));
    }
    if meta.window > MAX_WINDOW {
        return Err(invalid(format!(
            "window {} is longer than {MAX_WINDOW}",
            meta.window
        )));
    }
    if let Some(m) = meta
        .training
        .validation_mape
        .iter()
        .find(|m| !m.is_finite() || **m < 0.0)
    {
        return Err(invalid(format!(
            "validation MAPE {m} must be a non-negative number"
        )));
    }
    Ok(())
}

/// "21 memories x 32 batch sizes x 42 timeouts", for messages.
pub(crate) fn describe_grid(grid: &Grid) -> String {
    format!(
        "{} memories x {} batch sizes x {} timeouts",
        grid.memory_mb.len(),
        grid.batch_sizes.len(),
        grid.timeouts.len()
    )
}
