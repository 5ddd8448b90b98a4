//! The arguments of `deepbat trace plot`, grouped into series.
//!
//! Options describe the `--trace` they follow, the way a person reads the command line:
//! `--trace a.gz --format gaps --label A --trace b.txt --format per-second --hours 0..23`
//! gives two series, each with its own format. An option placed before the first `--trace`
//! applies to every series that does not set its own. clap parses the options as flat lists
//! ([`PlotArgs`]); the positions of their values on the command line then say which series
//! each value belongs to ([`PlotRequest`]).

use clap::error::ErrorKind;
use clap::{ArgAction, ArgMatches, Args, FromArgMatches};
use std::path::PathBuf;

use super::{TraceArgs, duration, hours};

/// The options as clap sees them; [`PlotRequest`] groups them.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLE)]
struct PlotArgs {
    /// Trace file(s) of one series, concatenated in the order given. Repeat `--trace` for
    /// more series. The options up to the next `--trace` belong to this series; options
    /// before the first `--trace` apply to all series.
    #[arg(
        long = "trace",
        value_name = "FILES",
        required = true,
        num_args = 1..,
        action = ArgAction::Append
    )]
    paths: Vec<PathBuf>,
    /// gaps, timestamps, azure-minute, per-second or csv (per series).
    #[arg(long)]
    format: Vec<String>,
    /// Legend name (per series; default: its first file's name).
    #[arg(long)]
    label: Vec<String>,
    /// Hours to plot, inclusive: A..B (per series; default: all). The time axis starts at
    /// hour A.
    #[arg(long, value_parser = hours)]
    hours: Vec<(u32, u32)>,
    /// azure-minute: one function by its HashFunction (per series; default: all summed).
    #[arg(long)]
    function: Vec<String>,
    /// csv: the timestamp column (per series).
    #[arg(long)]
    column: Vec<String>,
    /// csv: s, ms, us, ns or datetime (per series).
    #[arg(long)]
    unit: Vec<String>,
    /// Seed of the rule that spreads counted arrivals inside their minute or second.
    #[arg(long, default_value_t = 0)]
    spread_seed: u64,
    /// Window of the count form of the index of dispersion, e.g. 1s or 100ms.
    #[arg(long, default_value = "1s", value_parser = positive_duration)]
    window: f64,
    /// Title above the plots (default: none).
    #[arg(long)]
    title: Option<String>,
    /// Output prefix: writes PREFIX.svg and PREFIX.png; an existing directory gets
    /// DIR/trace-plot.svg and DIR/trace-plot.png.
    #[arg(long)]
    out: PathBuf,
}

const EXAMPLE: &str = "\
Example, two series on one figure (writes docs/traces.svg and docs/traces.png):
  deepbat trace plot \\
    --trace invocations.csv --format azure-minute --label 'Azure 2019' \\
    --trace workload.txt.gz --format per-second --hours 0..23 --label 'Twitter 2021' \\
    --out docs/traces";

/// One series: where its arrivals come from and how to show them.
#[derive(Debug)]
pub struct SeriesSpec {
    /// The files and how to read them.
    pub trace: TraceArgs,
    /// Legend name, if given.
    pub label: Option<String>,
    /// Hours to plot, inclusive, if not all.
    pub hours: Option<(u32, u32)>,
}

/// `deepbat trace plot`, its options grouped by series.
#[derive(Debug)]
pub struct PlotRequest {
    /// The series, in command-line order.
    pub series: Vec<SeriesSpec>,
    /// Window of the count form, seconds.
    pub window: f64,
    /// Title above the plots.
    pub title: Option<String>,
    /// Output prefix or directory.
    pub out: PathBuf,
}

impl FromArgMatches for PlotRequest {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let args = PlotArgs::from_arg_matches(matches)?;

        // The files of each `--trace`, and where each group starts on the command line:
        // the index of its first file.
        let paths: Vec<Vec<PathBuf>> = matches
            .get_occurrences::<PathBuf>("paths")
            .map(|groups| groups.map(|group| group.cloned().collect()).collect())
            .unwrap_or_default();
        let indices: Vec<usize> = matches
            .indices_of("paths")
            .map(Iterator::collect)
            .unwrap_or_default();
        let mut starts = Vec::with_capacity(paths.len());
        let mut at = 0;
        for group in &paths {
            starts.push(indices[at]);
            at += group.len();
        }

        let groups = Groups {
            matches,
            starts: &starts,
            paths: &paths,
        };
        let formats = groups.assign::<String>("format")?;
        let labels = groups.assign::<String>("label")?;
        let hours = groups.assign::<(u32, u32)>("hours")?;
        let functions = groups.assign::<String>("function")?;
        let columns = groups.assign::<String>("column")?;
        let units = groups.assign::<String>("unit")?;

