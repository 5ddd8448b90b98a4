//! `deepbat replay`: run policies over a trace causally and write what they did.

use crate::cli::{Gamma, ReplayArgs, check_out_dir, static_config};
use crate::output::{Outputs, csv_bytes, progress};
use crate::surrogate_policy::SurrogatePolicy;
use anyhow::{Context, Result, bail};
use deepbat_core::analytic::{HourlyAnalytic, Method, Overhead};
use deepbat_core::optimizer::Objective;
use deepbat_core::policy::{Decision, Oracle, Policy, Setting, SimLast, Static};
use deepbat_core::replay::{self, Report};
use deepbat_core::trace::Trace;
use deepbat_core::{Config, Grid};
use deepbat_model::Bundle;
use std::path::{Path, PathBuf};

/// Names `--policies` accepts.
const POLICIES: [&str; 6] = [
    "oracle",
    "sim-last",
    "deepbat",
    "static",
    "batch",
    "batch-exact",
];

pub fn run(args: &ReplayArgs) -> Result<()> {
    // The SLO every window is judged by; gamma only makes the deepbat policy careful.
    let objective = Objective {
        slo: args.objective.slo,
        percentile: args.objective.percentile,
        gamma: 0.0,
    };
    check_out_dir(&args.out)?;
    for name in &args.policies {
        if !POLICIES.contains(&name.as_str()) {
            bail!(
                "--policies: unknown policy '{name}'; known: {}",
                POLICIES.join(", ")
            );
        }
    }
    let wants = |name: &str| args.policies.iter().any(|p| p == name);
    let fixed = match (&args.static_config, wants("static")) {
        (Some(text), _) => Some(static_config(text)?),
        (None, true) => bail!("the static policy needs --static-config MEMORY,BATCH,TIMEOUT"),
        (None, false) => None,
    };

    // The model, when given, fixes the grid, profile and pricing of the whole replay.
    let bundle = match &args.model {
        Some(dir) => Some(Bundle::load(dir)?),
        None if wants("deepbat") => bail!("the deepbat policy needs --model DIR"),
        None => None,
    };
    let grid = args.setting.grid()?;
    let mut setting = Setting {
        profile: args.setting.profile(&grid)?,
        grid,
        pricing: args.setting.pricing()?,
        objective,
        window: 256,
        platform: args.platform.platform()?,
    };
    if let Some(bundle) = &bundle {
        adopt_model_setting(&mut setting, bundle, &args.setting)?;
    }

    let trace = args.trace.load()?;
    let mut policies = build_policies(
        &args.policies,
        bundle,
        fixed,
        &setting,
        args.objective.gamma,
    );
    let report = replay_and_report(
        &trace,
        (args.hours.0, args.hours.1),
        &setting,
        &mut policies,
    )?;
    let input = serde_json::json!({
        "command": "replay",
        "trace": args.trace.paths,
        "format": args.trace.format,
        "function": args.trace.function,
        "column": args.trace.column,
        "unit": args.trace.unit,
        "spread_seed": args.trace.spread_seed,
        "hours": [args.hours.0, args.hours.1],
        "model": args.model,
        "gamma": format!("{:?}", args.objective.gamma),
        "static_config": fixed,
    });
    write_report(&report, &args.out, &run_record(&setting, &policies, input))?;
    outln!("{}", replay::summary_table(&report.overall));
    print_notes(&policies)?;
    outln!(
        "wrote {}, {} and {}",
        args.out.join("windows.csv").display(),
        args.out.join("hours.csv").display(),
        args.out.join("run.json").display()
    );
    Ok(())
}

/// What the policies want a reader to know about their decisions.
pub fn print_notes(policies: &[Box<dyn Policy>]) -> Result<()> {
    for policy in policies {
        for note in policy.notes() {
            outln!("note: {}: {note}", policy.name());
        }
    }
    Ok(())
}

/// Takes the model's grid, profile, pricing and window; a conflicting explicit choice is an
/// error, since the surrogate only knows the setting it was trained for.
pub fn adopt_model_setting(
    setting: &mut Setting,
    bundle: &Bundle,
    explicit: &crate::cli::SettingArgs,
) -> Result<()> {
    if explicit.profile.given() && &setting.profile != bundle.profile() {
        bail!("--profile differs from the profile the model was trained for");
    }
    if explicit.grid.is_some() && &setting.grid != bundle.grid() {
        bail!("--grid differs from the grid the model was trained for");
    }
    setting.grid = bundle.grid().clone();
    setting.profile = bundle.profile().clone();
    setting.pricing = *bundle.pricing();
    setting.window = bundle.window();
    Ok(())
}

