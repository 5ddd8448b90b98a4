//! Training samples: a window of inter-arrival times, a configuration, and its simulated
//! outcome.
//!
//! A window is `window` consecutive arrivals `t[i..i + window]` of a trace, with `i >= 1` so
//! that every one of them has a predecessor: its inputs are the inter-arrival times ending
//! at each of its arrivals, `t[i + k] - t[i + k - 1]` for `k` in `0..window`, the same
//! quantity a decision reads from the last `window` arrivals it has seen. The label is the
//! exact simulation, with a configuration drawn uniformly from the grid, of either the
//! window's own arrivals ([`LabelTarget::Same`], the paper) or of the `window` arrivals that
//! follow it ([`LabelTarget::Next`]: a decision is applied to the future, so this variant
//! learns to predict the future). Either way the labelled arrivals are simulated alone: the
//! first one opens a batch.
//!
//! Window starts and configurations are drawn from one seeded PCG stream before any label is
//! computed, and labels are computed in parallel but collected in draw order, so a seed
//! always gives the same samples whatever the number of threads.

use crate::error::{ModelError, Result};
use deepbat_core::trace::Trace;
use deepbat_core::{Config, Grid, Outcome, Pricing, ProfileSpec, sim};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// One training example (serde, so that a labelled set can be stored and reused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The window's inter-arrival times, seconds, oldest first.
    pub gaps: Vec<f64>,
    /// The configuration the label was simulated with.
    pub config: Config,
    /// The simulated outcome (the label).
    pub outcome: Outcome,
}

/// Which arrivals a window's label is simulated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelTarget {
    /// The window's own arrivals, as in the paper.
    #[default]
    Same,
    /// The `window` arrivals that follow the window.
    Next,
}

impl LabelTarget {
    /// `same-window` or `next-window`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Same => "same-window",
            Self::Next => "next-window",
        }
    }
}

impl std::str::FromStr for LabelTarget {
    type Err = String;

    /// `same` or `next` (or the `-window` forms of [`LabelTarget::name`]).
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "same" | "same-window" => Ok(Self::Same),
            "next" | "next-window" => Ok(Self::Next),
            other => Err(format!(
                "label target {other:?} is neither \"same\" nor \"next\""
            )),
        }
    }
}

/// How many samples to draw and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    /// Number of samples.
    pub count: usize,
    /// Inter-arrival times per window (the model's `window`, 256 by default).
    pub window: usize,
    /// Which arrivals the label is simulated on.
    pub label: LabelTarget,
    /// Seed of the draw of windows and configurations.
    pub seed: u64,
    /// Whether to draw a progress bar (it is hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

impl SampleOptions {
    /// `count` same-window samples of `window` gaps, with a progress bar.
    pub fn new(count: usize, window: usize, seed: u64) -> Self {
        Self {
            count,
            window,
            label: LabelTarget::Same,
            seed,
            progress: true,
        }
    }

    /// The same options with another label target.
    pub fn with_label(mut self, label: LabelTarget) -> Self {
        self.label = label;
        self
    }
}

