//! `deepbat oracle`: the clairvoyant best configuration of every window, or the
//! cost-latency frontier of one.
//!
//! Windows are consecutive, non-overlapping runs of `--window` arrivals of the selected
//! hours; a shorter run left at the end is not a window. Each window is simulated alone
//! (its first arrival opens a batch), as in training labels and replay.

use crate::cli::OracleArgs;
use crate::output::{Outputs, csv_bytes, progress};
use anyhow::{Result, bail};
use deepbat_core::optimizer::{Choice, Objective};
use deepbat_core::oracle::{best_on, frontier};
use deepbat_core::platform::evaluate_grid_on;
use rayon::prelude::*;
use serde::Serialize;

/// One row of the per-window output.
#[derive(Serialize)]
struct WindowBest {
    window: usize,
    first_arrival_s: f64,
    last_arrival_s: f64,
    memory_mb: u32,
    batch_size: u32,
    timeout_s: f64,
    feasible: bool,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    cost_per_request: f64,
    mean_batch: f64,
}

/// One point of the frontier.
#[derive(Serialize)]
struct FrontierPoint {
    memory_mb: u32,
    batch_size: u32,
    timeout_s: f64,
    cost_per_request: f64,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    mean_batch: f64,
}

pub fn run(args: &OracleArgs) -> Result<()> {
    if args.window == 0 {
        bail!("--window 0: a window holds at least one arrival");
    }
    let grid = args.setting.grid()?;
    let profile = args.setting.profile(&grid)?;
    let pricing = args.setting.pricing()?;
    let platform = args.platform.platform()?;
    let objective = Objective {
        slo: args.slo,
        percentile: args.percentile,
        gamma: 0.0,
    };
    let trace = args.trace.load()?;
    let arrivals = match args.hours {
        Some((first, last)) => &trace.arrivals[trace.hour_range(first, last)],
        None => &trace.arrivals[..],
    };
    let windows: Vec<&[f64]> = arrivals.chunks_exact(args.window).collect();
    if windows.is_empty() {
        bail!(
            "{} arrivals make no complete window of {}",
            arrivals.len(),
            args.window
        );
    }
    tracing::info!(
        windows = windows.len(),
        configurations = grid.len(),
        profile = %profile.describe(),
        pricing = %pricing.describe(),
        platform = %platform.describe(),
        "searching"
    );

    let bytes = if let Some(k) = args.frontier_window {
        let Some(window) = windows.get(k) else {
            bail!(
                "--frontier-window {k}: the trace has windows 0..={}",
                windows.len() - 1
            );
        };
        let outcomes = evaluate_grid_on(window, &grid, &profile, &pricing, &platform);
        let points: Vec<FrontierPoint> = frontier(&grid, &outcomes, args.percentile)
            .into_iter()
            .map(|i| {
                let (c, o) = (grid.config(i), outcomes[i]);
                FrontierPoint {
                    memory_mb: c.memory_mb,
                    batch_size: c.batch_size,
                    timeout_s: c.timeout,
                    cost_per_request: o.cost_per_request,
                    p50: o.p50,
                    p90: o.p90,
                    p95: o.p95,
                    p99: o.p99,
                    mean_batch: o.mean_batch,
                }
            })
            .collect();
        tracing::info!(points = points.len(), window = k, "frontier");
        csv_bytes(&points)?
    } else {
        let bar = progress(windows.len() as u64, "oracle");
        let choices: Vec<Choice> = windows
            .par_iter()
            .map(|window| {
                let choice = best_on(window, &grid, &profile, &pricing, &platform, &objective);
                bar.inc(1);
                choice
            })
            .collect();
        bar.finish_and_clear();
        let infeasible = choices.iter().filter(|c| !c.feasible).count();
        if infeasible > 0 {
            tracing::warn!(infeasible, "windows where no configuration meets the SLO");
        }
        let rows: Vec<WindowBest> = choices
            .iter()
            .zip(&windows)
            .enumerate()
            .map(|(k, (choice, window))| WindowBest {
                window: k,
                first_arrival_s: window[0],
                last_arrival_s: window[window.len() - 1],
                memory_mb: choice.config.memory_mb,
                batch_size: choice.config.batch_size,
                timeout_s: choice.config.timeout,
                feasible: choice.feasible,
                p50: choice.expected.p50,
                p90: choice.expected.p90,
                p95: choice.expected.p95,
                p99: choice.expected.p99,
                cost_per_request: choice.expected.cost_per_request,
                mean_batch: choice.expected.mean_batch,
            })
            .collect();
        csv_bytes(&rows)?
    };

    match &args.out {
        Some(path) => {
            let mut outputs = Outputs::default();
            outputs.stage(path, &bytes)?;
            outputs.commit()?;
            tracing::info!(path = %path.display(), "written");
        }
        None => out!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}
