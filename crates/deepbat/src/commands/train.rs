//! `deepbat train`: label windows of a trace with the simulator and fit the surrogate.

use crate::cli::{TrainArgs, check_out_dir};
use crate::output::write_model_dir;
use anyhow::{Result, bail};
use deepbat_model::{
    LabelTarget, OUTPUT_NAMES, SampleOptions, TrainOptions, TrainingContext, build_samples, train,
};

pub fn run(args: &TrainArgs) -> Result<()> {
    let grid = args.setting.grid()?;
    let profile = args.setting.profile(&grid)?;
    let pricing = args.setting.pricing()?;
    if args.samples < 10 {
        bail!("--samples {}: train on at least 10 windows", args.samples);
    }
    check_out_dir(&args.out)?;
    if args.epochs == 0 {
        bail!("--epochs 0: train for at least one epoch");
    }
    let trace = args.trace.load()?;
    let (first, last) = args.hours;
    let range = trace.hour_range(first, last);
    tracing::info!(hours = %format!("{first}..{last}"), arrivals = range.len(), "training range");

    // Labels: one simulated configuration per sampled window.
    let label = if args.label_next {
        LabelTarget::Next
    } else {
        LabelTarget::Same
    };
    let mut options = TrainOptions {
        epochs: args.epochs,
        seed: args.seed,
        ..TrainOptions::default()
    };
    let sample_options =
        SampleOptions::new(args.samples, options.architecture.window, args.seed).with_label(label);
    let samples = build_samples(&trace, range, &grid, &profile, &pricing, &sample_options)?;
    options.progress = true;

    let paths: Vec<String> = args
        .trace
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let context = TrainingContext {
        grid,
        profile,
        pricing,
        label,
        source: format!(
            "{} ({}) hours {first}..{last}",
            paths.join(" "),
            args.trace.format
        ),
    };
    let (bundle, report) = train(&samples, &options, context)?;
    write_model_dir(&args.out, |dir| Ok(bundle.save(dir)?))?;

    outln!(
        "trained on {} windows, validated on {}, best epoch {} of {} ({:.0} samples/s)",
        report.train_samples,
        report.validation_samples,
        report.best_epoch,
        report.epochs.len(),
        report.samples_per_second
    );
    outln!("validation MAPE per output:");
    for (name, mape) in OUTPUT_NAMES.iter().zip(report.validation_mape) {
        outln!("  {name:<17} {mape:6.2} %");
    }
    outln!("model written to {}", args.out.display());
    Ok(())
}
