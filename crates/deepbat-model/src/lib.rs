//! deepbat's surrogate: a small Transformer that predicts, from the last `window`
//! inter-arrival times and a configuration (memory, batch size, timeout), the cost per
//! request and the p50, p90, p95 and p99 latencies that the exact simulator would report.
//!
//! The pieces, in the order a model's life goes through them:
//! - [`data`]: labelled windows drawn from a trace ([`build_samples`]), labelled on the
//!   window itself (the paper) or on the window that follows it ([`LabelTarget`]);
//! - [`normalise`]: the log and standard scaling of inputs and targets, saved with a model;
//! - [`model`]: the network ([`SurrogateConfig`], [`Surrogate`]);
//! - [`loss`] and [`training`]: the paper's combined loss, Adam, early stopping,
//!   fine-tuning ([`train`], [`fine_tune`]);
//! - [`bundle`] and [`meta`]: a model directory (`model.bpk` + `model.json`) and the
//!   operations on a loaded model ([`Bundle`]).
//!
//! # Decisions
//! The window's encoding does not depend on the configuration, so a decision encodes its
//! window once and scores every configuration with the head alone. Both run in plain Rust
//! over weights copied out of the burn network when a model is loaded (the `encoder` and
//! `scoring` modules): burn's forward pass of one window is dozens of small tensor
//! operations with their own allocations, which costs more than the arithmetic. The head's
//! configuration half is precomputed for the whole grid at load time. Tests hold both
//! copies to burn's forward pass (1e-4 relative).
//!
//! # Figures
//! Measured on the project's 2-core machine (release build, flex backend, default
//! architecture: 7,717 parameters) with `cargo run --release -p deepbat-model --example
//! timing`; the machine is shared, so figures vary by about 20 %:
//! - one decision over the default grid (28,224 configurations, [`Bundle::predict_grid`]):
//!   1.1-1.5 ms on one core, of which 0.7-1.0 ms encodes the window and 0.4 ms runs the
//!   head (AVX2 chosen at run time);
//! - the same window encoded by burn instead: 1.3-1.9 ms;
//! - training at batch 8: about 210-230 samples per second with 2 heads, 100-115 with 4
//!   (a run of 7,200 samples for 15 epochs took 9 minutes and reached a validation MAPE
//!   of 2.8 % on cost and 7.4 % on p95 on a synthetic bursty trace);
//! - `model.bpk` 41 KB, `model.json` 3 KB; loading, including the grid precomputation,
//!   about 4 ms.
//!
//! # Example
//! ```no_run
//! use deepbat_core::{Grid, Pricing, ProfileSpec, trace::Trace};
//! use deepbat_model::{
//!     Bundle, LabelTarget, SampleOptions, TrainOptions, TrainingContext, build_samples, train,
//! };
//! use std::path::Path;
//!
//! # fn main() -> Result<(), deepbat_model::ModelError> {
//! let trace = Trace::from_gaps(&vec![0.01; 20_000]);
//! let (grid, profile, pricing) = (Grid::default(), ProfileSpec::default(), Pricing::default());
//! let options = SampleOptions::new(5_000, 256, 7);
//! let samples = build_samples(&trace, 0..trace.len(), &grid, &profile, &pricing, &options)?;
//! let context =
//!     TrainingContext { grid, profile, pricing, label: LabelTarget::Same, source: "example".into() };
//! let (bundle, report) = train(&samples, &TrainOptions::default(), context)?;
//! println!("validation MAPE (cost, p50, p90, p95, p99): {:?}", report.validation_mape);
//! bundle.save(Path::new("model"))?;
//!
//! let bundle = Bundle::load(Path::new("model"))?;
//! let outcomes = bundle.predict_grid(&vec![0.01; 256])?;
//! assert_eq!(outcomes.len(), bundle.grid().len());
//! # Ok(())
//! # }
//! ```

pub mod bundle;
pub mod data;
pub(crate) mod encoder;
pub(crate) mod epochs;
pub mod error;
pub(crate) mod kernels;
pub mod loss;
pub mod meta;
pub mod model;
pub mod normalise;
pub(crate) mod scoring;
pub mod training;

pub use bundle::Bundle;
pub use data::{LabelTarget, Sample, SampleOptions, build_samples};
pub use error::ModelError;
pub use loss::LossWeights;
pub use meta::{BundleMeta, FORMAT_VERSION, META_FILE, TrainingSummary, WEIGHTS_FILE};
pub use model::{Surrogate, SurrogateConfig};
pub use normalise::{Normaliser, OUTPUT_NAMES};
pub use training::{EpochStats, TrainOptions, TrainReport, TrainingContext, fine_tune, train};
