//! `deepbat analytic`: the analytical models for one configuration, or solved over a grid.
//!
//! The MAP comes from a BATCH pair of matrix files, a folder of them, or a MAP(2) fitted to
//! a trace. For one configuration both models are shown side by side (the exact model's
//! long-run figures and BATCH's approximation); with `--slo` each solves the grid.

use crate::cli::{AnalyticArgs, check_config};
use anyhow::{Context, Result, anyhow, bail};
use deepbat_core::analytic::{self, ApproxModel, BatchModel, Method, Overhead, batch_approx};
use deepbat_core::map::{self, DEFAULT_MAX_LAG, IntervalStatistics, Map};
use deepbat_core::optimizer::Objective;
use deepbat_core::profile::ServiceProfile;
use deepbat_core::trace::{self, Format, LoadOptions};
use deepbat_core::units::format_ms;
use deepbat_core::{Config, PERCENTILES};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

pub fn run(args: &AnalyticArgs) -> Result<()> {
    let single = single_config(args)?;
    if single.is_none() && args.slo.is_none() {
        bail!(
            "give --memory, --batch and --timeout for one configuration, or --slo to solve the grid"
        );
    }
    let mut methods = methods(&args.method)?;
    // The profile must cover every memory and batch size the models will ask it about.
    let grid = args.setting.grid()?;
    let mut memories: Vec<u32> = single.iter().map(|c| c.memory_mb).collect();
    let mut largest = single.map_or(1, |c| c.batch_size);
    if args.slo.is_some() {
        memories.extend(&grid.memory_mb);
        largest = largest.max(grid.batch_sizes.iter().copied().max().unwrap_or(1));
    }
    let batches: Vec<u32> = (1..=largest).collect();
    let profile = args.setting.profile.load_for(&memories, &batches)?;
    let pricing = args.setting.pricing()?;
    let (map, source) = load_map(args)?;
    // BATCH's approximation exists for one- and two-phase MAPs and chains small enough to
    // exponentiate; where it does not, show the exact model alone (or fail if only it was
    // asked for).
    let chain_states = largest as usize * map.phases();
    let approx_unavailable = if map.phases() > 2 {
        Some(format!(
            "BATCH's model is defined for MAPs of one or two phases; this one has {}",
            map.phases()
        ))
    } else if chain_states > batch_approx::MAX_CHAIN_STATES {
        Some(format!(
            "BATCH's level-phase chain for batch size {largest} has {chain_states} states; \
             its approximation is computed for at most {}",
            batch_approx::MAX_CHAIN_STATES
        ))
    } else {
        None
    };
    if let (Some(why), true) = (approx_unavailable, methods.contains(&Method::BatchApprox)) {
        if methods.len() == 1 {
            bail!("--method batch-approx: {why}");
        }
        tracing::warn!("{why}: showing the exact model only");
        methods.retain(|m| *m != Method::BatchApprox);
    }
    let overhead = Overhead {
        latency: args.invoke_overhead.unwrap_or(0.0),
        billed: 0.0,
    };
    if !(overhead.latency.is_finite() && overhead.latency >= 0.0) {
        bail!(
            "--invoke-overhead {}: must not be negative",
            overhead.latency
        );
    }

    let mut report = json!({
        "map": describe_map(&map, &source),
        "profile": profile,
        "pricing": pricing,
    });
    if !args.json {
        print_map(&report["map"])?;
        outln!("profile           {}", profile.describe());
        outln!("pricing           {}", pricing.describe());
    }

    if let Some(config) = single {
        let service: Vec<f64> = (1..=config.batch_size)
            .map(|k| profile.service_time(config.memory_mb, k))
            .collect();
        let mut one = json!({ "config": config });
        for &method in &methods {
            one[key(method)] = match method {
                Method::Exact => exact_figures(&map, config, &service, overhead, &pricing)?,
                Method::BatchApprox => {
                    approx_figures(&map, config, &service, args.percentile, &pricing)?
                }
            };
        }
        if !args.json {
            print_single(&one, &methods)?;
        }
        report["configuration"] = one;
    }

    if let Some(slo) = args.slo {
        let objective = Objective {
            slo,
            percentile: args.percentile,
            gamma: 0.0,
        };
        let mut solved =
            json!({ "slo": slo, "percentile": args.percentile, "grid_size": grid.len() });
        for &method in &methods {
            let started = Instant::now();
            let choice = analytic::solve(
                method, &map, &grid, &profile, &pricing, &objective, overhead,
            )?;
            let seconds = started.elapsed().as_secs_f64();
            solved[key(method)] = json!({
                "config": choice.config,
                "feasible": choice.feasible,
                "latency": choice.expected.percentile(args.percentile),
                "cost_per_request": choice.expected.cost_per_request,
                "mean_batch": choice.expected.mean_batch,
                "solve_seconds": seconds,
            });
            if !args.json {
                outln!(
                    "{:<17} {}{}: p{} {}, ${:.6e}/request, mean batch {:.2} (solved {} configurations in {:.2} s)",
                    method.name(),
                    choice.config,
                    if choice.feasible {
                        ""
                    } else {
                        " (nothing meets the SLO; fastest shown)"
                    },
                    args.percentile,
                    format_ms(choice.expected.percentile(args.percentile)),
                    choice.expected.cost_per_request,
                    choice.expected.mean_batch,
                    grid.len(),
                    seconds
                );
            }
        }
        report["grid"] = solved;
    }

    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// The one configuration asked for, when all three of its flags are given.
fn single_config(args: &AnalyticArgs) -> Result<Option<Config>> {
    match (args.memory, args.batch, args.timeout) {
        (Some(memory_mb), Some(batch_size), Some(timeout)) => {
            let config = Config {
                memory_mb,
                batch_size,
                timeout,
            };
            check_config(&config)?;
            Ok(Some(config))
        }
        (None, None, None) => Ok(None),
        _ => bail!("one configuration needs all of --memory, --batch and --timeout"),
    }
}

fn methods(text: &str) -> Result<Vec<Method>> {
    match text {
        "exact" | "analytic-exact" => Ok(vec![Method::Exact]),
        "batch-approx" | "batch" => Ok(vec![Method::BatchApprox]),
        "both" => Ok(vec![Method::Exact, Method::BatchApprox]),
        other => bail!("--method '{other}': use exact, batch-approx or both"),
    }
}

fn key(method: Method) -> &'static str {
    match method {
        Method::Exact => "exact",
        Method::BatchApprox => "batch_approx",
    }
}

