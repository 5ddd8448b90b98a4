//! Training, reproducibility and fine-tuning.

use crate::fixture::{context, options, samples, trained};
use deepbat_model::{ModelError, OUTPUT_NAMES, fine_tune, train};

#[test]
fn training_lowers_the_loss() {
    let (_, report) = trained();
    assert_eq!(report.epochs.len(), 3);
    let first = report.epochs[0].train_loss;
    let last = report.epochs[2].train_loss;
    assert!(last < first, "train loss went from {first} to {last}");
    assert!((1..=3).contains(&report.best_epoch));
    assert_eq!(report.train_samples + report.validation_samples, 300);
    for (name, mape) in OUTPUT_NAMES.iter().zip(report.validation_mape) {
        assert!(mape.is_finite() && mape >= 0.0, "{name}: {mape}");
    }
    assert!(report.samples_per_second > 0.0);
}

#[test]
fn a_seed_gives_the_same_model() {
    let samples = samples(40, 5);
    let gaps = crate::fixture::recent_gaps(9);
    let (a, report_a) = train(&samples, &options(1, 11), context()).unwrap();
    let (b, report_b) = train(&samples, &options(1, 11), context()).unwrap();
    assert_eq!(report_a.epochs, report_b.epochs);
    assert_eq!(
        a.predict_grid(&gaps).unwrap(),
        b.predict_grid(&gaps).unwrap()
    );

    let (c, _) = train(&samples, &options(1, 12), context()).unwrap();
    assert_ne!(
        a.predict_grid(&gaps).unwrap(),
        c.predict_grid(&gaps).unwrap()
    );
}

#[test]
fn fine_tuning_continues_from_the_saved_weights() {
    let (bundle, _) = trained();
    let gaps = crate::fixture::recent_gaps(4);
    let (tuned, report) = fine_tune(
        bundle,
        &samples(60, 21),
        &options(1, 3),
        "first hour of another trace",
    )
    .unwrap();
    assert_eq!(report.epochs.len(), 1);

    // Scaling, grid and history carry over; the weights move.
    let (before, after) = (bundle.meta(), tuned.meta());
    assert_eq!(before.normaliser, after.normaliser);
    assert_eq!(before.grid, after.grid);
    assert_eq!(after.training.source, before.training.source);
    assert_eq!(
        after.training.fine_tuned_on,
        vec!["first hour of another trace".to_string()]
    );
    let old = bundle.predict_grid(&gaps).unwrap();
    let new = tuned.predict_grid(&gaps).unwrap();
    assert_ne!(old, new);

    // A model trained from scratch on the same 60 samples for one epoch is far from the
    // fine-tuned one: fine-tuning really started from the saved weights.
    let (scratch, _) = train(&samples(60, 21), &options(1, 3), context()).unwrap();
    let distance = |x: &[deepbat_core::Outcome], y: &[deepbat_core::Outcome]| {
        x.iter()
            .zip(y)
            .map(|(a, b)| (a.p95.ln() - b.p95.ln()).abs())
            .sum::<f64>()
    };
    let scratch = scratch.predict_grid(&gaps).unwrap();
    assert!(distance(&old, &new) < distance(&old, &scratch));
}

#[test]
fn bad_inputs_are_refused_with_their_values() {
    let mut few = samples(3, 2);
    let err = train(&few[..1], &options(1, 0), context()).unwrap_err();
    assert!(
        matches!(err, ModelError::TooFewSamples { got: 1, needed: 2 }),
        "{err}"
    );

    few[2].gaps.pop();
    let err = train(&few, &options(1, 0), context())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sample 2 has 31") && err.contains("window is 32"),
        "{err}"
    );

    let mut zero_batch = options(1, 0);
    zero_batch.batch_size = 0;
    let err = train(&samples(4, 2), &zero_batch, context())
        .unwrap_err()
        .to_string();
    assert!(err.contains("batch_size = 0"), "{err}");
}
