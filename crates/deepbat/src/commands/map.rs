//! `deepbat map fit` and `deepbat map show`: two-phase MAPs fitted to traces, and the
//! statistics a MAP implies.
//!
//! A fit reports the measured statistics of the gaps beside the same statistics of the
//! fitted MAP, so that a reader sees at once what the fit kept (mean exactly; SCV, skewness
//! and the ACF decay rate where a MAP(2) can reach them) and what it could not.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use deepbat_core::map::{self, FitMethod, IDC_WINDOW_S, IntervalStatistics, Map};
use deepbat_core::trace::Trace;
use nalgebra::DMatrix;
use serde::Serialize;

use crate::cli::{MapFitArgs, MapShowArgs};
use crate::output::Outputs;

/// The statistics compared between a trace and its fit.
#[derive(Debug, Serialize)]
struct Figures {
    rate_per_s: f64,
    scv: f64,
    skewness: f64,
    lag1_acf: f64,
    decay_rate: f64,
    /// IDC of counts in 1-second windows.
    idc_1s: f64,
    /// Measured: the interval form; fitted: `IDC(∞)`.
    idc_limit: f64,
}

impl Figures {
    fn measured(stats: &IntervalStatistics) -> Self {
        Figures {
            rate_per_s: stats.rate(),
            scv: stats.scv,
            skewness: stats.skewness,
            lag1_acf: stats.lag1(),
            decay_rate: stats.decay_rate,
            idc_1s: stats.idc_window,
            idc_limit: stats.idc_intervals,
        }
    }

    fn of_map(map: &Map) -> Self {
        Figures {
            rate_per_s: map.rate(),
            scv: map.scv(),
            skewness: map.skewness(),
            lag1_acf: map.autocorrelation(1),
            decay_rate: map.decay_rate().unwrap_or(f64::NAN),
            idc_1s: map.idc(IDC_WINDOW_S),
            idc_limit: map.idc_asymptotic(),
        }
    }
}

/// One fitted scope (the whole trace or one hour).
#[derive(Debug, Serialize)]
struct FitReport {
    scope: String,
    /// The `k` of the `MAP<k>` files: hour + 1, or 1 for the whole trace.
    index: u32,
    arrivals: usize,
    method: FitMethod,
    d0: Vec<Vec<f64>>,
    d1: Vec<Vec<f64>>,
    measured: Figures,
    fitted: Figures,
}

pub fn fit(args: &MapFitArgs) -> Result<()> {
    if let Some(dir) = &args.out {
        crate::cli::check_out_dir(dir)?;
        // Old fits beside new ones would read back as one series: refuse to mix them.
        let holds_maps = std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("MAP") && (name.ends_with("_D0") || name.ends_with("_D1"))
            })
        });
        if holds_maps {
            bail!(
                "--out {} already holds MAP files; choose an empty or new folder",
                dir.display()
            );
        }
    }
    if args.max_lag == 0 {
        bail!("--max-lag 0: the decay rate needs at least one autocorrelation lag");
    }
    let trace = args.trace.load()?;

    let scopes: Vec<(String, u32, &[f64])> = if args.hourly {
        trace
            .arrivals
            .chunk_by(|a, b| Trace::hour_of(*a) == Trace::hour_of(*b))
            .map(|hour| {
                let h = Trace::hour_of(hour[0]);
                (format!("hour {h}"), h + 1, hour)
            })
            .collect()
    } else {
        vec![("all".to_string(), 1, &trace.arrivals[..])]
    };

    let mut reports = Vec::with_capacity(scopes.len());
    let mut maps = Vec::with_capacity(scopes.len());
    for (scope, index, arrivals) in scopes {
        let stats = IntervalStatistics::of_arrivals(arrivals, args.max_lag)
            .with_context(|| format!("{scope}: cannot measure the gaps"))?;
        let fitted = stats
            .fit()
            .with_context(|| format!("{scope}: cannot fit a MAP(2)"))?;
        tracing::debug!(%scope, method = ?fitted.method, "fitted");
        reports.push(FitReport {
            scope,
            index,
            arrivals: arrivals.len(),
            method: fitted.method,
            d0: rows(fitted.map.d0()),
            d1: rows(fitted.map.d1()),
            measured: Figures::measured(&stats),
            fitted: Figures::of_map(&fitted.map),
        });
        maps.push((index, fitted.map));
    }

    // Files first: a failed write must not leave a report claiming success.
    if let Some(dir) = &args.out {
        let mut outputs = Outputs::default();
        for (index, map) in &maps {
            for (suffix, matrix) in [("D0", map.d0()), ("D1", map.d1())] {
                let path = dir.join(format!("MAP{index}_{suffix}"));
                outputs.stage(&path, map::matrix_text(matrix).as_bytes())?;
            }
        }
        outputs.commit()?;
    }

    if args.json {
        outln!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            print_fit(report)?;
        }
    }
    if let Some(dir) = &args.out {
        tracing::info!(maps = maps.len(), dir = %dir.display(), "MAP files written");
    }
    Ok(())
}