/// The MAP and a line saying where it came from.
fn load_map(args: &AnalyticArgs) -> Result<(Map, String)> {
    let [first, ..] = args.map.as_slice() else {
        bail!("--map needs a path");
    };
    if args.index.is_some() && !(args.map.len() == 1 && first.is_dir()) {
        bail!(
            "--index selects a MAP in a folder of MAP files; {} is not a folder",
            first.display()
        );
    }
    if args.map.len() == 1 && first.is_dir() {
        let series = map::load_series(first)?;
        let (k, prefix, map) = match args.index {
            Some(k) => series
                .maps
                .iter()
                .find(|(i, _, _)| *i == k)
                .ok_or_else(|| {
                    let known: Vec<String> =
                        series.maps.iter().map(|(i, _, _)| i.to_string()).collect();
                    anyhow!(
                        "--index {k}: {} holds MAPs {}",
                        first.display(),
                        known.join(", ")
                    )
                })?,
            None => &series.maps[0],
        };
        return Ok((map.clone(), format!("{} (MAP {k})", prefix.display())));
    }
    if args.map.len() == 1 && first.to_string_lossy().ends_with("_D0") {
        let text = first.to_string_lossy();
        let d1 = Path::new(&format!("{}_D1", &text[..text.len() - 3])).to_path_buf();
        let map = Map::load_pair(first, &d1)?;
        return Ok((map, first.display().to_string()));
    }

    // A trace: fit a MAP(2) to its gaps.
    let format: Format = args.format.parse().map_err(|e| anyhow!("--format: {e}"))?;
    let trace = trace::load(&args.map, &LoadOptions::new(format))?;
    let arrivals = match args.hours {
        Some((a, b)) => &trace.arrivals[trace.hour_range(a, b)],
        None => &trace.arrivals[..],
    };
    if let (Some((a, b)), true) = (args.hours, arrivals.len() < 8) {
        let last = trace
            .arrivals
            .last()
            .map_or(0, |&t| deepbat_core::trace::Trace::hour_of(t));
        bail!(
            "--hours {a}..{b} holds {} arrivals, too few to fit a MAP (the trace ends in hour {last})",
            arrivals.len()
        );
    }
    let statistics = IntervalStatistics::of_arrivals(arrivals, DEFAULT_MAX_LAG)
        .with_context(|| format!("fitting a MAP(2) to {}", first.display()))?;
    let fitted = statistics.fit()?;
    Ok((
        fitted.map,
        format!(
            "MAP(2) fitted to {} arrivals of {} ({:?})",
            arrivals.len(),
            first.display(),
            fitted.method
        ),
    ))
}

