//! `deepbat demo`: the whole job with no input.
//!
//! It generates a seeded bursty trace (one hour of history plus the hours to replay), loads
//! the model shipped in the repository, and replays `oracle`, `sim-last` and `deepbat` at a
//! 100 ms SLO.

use super::replay::{build_policies, replay_and_report, run_record, shipped_model, write_report};
use crate::cli::{DemoArgs, check_out_dir};
use anyhow::{Context, Result};
use deepbat_core::optimizer::Objective;
use deepbat_core::policy::Setting;
use deepbat_core::replay;
use deepbat_core::synth;
use deepbat_model::Bundle;

pub fn run(args: &DemoArgs) -> Result<()> {
    if args.hours == 0 {
        anyhow::bail!("--hours 0: replay at least one hour");
    }
    if let Some(out) = &args.out {
        check_out_dir(out)?;
    }
    let dir = args.model.clone().unwrap_or_else(shipped_model);
    let bundle =
        Bundle::load(&dir).with_context(|| format!("loading the demo model {}", dir.display()))?;
    let trace = synth::bursty_day(9, args.hours + 1, args.seed);
    outln!(
        "synthetic bursty trace: {} arrivals over {} hours (seed {}); hour 0 is history",
        trace.len(),
        args.hours + 1,
        args.seed
    );
    let setting = Setting {
        grid: bundle.grid().clone(),
        profile: bundle.profile().clone(),
        pricing: *bundle.pricing(),
        objective: Objective::p95(args.slo),
        window: bundle.window(),
        platform: Default::default(),
    };
    let names: Vec<String> = ["oracle", "sim-last", "deepbat"].map(String::from).to_vec();
    let mut policies = build_policies(&names, Some(bundle), None, &setting, args.gamma);
    let report = replay_and_report(&trace, (1, args.hours), &setting, &mut policies)?;
    if let Some(out) = &args.out {
        let input = serde_json::json!({
            "command": "demo",
            "seed": args.seed,
            "hours": args.hours,
            "model": dir,
            "gamma": format!("{:?}", args.gamma),
        });
        write_report(&report, out, &run_record(&setting, &policies, input))?;
    }
    outln!("{}", replay::summary_table(&report.overall));
    Ok(())
}
