//! `deepbat trace plot`: how the load and the burstiness of one or more traces change over
//! time, drawn as one figure in SVG and PNG, with the spread of the hourly index of
//! dispersion printed as a table.
//!
//! Each `--trace` group is one series (see [`PlotRequest`] for how options are grouped).

use crate::cli::{PlotRequest, SeriesSpec};
use crate::output::Outputs;
use crate::plot::{self, Figure, Series};
use anyhow::{Result, bail};
use deepbat_core::trace::Trace;
use deepbat_core::trace::burstiness::{Spread, idc_per_hour, rate_per_minute};
use std::path::{Path, PathBuf};

pub fn run(request: &PlotRequest) -> Result<()> {
    // The output paths are checked before any trace is read.
    let (svg_path, png_path) = output_paths(&request.out);
    for path in [&svg_path, &png_path] {
        // A directory in the way would only be found when the second file is renamed into
        // place, after the first one already was.
        if path.is_dir() {
            bail!("--out: {} is a directory", path.display());
        }
    }

    let mut series = Vec::with_capacity(request.series.len());
    let mut rows = Vec::with_capacity(request.series.len());
    for spec in &request.series {
        let (one, arrivals) = load_series(spec, request.window)?;
        rows.push(Row::of(&one, arrivals));
        series.push(one);
    }
    let figure = Figure {
        title: request.title.clone(),
        window_s: request.window,
        series,
    };

    let svg = plot::svg(&figure)?;
    let png = plot::png(&figure)?;
    let mut outputs = Outputs::default();
    outputs.stage(&svg_path, svg.as_bytes())?;
    outputs.stage(&png_path, &png)?;
    outputs.commit()?;

    print_rows(&rows, request.window)?;
    outln!("wrote {} and {}", svg_path.display(), png_path.display());
    Ok(())
}

/// `PREFIX.svg` and `PREFIX.png`, or `trace-plot.*` inside an existing directory.
fn output_paths(out: &Path) -> (PathBuf, PathBuf) {
    let prefix = if out.is_dir() {
        out.join("trace-plot")
    } else {
        out.to_path_buf()
    };
    let with = |extension: &str| {
        let mut name = prefix.clone().into_os_string();
        name.push(".");
        name.push(extension);
        PathBuf::from(name)
    };
    (with("svg"), with("png"))
}

/// Loads one series and computes what the figure shows; also returns its arrival count.
fn load_series(spec: &SeriesSpec, window_s: f64) -> Result<(Series, usize)> {
    let first_file = &spec.trace.paths[0];
    let label = match &spec.label {
        Some(label) => label.clone(),
        None => first_file.file_name().map_or_else(
            || first_file.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        ),
    };
    let trace = spec.trace.load()?;

    // The plotted hours, moved so that the first of them starts at time 0.
    let (first, arrivals) = match spec.hours {
        Some((first, last)) => {
            let range = trace.hour_range(first, last);
            if range.is_empty() {
                bail!(
                    "{label}: no arrivals in hours {first}..{last} (the trace ends in hour {})",
                    Trace::hour_of(*trace.arrivals.last().unwrap_or(&0.0))
                );
            }
            (first, &trace.arrivals[range])
        }
        None => (0, &trace.arrivals[..]),
    };
    let shift = f64::from(first) * 3600.0;
    let shifted = Trace::new(arrivals.iter().map(|t| t - shift).collect());

    let series = Series {
        label,
        rate_per_minute: rate_per_minute(&shifted.arrivals, 0.0),
        hours: idc_per_hour(&shifted, window_s),
    };
    Ok((series, shifted.len()))
}

/// One line of the printed table.
struct Row {
    label: String,
    arrivals: usize,
    hours: usize,
    counts: Option<Spread>,
    intervals: Option<Spread>,
}

impl Row {
    fn of(series: &Series, arrivals: usize) -> Self {
        Self {
            label: series.label.clone(),
            arrivals,
            hours: series.hours.len(),
            counts: Spread::of(series.hours.iter().map(|h| h.counts)),
            intervals: Spread::of(series.hours.iter().map(|h| h.intervals)),
        }
    }
}

fn print_rows(rows: &[Row], window_s: f64) -> Result<()> {
    let width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0).max(6);
    outln!(
        "hourly index of dispersion: min / median / max over the hours \
         (count form in {window_s} s windows; interval form)"
    );
    outln!(
        "{:<width$} {:>11} {:>5}  {:>24}  {:>24}",
        "series",
        "arrivals",
        "hours",
        "counts",
        "intervals"
    );
    for row in rows {
        outln!(
            "{:<width$} {:>11} {:>5}  {:>24}  {:>24}",
            row.label,
            row.arrivals,
            row.hours,
            spread_cell(row.counts),
            spread_cell(row.intervals)
        );
    }
    Ok(())
}

/// `min / median / max` with two decimals, `-` when no hour had a value.
fn spread_cell(spread: Option<Spread>) -> String {
    match spread {
        Some(s) => format!("{:.2} / {:.2} / {:.2}", s.min, s.median, s.max),
        None => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_come_from_the_prefix_or_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (svg, png) = output_paths(dir.path());
        assert_eq!(svg, dir.path().join("trace-plot.svg"));
        assert_eq!(png, dir.path().join("trace-plot.png"));
        let (svg, png) = output_paths(Path::new("docs/azure"));
        assert_eq!(svg, Path::new("docs/azure.svg"));
        assert_eq!(png, Path::new("docs/azure.png"));
    }
}
