//! `deepbat trace stats`: what a trace looks like, overall and hour by hour.

use crate::cli::StatsArgs;
use anyhow::Result;
use deepbat_core::trace::{
    Trace, TraceStats, index_of_dispersion_counts, index_of_dispersion_intervals,
};

pub fn stats(args: &StatsArgs) -> Result<()> {
    let trace = args.trace.load()?;
    let stats = TraceStats::compute(&trace);
    let dispersion = Dispersion::compute(&trace);
    if args.json {
        let mut value = serde_json::to_value(&stats)?;
        value["dispersion"] = serde_json::to_value(&dispersion)?;
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        out!("{stats}");
        outln!();
        outln!("{:<8} {:>10} {:>14}", "scope", "idc_1s", "idc_intervals");
        for row in &dispersion {
            outln!(
                "{:<8} {:>10} {:>14}",
                row.scope,
                format!("{:.3}", row.idc_1s),
                format!("{:.3}", row.idc_intervals)
            );
        }
    }
    Ok(())
}

/// Index of dispersion of one scope: counts in 1-second windows, and the interval form
/// over `k = min(1000, ceil(n / 30))` consecutive gaps (an estimate of the limiting IDC).
#[derive(serde::Serialize)]
struct Dispersion {
    scope: String,
    idc_1s: f64,
    idc_intervals: f64,
}

impl Dispersion {
    /// The whole trace, then each hour with arrivals.
    fn compute(trace: &Trace) -> Vec<Dispersion> {
        let of = |scope: String, arrivals: &[f64]| {
            let gaps: Vec<f64> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
            Dispersion {
                scope,
                idc_1s: index_of_dispersion_counts(arrivals, 1.0),
                idc_intervals: index_of_dispersion_intervals(
                    &gaps,
                    gaps.len().div_ceil(30).clamp(1, 1000),
                ),
            }
        };
        let mut rows = vec![of("all".to_string(), &trace.arrivals)];
        for hour in trace
            .arrivals
            .chunk_by(|a, b| Trace::hour_of(*a) == Trace::hour_of(*b))
        {
            rows.push(of(format!("hour {}", Trace::hour_of(hour[0])), hour));
        }
        rows
    }
}