/// Policies in the order asked for.
pub fn build_policies(
    names: &[String],
    bundle: Option<Bundle>,
    fixed: Option<Config>,
    setting: &Setting,
    gamma: Gamma,
) -> Vec<Box<dyn Policy>> {
    let mut bundle = bundle;
    names
        .iter()
        .filter_map(|name| -> Option<Box<dyn Policy>> {
            match name.as_str() {
                "oracle" => Some(Box::new(Oracle)),
                "sim-last" => Some(Box::new(SimLast)),
                "static" => fixed.map(|c| Box::new(Static(c)) as Box<dyn Policy>),
                "batch" => Some(Box::new(HourlyAnalytic::new(
                    Method::BatchApprox,
                    analytic_overhead(setting),
                ))),
                "batch-exact" => Some(Box::new(HourlyAnalytic::new(
                    Method::Exact,
                    analytic_overhead(setting),
                ))),
                "deepbat" => bundle.take().map(|b| {
                    let gamma = gamma.resolve(&b, setting.objective.percentile);
                    tracing::info!(gamma, "deepbat policy safety factor");
                    let careful = Objective {
                        gamma,
                        ..setting.objective
                    };
                    let fallback = Decision {
                        config: safest(&setting.grid),
                        feasible: false,
                        expected: None,
                    };
                    Box::new(SurrogatePolicy::new(b, careful, fallback)) as Box<dyn Policy>
                }),
                _ => None,
            }
        })
        .collect()
}

/// The analytic models know the invoke overhead; they model neither a concurrency limit
/// nor cold starts (their function stage has no queue and is always warm).
fn analytic_overhead(setting: &Setting) -> Overhead {
    let platform = &setting.platform;
    if platform.concurrency.is_some() || platform.cold_start.is_some() {
        tracing::warn!(
            "the batch and batch-exact policies ignore --concurrency and --cold-start; \
             the replay still simulates them"
        );
    }
    Overhead {
        latency: platform.invoke_overhead_s,
        billed: 0.0,
    }
}

/// The configuration used before a full window has arrived: most memory, no batching.
fn safest(grid: &Grid) -> Config {
    Config {
        memory_mb: grid.memory_mb.iter().copied().max().unwrap_or(1769),
        batch_size: grid.batch_sizes.iter().copied().min().unwrap_or(1),
        timeout: grid.timeouts.iter().copied().fold(f64::INFINITY, f64::min),
    }
}

/// Runs the replay with a progress bar.
pub fn replay_and_report(
    trace: &Trace,
    hours: (u32, u32),
    setting: &Setting,
    policies: &mut [Box<dyn Policy>],
) -> Result<Report> {
    let windows = replay::windows(trace, hours, setting.window).len();
    if windows == 0 {
        bail!(
            "hours {}..{} hold no complete window of {} arrivals after the first {} arrivals",
            hours.0,
            hours.1,
            setting.window,
            setting.window + 1
        );
    }
    tracing::info!(windows, policies = policies.len(), "replaying");
    let bar = progress(replay::progress_steps(windows, policies.len()), "replay");
    let report = replay::run(trace, hours, setting, policies, &|n| bar.inc(n));
    bar.finish_and_clear();
    Ok(report)
}

/// What a replay ran with, for `run.json`: enough to run it again.
pub fn run_record(
    setting: &Setting,
    policies: &[Box<dyn Policy>],
    input: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "input": input,
        "policies": policies.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "objective": setting.objective,
        "window": setting.window,
        "grid": setting.grid,
        "profile": setting.profile,
        "pricing": setting.pricing,
        "platform": setting.platform,
        "notes": policies
            .iter()
            .flat_map(|p| p.notes().into_iter().map(move |n| format!("{}: {n}", p.name())))
            .collect::<Vec<_>>(),
        "deepbat_version": env!("CARGO_PKG_VERSION"),
    })
}

/// Writes `windows.csv`, `hours.csv` and `run.json` (the setting the replay ran with) into
/// `dir`, all or none.
pub fn write_report(report: &Report, dir: &Path, run: &serde_json::Value) -> Result<()> {
    let mut outputs = Outputs::default();
    outputs.stage(
        &dir.join("run.json"),
        serde_json::to_string_pretty(run)?.as_bytes(),
    )?;
    outputs.stage(&dir.join("windows.csv"), &csv_bytes(&report.windows)?)?;
    outputs.stage(&dir.join("hours.csv"), &csv_bytes(&report.hours)?)?;
    outputs
        .commit()
        .with_context(|| format!("writing the replay into {}", dir.display()))
}

/// The default model directory shipped in the repository.
pub fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default")
}