/// Draws `options.count` labelled windows from `trace.arrivals[arrivals]`.
///
/// Every window (and, for [`LabelTarget::Next`], the window after it) lies inside the range.
///
/// # Errors
/// [`ModelError::RangeTooShort`] when the range cannot hold one window (two for next-window
/// labels) plus the arrival before the first window.
pub fn build_samples(
    trace: &Trace,
    arrivals: Range<usize>,
    grid: &Grid,
    profile: &ProfileSpec,
    pricing: &Pricing,
    options: &SampleOptions,
) -> Result<Vec<Sample>> {
    let times = &trace.arrivals;
    let window = options.window;
    let spans = match options.label {
        LabelTarget::Same => 1,
        LabelTarget::Next => 2,
    };

    // Window starts lie in first..=last so that t[i - 1] and t[i + spans * window - 1] exist.
    let end = arrivals.end.min(times.len());
    let first = arrivals.start.max(1);
    let needed = spans * window;
    if window == 0 || end < first + needed {
        return Err(ModelError::RangeTooShort {
            start: arrivals.start,
            end: arrivals.end,
            available: end.saturating_sub(first),
            needed,
            window,
            label: options.label.name(),
        });
    }
    let last = end - needed;

    // Draw everything first: the draw order fixes the samples, not the thread schedule.
    let mut rng = Pcg64::seed_from_u64(options.seed);
    let draws: Vec<(usize, usize)> = (0..options.count)
        .map(|_| {
            (
                rng.random_range(first..=last),
                rng.random_range(0..grid.len()),
            )
        })
        .collect();

    let progress = if options.progress {
        ProgressBar::new(options.count as u64)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("labelling {bar:40} {pos}/{len} windows ({eta})")
            .expect("the progress template is valid"),
    );
    let samples = draws
        .into_par_iter()
        .map(|(start, index)| {
            let config = grid.config(index);
            let gaps = (start..start + window)
                .map(|k| times[k] - times[k - 1])
                .collect();
            let labelled = match options.label {
                LabelTarget::Same => &times[start..start + window],
                LabelTarget::Next => &times[start + window..start + 2 * window],
            };
            let outcome = sim::simulate(labelled, config, profile, pricing);
            progress.inc(1);
            Sample {
                gaps,
                config,
                outcome,
            }
        })
        .collect();
    progress.finish_and_clear();
    tracing::info!(
        count = options.count,
        window,
        label = options.label.name(),
        "labelled {} windows from arrivals {}..{}",
        options.count,
        arrivals.start,
        end
    );
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(count: usize, window: usize) -> SampleOptions {
        SampleOptions {
            progress: false,
            ..SampleOptions::new(count, window, 7)
        }
    }

    #[test]
    fn windows_read_the_gaps_ending_at_their_arrivals() {
        // Arrival k at time k^2: the gap ending at arrival k is 2k - 1.
        let trace = Trace::new((0..40).map(|k| f64::from(k * k)).collect());
        let grid = Grid::default();
        let (profile, pricing) = (ProfileSpec::default(), Pricing::default());
        let samples =
            build_samples(&trace, 10..30, &grid, &profile, &pricing, &options(50, 8)).unwrap();
        assert_eq!(samples.len(), 50);
        for sample in &samples {
            assert_eq!(sample.gaps.len(), 8);
            let first_arrival = (sample.gaps[0] as usize).div_ceil(2);
            assert!(
                (10..=22).contains(&first_arrival),
                "window starts at {first_arrival}"
            );
            for pair in sample.gaps.windows(2) {
                assert_eq!(pair[1] - pair[0], 2.0);
            }
            assert_eq!(sample.outcome.requests, 8);
            let expected = sim::simulate(
                &trace.arrivals[first_arrival..first_arrival + 8],
                sample.config,
                &profile,
                &pricing,
            );
            assert_eq!(sample.outcome, expected);
        }
    }

    #[test]
    fn next_window_labels_simulate_the_following_arrivals() {
        let trace = Trace::new((0..40).map(|k| f64::from(k * k)).collect());
        let grid = Grid::default();
        let (profile, pricing) = (ProfileSpec::default(), Pricing::default());
        let next = options(20, 8).with_label(LabelTarget::Next);
        let samples = build_samples(&trace, 0..40, &grid, &profile, &pricing, &next).unwrap();
        for sample in &samples {
            let start = (sample.gaps[0] as usize).div_ceil(2);
            assert!(start + 16 <= 40);
            let future = &trace.arrivals[start + 8..start + 16];
            assert_eq!(
                sample.outcome,
                sim::simulate(future, sample.config, &profile, &pricing)
            );
        }
    }

    #[test]
    fn label_targets_parse_from_their_names() {
        for target in [LabelTarget::Same, LabelTarget::Next] {
            assert_eq!(target.name().parse::<LabelTarget>(), Ok(target));
        }
        assert_eq!("next".parse::<LabelTarget>(), Ok(LabelTarget::Next));
        assert!(
            "later"
                .parse::<LabelTarget>()
                .unwrap_err()
                .contains("\"later\"")
        );
    }

    #[test]
    fn seeded_draws_repeat_and_short_ranges_are_rejected() {
        let trace = Trace::from_gaps(&[0.01; 100]);
        let grid = Grid::default();
        let (profile, pricing) = (ProfileSpec::default(), Pricing::default());
        let a = build_samples(&trace, 0..100, &grid, &profile, &pricing, &options(30, 16));
        let b = build_samples(&trace, 0..100, &grid, &profile, &pricing, &options(30, 16));
        assert_eq!(a.unwrap(), b.unwrap());

        let next = options(1, 16).with_label(LabelTarget::Next);
        let err = build_samples(&trace, 60..90, &grid, &profile, &pricing, &next).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("60..90") && message.contains("32 are needed"),
            "{message}"
        );
    }
}