fn print_fit(report: &FitReport) -> Result<()> {
    outln!(
        "{} ({} arrivals), fit: {}",
        report.scope,
        report.arrivals,
        method_text(&report.method)
    );
    print_matrices(&report.d0, &report.d1)?;
    outln!("  {:<12} {:>12} {:>12}", "statistic", "measured", "fitted");
    let (m, f) = (&report.measured, &report.fitted);
    for (name, measured, fitted) in [
        ("rate_per_s", m.rate_per_s, f.rate_per_s),
        ("scv", m.scv, f.scv),
        ("skewness", m.skewness, f.skewness),
        ("lag1_acf", m.lag1_acf, f.lag1_acf),
        ("decay_rate", m.decay_rate, f.decay_rate),
        ("idc_1s", m.idc_1s, f.idc_1s),
        ("idc_limit", m.idc_limit, f.idc_limit),
    ] {
        outln!(
            "  {name:<12} {:>12} {:>12}",
            number(measured),
            number(fitted)
        );
    }
    outln!();
    Ok(())
}

fn method_text(method: &FitMethod) -> String {
    match method {
        FitMethod::Exact => "exact".to_string(),
        FitMethod::ThirdMomentRule { e3 } => format!("third moment set to {e3:.6e}"),
        FitMethod::ClampedDecay { requested, used } => {
            format!("decay rate {requested:.6} clamped to {used:.6}")
        }
        FitMethod::Renewal => "renewal (decay rate 0)".to_string(),
        FitMethod::Erlang2 => "Erlang-2 (SCV below 0.5)".to_string(),
    }
}

/// One MAP's statistics, for `map show`.
#[derive(Debug, Serialize)]
struct ShowReport {
    name: String,
    phases: usize,
    d0: Vec<Vec<f64>>,
    d1: Vec<Vec<f64>>,
    #[serde(flatten)]
    figures: Figures,
}

pub fn show(args: &MapShowArgs) -> Result<()> {
    let maps = load_maps(&args.path)?;
    let reports: Vec<ShowReport> = maps
        .iter()
        .map(|(name, map)| ShowReport {
            name: name.clone(),
            phases: map.phases(),
            d0: rows(map.d0()),
            d1: rows(map.d1()),
            figures: Figures::of_map(map),
        })
        .collect();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    outln!(
        "{:<10} {:>6} {:>11} {:>9} {:>9} {:>10} {:>10} {:>9} {:>10}",
        "map",
        "phases",
        "rate_per_s",
        "scv",
        "skewness",
        "lag1_acf",
        "decay_rate",
        "idc_1s",
        "idc_limit"
    );
    for report in &reports {
        let f = &report.figures;
        outln!(
            "{:<10} {:>6} {:>11} {:>9} {:>9} {:>10} {:>10} {:>9} {:>10}",
            report.name,
            report.phases,
            number(f.rate_per_s),
            number(f.scv),
            number(f.skewness),
            number(f.lag1_acf),
            number(f.decay_rate),
            number(f.idc_1s),
            number(f.idc_limit)
        );
    }
    if reports.len() == 1 {
        print_matrices(&reports[0].d0, &reports[0].d1)?;
    }
    Ok(())
}

/// A folder of `MAP<k>`/`W<k>` pairs, or one pair named by its `_D0` (or `_D1`) file.
fn load_maps(path: &Path) -> Result<Vec<(String, Map)>> {
    if path.is_dir() {
        let series = map::load_series(path)?;
        return Ok(series
            .maps
            .into_iter()
            .map(|(_, prefix, map)| (file_name(&prefix), map))
            .collect());
    }
    let text = path.to_string_lossy();
    let Some(stem) = text
        .strip_suffix("_D0")
        .or_else(|| text.strip_suffix("_D1"))
    else {
        bail!(
            "{}: give a folder of MAP<k>_D0/_D1 files or a file ending in _D0 or _D1",
            path.display()
        );
    };
    let prefix = PathBuf::from(stem);
    let d0 = PathBuf::from(format!("{stem}_D0"));
    let d1 = PathBuf::from(format!("{stem}_D1"));
    Ok(vec![(file_name(&prefix), Map::load_pair(&d0, &d1)?)])
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn print_matrices(d0: &[Vec<f64>], d1: &[Vec<f64>]) -> Result<()> {
    for (name, matrix) in [("D0", d0), ("D1", d1)] {
        for (i, row) in matrix.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|x| format!("{x:>14.6}")).collect();
            let label = if i == 0 { name } else { "" };
            outln!("  {label:<3}{}", cells.join(" "));
        }
    }
    Ok(())
}

fn rows(matrix: &DMatrix<f64>) -> Vec<Vec<f64>> {
    matrix
        .row_iter()
        .map(|row| row.iter().copied().collect())
        .collect()
}

/// A figure with 4 significant decimals, in scientific form when very small or large; `-`
/// for NaN.
fn number(value: f64) -> String {
    if value.is_nan() {
        "-".to_string()
    } else if value != 0.0 && (value.abs() < 1e-3 || value.abs() >= 1e6) {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}