        let mut series = Vec::with_capacity(paths.len());
        for (i, files) in paths.iter().enumerate() {
            let Some(format) = formats[i].clone() else {
                return Err(clap::Error::raw(
                    ErrorKind::MissingRequiredArgument,
                    format!(
                        "the series of --trace {} has no --format: give one after it, \
                         or once before the first --trace",
                        files[0].display()
                    ),
                ));
            };
            series.push(SeriesSpec {
                trace: TraceArgs {
                    paths: files.clone(),
                    format,
                    function: functions[i].clone(),
                    column: columns[i].clone(),
                    unit: units[i].clone(),
                    spread_seed: args.spread_seed,
                },
                label: labels[i].clone(),
                hours: hours[i],
            });
        }
        Ok(Self {
            series,
            window: args.window,
            title: args.title,
            out: args.out,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for PlotRequest {
    fn augment_args(command: clap::Command) -> clap::Command {
        PlotArgs::augment_args(command)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        PlotArgs::augment_args_for_update(command)
    }
}

/// The `--trace` groups of one command line.
struct Groups<'a> {
    matches: &'a ArgMatches,
    /// Command-line index of each group's first file, ascending.
    starts: &'a [usize],
    paths: &'a [Vec<PathBuf>],
}

impl Groups<'_> {
    /// The value of option `id` for each series: the one after its `--trace`, else the one
    /// before the first `--trace`, else none. Two values for one series are refused.
    fn assign<T: Clone + Send + Sync + 'static>(
        &self,
        id: &str,
    ) -> Result<Vec<Option<T>>, clap::Error> {
        let mut shared = None;
        let mut own: Vec<Option<T>> = vec![None; self.starts.len()];
        let (Some(values), Some(indices)) =
            (self.matches.get_many::<T>(id), self.matches.indices_of(id))
        else {
            return Ok(own);
        };
        for (value, index) in values.zip(indices) {
            let group = self.starts.partition_point(|&start| start < index);
            let slot = match group {
                0 => &mut shared,
                n => &mut own[n - 1],
            };
            if slot.is_some() {
                let whom = match group {
                    0 => "before the first --trace".to_string(),
                    n => format!("for --trace {}", self.paths[n - 1][0].display()),
                };
                return Err(clap::Error::raw(
                    ErrorKind::ArgumentConflict,
                    format!("--{id} is given twice {whom}"),
                ));
            }
            *slot = Some(value.clone());
        }
        Ok(own
            .into_iter()
            .map(|value| value.or_else(|| shared.clone()))
            .collect())
    }
}

fn positive_duration(text: &str) -> Result<f64, String> {
    match duration(text)? {
        value if value > 0.0 => Ok(value),
        _ => Err(format!("'{text}': the window must be longer than zero")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command, TraceCommand};
    use clap::Parser;

    fn parse(line: &str) -> Result<PlotRequest, clap::Error> {
        let words = ["deepbat", "trace", "plot"]
            .into_iter()
            .chain(line.split_whitespace());
        match Cli::try_parse_from(words)?.command {
            Command::Trace(TraceCommand::Plot(request)) => Ok(request),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn options_belong_to_the_trace_they_follow() {
        let request = parse(
            "--format gaps --label all --trace a b --label A \
             --trace c --format per-second --hours 0..23 --window 100ms --out x",
        )
        .unwrap();
        assert_eq!(request.series.len(), 2);
        let (first, second) = (&request.series[0], &request.series[1]);
        assert_eq!(first.trace.paths, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(first.trace.format, "gaps");
        assert_eq!(first.label.as_deref(), Some("A"));
        assert_eq!(first.hours, None);
        assert_eq!(second.trace.paths, [PathBuf::from("c")]);
        assert_eq!(second.trace.format, "per-second");
        assert_eq!(second.label.as_deref(), Some("all"));
        assert_eq!(second.hours, Some((0, 23)));
        assert_eq!(request.window, 0.1);
        assert_eq!(request.out, PathBuf::from("x"));
    }

    #[test]
    fn ambiguous_or_incomplete_series_are_refused() {
        let twice = parse("--trace a --format gaps --label A --label B --out x").unwrap_err();
        assert!(
            twice
                .to_string()
                .contains("--label is given twice for --trace a")
        );

        let no_format = parse("--trace a --format gaps --trace b --out x").unwrap_err();
        assert!(no_format.to_string().contains("--trace b has no --format"));

        let zero = parse("--trace a --format gaps --window 0s --out x").unwrap_err();
        assert!(zero.to_string().contains("longer than zero"), "{zero}");
    }
}
