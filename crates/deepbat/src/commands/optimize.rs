//! `deepbat optimize`: one decision for the last window of a trace.

use crate::cli::OptimizeArgs;
use anyhow::{Result, bail};
use deepbat_core::optimizer::{self, Objective};
use deepbat_core::units::format_ms;
use deepbat_model::Bundle;
use serde_json::json;
use std::time::Instant;

pub fn run(args: &OptimizeArgs) -> Result<()> {
    let bundle = Bundle::load(&args.model)?;
    let trace = args.trace.load()?;
    let window = bundle.window();
    if trace.len() < window + 1 {
        bail!(
            "the trace has {} arrivals; a decision reads the last {window} inter-arrival times, \
             so it needs at least {}",
            trace.len(),
            window + 1
        );
    }
    let objective = Objective {
        slo: args.objective.slo,
        percentile: args.objective.percentile,
        gamma: args
            .objective
            .gamma
            .resolve(&bundle, args.objective.percentile),
    };
    let tail = &trace.arrivals[trace.len() - window - 1..];
    let gaps: Vec<f64> = tail.windows(2).map(|w| w[1] - w[0]).collect();

    // The decision: encode the window once, score the grid, search it.
    let started = Instant::now();
    let outcomes = bundle.predict_grid(&gaps)?;
    let choice = optimizer::choose(bundle.grid(), &outcomes, &objective);
    let decision_ms = started.elapsed().as_secs_f64() * 1e3;

    let predicted_p95 = choice.expected.percentile(args.objective.percentile);
    if args.json {
        let value = json!({
            "memory_mb": choice.config.memory_mb,
            "batch_size": choice.config.batch_size,
            "timeout_s": choice.config.timeout,
            "predicted_p95": predicted_p95,
            "predicted_cost": choice.expected.cost_per_request,
            "feasible": choice.feasible,
            "decision_ms": decision_ms,
            "gamma": objective.gamma,
            "configurations": bundle.grid().len(),
            "profile": bundle.profile(),
            "pricing": bundle.pricing(),
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        if !choice.feasible {
            outln!("no configuration is predicted to meet the SLO; the fastest one follows");
        }
        outln!("memory            {} MB", choice.config.memory_mb);
        outln!("batch size        {}", choice.config.batch_size);
        outln!("timeout           {}", format_ms(choice.config.timeout));
        outln!(
            "predicted p{:<2}     {}",
            args.objective.percentile,
            format_ms(predicted_p95)
        );
        outln!(
            "predicted cost    ${:.6e} per request",
            choice.expected.cost_per_request
        );
        outln!(
            "feasible          {} (safety factor gamma {:.4})",
            choice.feasible,
            objective.gamma
        );
        outln!(
            "decision time     {decision_ms:.3} ms ({} configurations)",
            bundle.grid().len()
        );
    }
    Ok(())
}
