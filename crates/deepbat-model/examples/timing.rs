//! Measures the surrogate on this machine: training throughput, the time of one full-grid
//! decision, the parameter count and the size of a saved model.
//!
//! `cargo run --release -p deepbat-model --example timing -- [n_heads] [samples] [epochs]`
//! (defaults 2, 800, 2). The trace is synthetic (exponential gaps at 20 per second with a
//! burst at 400 per second every 450 arrivals), the grid, profile and pricing the defaults.
//! Set `RAYON_NUM_THREADS=1` to hold burn's CPU backend to one core.

use deepbat_core::trace::Trace;
use deepbat_core::{Grid, Pricing, ProfileSpec};
use deepbat_model::{
    Bundle, LabelTarget, SampleOptions, SurrogateConfig, TrainOptions, TrainingContext,
    build_samples, train,
};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let n_heads = args.first().copied().unwrap_or(2);
    let count = args.get(1).copied().unwrap_or(800);
    let epochs = args.get(2).copied().unwrap_or(2);

    // A bursty synthetic trace and its labelled windows.
    let mut rng = Pcg64::seed_from_u64(1);
    let gaps: Vec<f64> = (0..20_000)
        .map(|k| {
            let rate = if (k / 150) % 3 == 2 { 400.0 } else { 20.0 };
            -(1.0 - rng.random::<f64>()).ln() / rate
        })
        .collect();
    let trace = Trace::from_gaps(&gaps);
    let (grid, profile, pricing) = (Grid::default(), ProfileSpec::default(), Pricing::default());
    let options = SampleOptions {
        progress: false,
        ..SampleOptions::new(count, 256, 1)
    };
    let started = Instant::now();
    let samples = build_samples(&trace, 0..trace.len(), &grid, &profile, &pricing, &options)?;
    println!(
        "labelled {count} windows in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Training throughput.
    let options = TrainOptions {
        architecture: SurrogateConfig::new().with_n_heads(n_heads),
        epochs,
        patience: epochs,
        progress: false,
        ..TrainOptions::default()
    };
    let context = TrainingContext {
        grid: grid.clone(),
        profile,
        pricing,
        label: LabelTarget::Same,
        source: "timing example".into(),
    };
    let started = Instant::now();
    let (bundle, report) = train(&samples, &options, context)?;
    println!(
        "n_heads {n_heads}: trained {} samples x {} epochs in {:.1} s: {:.0} samples/s",
        report.train_samples,
        report.epochs.len(),
        started.elapsed().as_secs_f64(),
        report.samples_per_second
    );
    println!(
        "validation MAPE (cost, p50, p90, p95, p99): {:.1?}",
        report.validation_mape
    );
    println!("parameters: {}", bundle.num_params());

    // Size on disk and load time.
    let dir = tempfile::tempdir()?;
    bundle.save(dir.path())?;
    for file in [deepbat_model::WEIGHTS_FILE, deepbat_model::META_FILE] {
        let bytes = std::fs::metadata(dir.path().join(file))?.len();
        println!("{file}: {bytes} bytes");
    }
    let started = Instant::now();
    let bundle = Bundle::load(dir.path())?;
    println!(
        "load (with head precomputation): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    // One full-grid decision, and one single-configuration prediction (mostly the encoder).
    let window = &gaps[gaps.len() - 256..];
    let mut out = Vec::new();
    for _ in 0..20 {
        bundle.predict_grid_into(window, &mut out)?;
    }
    let grid_ms = time_ms(200, || {
        bundle.predict_grid_into(window, &mut out).map(|_| ())
    })?;
    let config = [grid.config(0)];
    let single_ms = time_ms(200, || bundle.predict(window, &config).map(|_| ()))?;
    println!(
        "predict_grid over {} configurations: median {grid_ms:.3} ms",
        out.len()
    );
    println!("predict for one configuration (encoder + head): median {single_ms:.3} ms");
    Ok(())
}

/// Median wall time of `runs` calls, milliseconds.
fn time_ms<E>(runs: usize, mut f: impl FnMut() -> Result<(), E>) -> Result<f64, E> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[runs / 2])
}