fn describe_map(map: &Map, source: &str) -> Value {
    let rows = |m: &nalgebra::DMatrix<f64>| -> Vec<Vec<f64>> {
        (0..m.nrows())
            .map(|i| m.row(i).iter().copied().collect())
            .collect()
    };
    json!({
        "source": source,
        "phases": map.phases(),
        "d0": rows(map.d0()),
        "d1": rows(map.d1()),
        "rate": map.rate(),
        "scv": map.scv(),
        "lag1_autocorrelation": map.autocorrelation(1),
        "idc_asymptotic": map.idc_asymptotic(),
    })
}

fn print_map(m: &Value) -> Result<()> {
    outln!("MAP               {}", m["source"].as_str().unwrap_or(""));
    outln!(
        "                  {} phases, rate {:.4}/s, SCV {:.4}, lag-1 autocorrelation {:.4}, IDC {:.3}",
        m["phases"],
        m["rate"].as_f64().unwrap_or(f64::NAN),
        m["scv"].as_f64().unwrap_or(f64::NAN),
        m["lag1_autocorrelation"].as_f64().unwrap_or(f64::NAN),
        m["idc_asymptotic"].as_f64().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn exact_figures(
    map: &Map,
    config: Config,
    service: &[f64],
    overhead: Overhead,
    pricing: &deepbat_core::Pricing,
) -> Result<Value> {
    let model = BatchModel::new(map, config.batch_size, config.timeout)?;
    let mut v = json!({
        "opening_phase": model.alpha(),
        "batch_size_pmf": model.batch_size_pmf(),
        "mean_batch": model.mean_batch(),
        "cost_per_request": model.cost_per_request(config.memory_mb, service, overhead.billed, pricing),
    });
    for p in PERCENTILES {
        v[format!("p{p}")] = json!(model.latency_quantile(p / 100.0, service, overhead.latency));
    }
    Ok(v)
}

fn approx_figures(
    map: &Map,
    config: Config,
    service: &[f64],
    percentile: f64,
    pricing: &deepbat_core::Pricing,
) -> Result<Value> {
    let model = ApproxModel::new(map, config.batch_size, config.timeout)?;
    let mut v = json!({
        "opening_phase": model.alpha(),
        "batch_size_pmf": model.batch_size_pmf(),
        "mean_batch": model.mean_batch(),
        "cost_per_request": model.cost_per_request(config.memory_mb, service, percentile / 100.0, pricing),
    });
    for p in PERCENTILES {
        v[format!("p{p}")] =
            json!(model.latency_quantile(p / 100.0, service, batch_approx::BATCH_TOLERANCE));
    }
    Ok(v)
}

fn print_single(one: &Value, methods: &[Method]) -> Result<()> {
    outln!(
        "configuration     {}",
        serde_json::from_value::<Config>(one["config"].clone())
            .map(|c| c.to_string())
            .unwrap_or_default()
    );
    let columns: Vec<&Value> = methods.iter().map(|m| &one[key(*m)]).collect();
    let mut header = format!("{:<18}", "");
    for m in methods {
        header += &format!("{:>16}", m.name());
    }
    outln!("{header}");
    let row = |label: &str, f: &dyn Fn(&Value) -> String| -> Result<()> {
        let mut line = format!("{label:<18}");
        for c in &columns {
            line += &format!("{:>16}", f(c));
        }
        outln!("{line}");
        Ok(())
    };
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    row("opening phase", &|c| {
        let phases: Vec<String> = c["opening_phase"]
            .as_array()
            .map(|a| a.iter().map(|x| format!("{:.4}", number(x))).collect())
            .unwrap_or_default();
        phases.join(" ")
    })?;
    let sizes = columns
        .iter()
        .filter_map(|c| c["batch_size_pmf"].as_array().map(Vec::len))
        .max()
        .unwrap_or(0);
    for k in 0..sizes {
        row(&format!("P(batch = {})", k + 1), &|c| {
            format!("{:.6}", number(&c["batch_size_pmf"][k]))
        })?;
    }
    row("mean batch", &|c| {
        format!("{:.6}", number(&c["mean_batch"]))
    })?;
    for p in PERCENTILES {
        row(&format!("latency p{p}"), &|c| {
            format!("{:.6} s", number(&c[format!("p{p}")]))
        })?;
    }
    row("cost per request", &|c| {
        format!("${:.6e}", number(&c["cost_per_request"]))
    })?;
    if methods.contains(&Method::BatchApprox) {
        outln!(
            "batch-approx: BATCH's computation as published (heuristic opening phase, uniform waits, \
             percentiles to 0.01 s, cost at the percentile batch size)"
        );
    }
    Ok(())
}
