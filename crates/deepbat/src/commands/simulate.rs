//! `deepbat simulate`: the exact simulation of one configuration over a trace.

use crate::cli::{SimulateArgs, check_config};
use anyhow::{Result, bail};
use deepbat_core::units::format_ms;
use deepbat_core::{Config, sim};
use serde_json::json;

pub fn run(args: &SimulateArgs) -> Result<()> {
    let config = Config {
        memory_mb: args.memory,
        batch_size: args.batch,
        timeout: args.timeout,
    };
    check_config(&config)?;
    if args.setting.grid.is_some() {
        bail!("--grid has no effect on simulate, which runs the one configuration given");
    }
    let profile = args.setting.profile()?;
    let pricing = args.setting.pricing()?;
    let trace = args.trace.load()?;
    let arrivals = match args.hours {
        Some((first, last)) => &trace.arrivals[trace.hour_range(first, last)],
        None => &trace.arrivals[..],
    };
    if arrivals.is_empty() {
        bail!("no arrivals in the selected hours");
    }

    let outcome = sim::simulate(arrivals, config, &profile, &pricing);
    if args.json {
        let value = json!({
            "requests": outcome.requests,
            "p50": outcome.p50,
            "p90": outcome.p90,
            "p95": outcome.p95,
            "p99": outcome.p99,
            "cost_per_request": outcome.cost_per_request,
            "mean_batch": outcome.mean_batch,
            "config": config,
            "profile": profile,
            "pricing": pricing,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("configuration     {config}");
        println!("profile           {}", profile.describe());
        println!("pricing           {}", pricing.describe());
        println!("requests          {}", outcome.requests);
        println!("latency p50       {}", format_ms(outcome.p50));
        println!("latency p90       {}", format_ms(outcome.p90));
        println!("latency p95       {}", format_ms(outcome.p95));
        println!("latency p99       {}", format_ms(outcome.p99));
        println!("cost per request  ${:.6e}", outcome.cost_per_request);
        println!("mean batch size   {:.3}", outcome.mean_batch);
    }
    Ok(())
}
