//! A small bursty synthetic trace and one tiny model trained on it, shared by all tests.

use deepbat_core::trace::Trace;
use deepbat_core::{Grid, Pricing, ProfileSpec};
use deepbat_model::{
    Bundle, LabelTarget, Sample, SampleOptions, SurrogateConfig, TrainOptions, TrainReport,
    TrainingContext, build_samples, train,
};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::sync::OnceLock;

/// The window of the test models: shorter than the default 256 to keep tests fast.
pub const WINDOW: usize = 32;

/// Exponential gaps at 20 requests per second, with a burst at 400 per second every few
/// hundred arrivals, seeded.
pub fn bursty_trace(arrivals: usize, seed: u64) -> Trace {
    let mut rng = Pcg64::seed_from_u64(seed);
    let gaps: Vec<f64> = (0..arrivals)
        .map(|k| {
            let rate = if (k / 150) % 3 == 2 { 400.0 } else { 20.0 };
            -(1.0 - rng.random::<f64>()).ln() / rate
        })
        .collect();
    Trace::from_gaps(&gaps)
}

/// Labelled windows of [`bursty_trace`] for the default grid, profile and pricing.
pub fn samples(count: usize, seed: u64) -> Vec<Sample> {
    let trace = bursty_trace(3_000, seed);
    let options = SampleOptions {
        progress: false,
        ..SampleOptions::new(count, WINDOW, seed)
    };
    let (profile, pricing) = (ProfileSpec::default(), Pricing::default());
    build_samples(
        &trace,
        0..trace.len(),
        &Grid::default(),
        &profile,
        &pricing,
        &options,
    )
    .unwrap()
}

/// Training options of the test models: `epochs` passes, the test window.
pub fn options(epochs: usize, seed: u64) -> TrainOptions {
    TrainOptions {
        architecture: SurrogateConfig::new().with_window(WINDOW),
        epochs,
        seed,
        progress: false,
        ..TrainOptions::default()
    }
}

pub fn context() -> TrainingContext {
    TrainingContext {
        grid: Grid::default(),
        profile: ProfileSpec::default(),
        pricing: Pricing::default(),
        label: LabelTarget::Same,
        source: "synthetic bursty test trace".into(),
    }
}

/// The shared model: 300 samples, 3 epochs.
pub fn trained() -> &'static (Bundle, TrainReport) {
    static MODEL: OnceLock<(Bundle, TrainReport)> = OnceLock::new();
    MODEL.get_or_init(|| train(&samples(300, 1), &options(3, 1), context()).unwrap())
}

/// Gaps of a fresh window of the synthetic trace (longer than the model's window).
pub fn recent_gaps(seed: u64) -> Vec<f64> {
    let trace = bursty_trace(200, seed);
    trace.arrivals.windows(2).map(|w| w[1] - w[0]).collect()
}
