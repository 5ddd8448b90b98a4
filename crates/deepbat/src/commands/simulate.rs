//! `deepbat simulate`: the exact simulation of one configuration over a trace.

use crate::cli::{SimulateArgs, check_config};
use anyhow::{Result, bail};
use deepbat_core::Config;
use deepbat_core::platform::simulate_on;
use deepbat_core::units::format_ms;
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
    let profile = args
        .setting
        .profile
        .load_for(&[config.memory_mb], &[config.batch_size])?;
    let pricing = args.setting.pricing()?;
    let platform = args.platform.platform()?;
    let trace = args.trace.load()?;
    let arrivals = match args.hours {
        Some((first, last)) => &trace.arrivals[trace.hour_range(first, last)],
        None => &trace.arrivals[..],
    };
    if arrivals.is_empty() {
        bail!("no arrivals in the selected hours");
    }

    let outcome = simulate_on(arrivals, config, &profile, &pricing, &platform);
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
            "platform": platform,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        outln!("configuration     {config}");
        outln!("profile           {}", profile.describe());
        outln!("pricing           {}", pricing.describe());
        outln!("platform          {}", platform.describe());
        outln!("requests          {}", outcome.requests);
        outln!("latency p50       {}", format_ms(outcome.p50));
        outln!("latency p90       {}", format_ms(outcome.p90));
        outln!("latency p95       {}", format_ms(outcome.p95));
        outln!("latency p99       {}", format_ms(outcome.p99));
        outln!("cost per request  ${:.6e}", outcome.cost_per_request);
        outln!("mean batch size   {:.3}", outcome.mean_batch);
    }
    Ok(())
}
