//! `deepbat profile show` and `deepbat profile fit`.

use crate::cli::{ProfileFitArgs, ProfileShowArgs};
use crate::output::Outputs;
use anyhow::{Context, Result, bail};
use deepbat_core::grid::DEFAULT_MEMORY_MB;
use deepbat_core::profile::fit::fit_parametric;
use deepbat_core::profile::{Domain, read_measurements};
use deepbat_core::{ProfileSpec, ServiceProfile};
use serde_json::json;

/// Batch sizes shown by default (those inside a measured profile's range).
const DEFAULT_BATCHES: [u32; 6] = [1, 2, 4, 8, 16, 32];

pub fn show(args: &ProfileShowArgs) -> Result<()> {
    let unchecked = args.profile.load()?;
    let domain = (!unchecked.extrapolates())
        .then(|| unchecked.domain())
        .flatten();
    let memory = if args.memory.is_empty() {
        default_memories(domain)
    } else {
        args.memory.clone()
    };
    let batches = if args.batch.is_empty() {
        default_batches(domain)
    } else {
        args.batch.clone()
    };
    if let Some(m) = memory.iter().find(|m| !(128..=10240).contains(*m)) {
        bail!("--memory {m}: Lambda memory is 128..=10240 MB");
    }
    if batches.contains(&0) {
        bail!("--batch 0: a batch holds at least one request");
    }
    let profile = args.profile.load_for(&memory, &batches)?;

    if args.json {
        let rows: Vec<_> = memory
            .iter()
            .map(|&m| {
                let seconds: Vec<f64> = batches
                    .iter()
                    .map(|&b| profile.service_time(m, b))
                    .collect();
                json!({ "memory_mb": m, "seconds": seconds })
            })
            .collect();
        let value = json!({ "profile": profile, "batch_sizes": batches, "rows": rows });
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    outln!("profile: {}", profile.describe());
    outln!("s(M, b) in milliseconds");
    out!("{:>9}", "M \\ b");
    for b in &batches {
        out!(" {b:>10}");
    }
    outln!();
    for &m in &memory {
        out!("{m:>9}");
        for &b in &batches {
            out!(" {:>10.1}", profile.service_time(m, b) * 1e3);
        }
        outln!();
    }
    Ok(())
}

fn default_memories(domain: Option<Domain>) -> Vec<u32> {
    let Some(d) = domain else {
        return DEFAULT_MEMORY_MB.to_vec();
    };
    let (low, high) = d.memory_mb;
    let mut values: Vec<u32> = DEFAULT_MEMORY_MB
        .iter()
        .copied()
        .filter(|m| (low..=high).contains(m))
        .chain([low, high])
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

fn default_batches(domain: Option<Domain>) -> Vec<u32> {
    let Some(d) = domain else {
        return DEFAULT_BATCHES.to_vec();
    };
    let (low, high) = d.batch_size;
    let mut values: Vec<u32> = DEFAULT_BATCHES
        .iter()
        .copied()
        .filter(|b| (low..=high).contains(b))
        .chain([low, high])
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

pub fn fit(args: &ProfileFitArgs) -> Result<()> {
    let name = args.measurements.display().to_string();
    let measurements = read_measurements(&args.measurements)?;
    let fit = fit_parametric(&measurements, &name)?;
    let spec = ProfileSpec::Parametric(fit.parameters);
    let usable = spec.validate(&name);

    if let Some(path) = &args.out {
        if let Err(e) = &usable {
            bail!(
                "the fitted profile cannot be used ({e}); {} not written",
                path.display()
            );
        }
        let mut text = format!(
            "# Fitted by deepbat profile fit to {} points of {name}: MAPE {:.2} %, max error {:.2} %\n",
            fit.points, fit.mape, fit.max_error
        );
        text.push_str(&toml::to_string(&spec).context("writing the profile as TOML")?);
        let mut outputs = Outputs::default();
        outputs.stage(path, text.as_bytes())?;
        outputs.commit()?;
    }

    let p = fit.parameters;
    if args.json {
        let value = json!({
            "profile": spec,
            "points": fit.points,
            "mape_percent": fit.mape,
            "max_error_percent": fit.max_error,
            "max_abs_error_s": fit.max_abs_error,
            "rmse_s": fit.rmse,
            "usable": usable.is_ok(),
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        outln!(
            "fitted s(M, b) = a0 + a1 b + (c0 + c1 b) 1769 / min(M, m_sat) to {} points",
            fit.points
        );
        outln!("a0         {:>12.6} s", p.a0);
        outln!("a1         {:>12.6} s per request", p.a1);
        outln!("c0         {:>12.6} vCPU-s", p.c0);
        outln!("c1         {:>12.6} vCPU-s per request", p.c1);
        outln!("m_sat_mb   {:>12.0}", p.m_sat_mb);
        outln!("MAPE       {:>12.3} %", fit.mape);
        outln!(
            "max error  {:>12.3} % ({:.6} s)",
            fit.max_error,
            fit.max_abs_error
        );
        outln!("RMSE       {:>12.6} s", fit.rmse);
        if let Err(e) = usable {
            outln!("warning: not usable as a profile: {e}");
        }
        if let Some(path) = &args.out {
            outln!("profile written to {}", path.display());
        }
    }
    Ok(())
}
